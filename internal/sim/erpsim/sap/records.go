package sap

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// InvalidMaterial does not exist in the simulated system.
const InvalidMaterial = "NO-SUCH-ITEM"

type service struct {
	name, entitySet, refField, keyField string
	refMax                              int
	first                               int64 // first document number
	validate                            func(doc map[string]json.RawMessage) *opError
}

var services = map[string]*service{
	"API_SALES_ORDER_SRV": {name: "API_SALES_ORDER_SRV", entitySet: "A_SalesOrder", refField: "PurchaseOrderByCustomer",
		keyField: "SalesOrder", refMax: 35, first: 1000000, validate: salesDocument("SalesOrderType", "SalesOrderItem")},
	"API_CUSTOMER_RETURN_SRV": {name: "API_CUSTOMER_RETURN_SRV", entitySet: "A_CustomerReturn", refField: "PurchaseOrderByCustomer",
		keyField: "CustomerReturn", refMax: 35, first: 60000000, validate: salesDocument("CustomerReturnType", "CustomerReturnItem")},
	"API_MATERIAL_DOCUMENT_SRV": {name: "API_MATERIAL_DOCUMENT_SRV", entitySet: "A_MaterialDocumentHeader",
		refField: "MaterialDocumentHeaderText", keyField: "MaterialDocument", refMax: 25, first: 4900000000,
		validate: materialDocument},
}

// Record is one document the simulator created.
type Record struct {
	Service   string
	Key       string
	Reference string
	// NetAmount is, for sales documents, the sum over items of condition
	// rate × quantity ÷ pricing unit, computed exactly and written with
	// the currency's decimals ("" if it is not a whole number of them).
	NetAmount string
	Currency  string
	Payload   json.RawMessage
}

// Records returns the records of a service created with a reference.
func (s *Server) Records(service, ref string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, r := range s.records[service] {
		if r.Reference == ref {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// opError is a validation failure: the change set's single error answer.
type opError struct {
	status    int
	code, msg string
}

func invalid(code, format string, a ...any) *opError {
	return &opError{status: http.StatusBadRequest, code: code, msg: fmt.Sprintf(format, a...)}
}

// str reads a string property; OData V2 JSON carries every Edm.String,
// Edm.Decimal and Edm.DateTime as a JSON string.
func str(doc map[string]json.RawMessage, field string) (string, *opError) {
	raw, ok := doc[field]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", invalid("/IWBEP/CM_MGW_RT/020", "Property '%s' has invalid value '%s'", field, raw)
	}
	return v, nil
}

func required(doc map[string]json.RawMessage, fields ...string) *opError {
	for _, f := range fields {
		v, err := str(doc, f)
		if err != nil {
			return err
		}
		if v == "" {
			return invalid("V1/000", "Field %s is required", f)
		}
	}
	return nil
}

// decimal reads an Edm.Decimal: a JSON string holding a plain decimal.
func decimal(doc map[string]json.RawMessage, field string) (*big.Rat, *opError) {
	v, err := str(doc, field)
	if err != nil {
		return nil, err
	}
	r, ok := new(big.Rat).SetString(v)
	if v == "" || !ok || strings.ContainsAny(v, "eE/") {
		return nil, invalid("/IWBEP/CM_MGW_RT/020", "Property '%s' has invalid value '%s': an Edm.Decimal string is expected", field, v)
	}
	return r, nil
}

// navigation reads a deep-insert navigation property: an array, or the
// {"results":[…]} form.
func navigation(doc map[string]json.RawMessage, field string) ([]map[string]json.RawMessage, *opError) {
	raw, ok := doc[field]
	if !ok {
		return nil, nil
	}
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		var wrapped struct {
			Results []map[string]json.RawMessage `json:"results"`
		}
		if err := json.Unmarshal(raw, &wrapped); err != nil {
			return nil, invalid("/IWBEP/CM_MGW_RT/020", "Navigation property '%s' is malformed", field)
		}
		rows = wrapped.Results
	}
	return rows, nil
}

func material(it map[string]json.RawMessage) *opError {
	m, err := str(it, "Material")
	if err != nil {
		return err
	}
	switch {
	case m == "":
		return invalid("V1/000", "Field Material is required")
	case m == InvalidMaterial:
		return invalid("M3/305", "Material %s does not exist or is not activated", m)
	case len(m) > 40:
		return invalid("M3/305", "Material %s is longer than 40 characters", m)
	}
	return nil
}

// minorUnits are the decimals of the currencies the simulator prices in.
var minorUnits = map[string]int{"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "KWD": 3}

// salesDocument validates a sales order or a customer return and returns
// its exact net amount through the "_net" key it adds.
func salesDocument(typeField, itemField string) func(map[string]json.RawMessage) *opError {
	return func(doc map[string]json.RawMessage) *opError {
		if err := required(doc, typeField, "SalesOrganization", "DistributionChannel", "OrganizationDivision",
			"SoldToParty", "TransactionCurrency"); err != nil {
			return err
		}
		cur, _ := str(doc, "TransactionCurrency")
		exp, ok := minorUnits[cur]
		if !ok {
			return invalid("V1/000", "Currency %s is not defined", cur)
		}
		ref, err := str(doc, "PurchaseOrderByCustomer")
		if err != nil {
			return err
		}
		if len(ref) > 35 {
			return invalid("/IWBEP/CM_MGW_RT/020", "Property 'PurchaseOrderByCustomer' is longer than 35 characters")
		}
		items, err := navigation(doc, "to_Item")
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return invalid("V1/000", "Enter at least one item")
		}
		net := new(big.Rat)
		for _, it := range items {
			if err := material(it); err != nil {
				return err
			}
			if err := required(it, itemField, "RequestedQuantityUnit"); err != nil {
				return err
			}
			q, err := decimal(it, "RequestedQuantity")
			if err != nil {
				return err
			}
			if q.Sign() <= 0 {
				return invalid("V1/000", "Enter a positive order quantity")
			}
			prices, err := navigation(it, "to_PricingElement")
			if err != nil {
				return err
			}
			for _, p := range prices {
				if err := required(p, "ConditionType", "ConditionCurrency"); err != nil {
					return err
				}
				rate, err := decimal(p, "ConditionRateValue")
				if err != nil {
					return err
				}
				per, err := decimal(p, "ConditionQuantity")
				if err != nil {
					return err
				}
				// The pricing unit (KPEIN) is a whole number of at most five digits.
				if !per.IsInt() || per.Sign() <= 0 || per.Cmp(big.NewRat(99999, 1)) > 0 {
					return invalid("V1/000", "Pricing unit %s is not a whole number from 1 to 99999", per.RatString())
				}
				if c, _ := str(p, "ConditionCurrency"); c != cur {
					return invalid("V1/000", "Condition currency %s differs from document currency %s", c, cur)
				}
				net.Add(net, new(big.Rat).Quo(new(big.Rat).Mul(rate, q), per))
			}
		}
		doc["_net"], _ = json.Marshal(exact(net, exp))
		return nil
	}
}

// exact writes r with exp decimals, or "" when it has more.
func exact(r *big.Rat, exp int) string {
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil)))
	if !scaled.IsInt() {
		return ""
	}
	return r.FloatString(exp)
}

// movementCodes are the movement types allowed per GoodsMovementCode in
// the simulated system (a subset of table T158B/T158G).
var movementCodes = map[string][]string{
	"01": {"101", "102"},
	"03": {"201", "202", "261", "262", "551", "552", "555", "556"},
	"04": {"301", "302", "303", "304", "305", "306", "311", "312", "313", "314", "315", "316"},
	"05": {"501", "502", "521", "522", "561", "562"},
}

func materialDocument(doc map[string]json.RawMessage) *opError {
	if err := required(doc, "GoodsMovementCode", "PostingDate", "MaterialDocumentHeaderText"); err != nil {
		return err
	}
	code, _ := str(doc, "GoodsMovementCode")
	allowed, ok := movementCodes[code]
	if !ok {
		return invalid("M7/000", "Goods movement code %s is not supported", code)
	}
	if text, _ := str(doc, "MaterialDocumentHeaderText"); len(text) > 25 {
		return invalid("/IWBEP/CM_MGW_RT/020", "Property 'MaterialDocumentHeaderText' is longer than 25 characters")
	}
	if d, _ := str(doc, "PostingDate"); !strings.HasPrefix(d, "/Date(") && !strings.Contains(d, "T") {
		return invalid("/IWBEP/CM_MGW_RT/020", "Property 'PostingDate' has invalid value '%s'", d)
	}
	items, err := navigation(doc, "to_MaterialDocumentItem")
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return invalid("M7/000", "No items were transferred")
	}
	for _, it := range items {
		if err := material(it); err != nil {
			return err
		}
		if err := required(it, "Plant", "GoodsMovementType", "EntryUnit"); err != nil {
			return err
		}
		mt, _ := str(it, "GoodsMovementType")
		if !contains(allowed, mt) {
			return invalid("M7/162", "Movement type %s is not allowed with goods movement code %s", mt, code)
		}
		if strings.HasPrefix(mt, "30") || strings.HasPrefix(mt, "31") {
			if err := required(it, "IssuingOrReceivingPlant"); err != nil {
				return err
			}
		}
		q, err := decimal(it, "QuantityInEntryUnit")
		if err != nil {
			return err
		}
		if q.Sign() <= 0 {
			return invalid("M7/000", "Enter a positive quantity")
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// query answers GET <EntitySet>?$filter=<ref> eq '…' or … with the
// records carrying those references.
func (s *Server) query(svc *service, q url.Values) (int, []byte) {
	refs, err := parseFilter(q.Get("$filter"), svc)
	if err != nil {
		return err.status, odataError(err.code, err.msg)
	}
	top := -1
	if t := q.Get("$top"); t != "" {
		n, convErr := strconv.Atoi(t)
		if convErr != nil || n < 0 {
			return http.StatusBadRequest, odataError("/IWBEP/CM_MGW_RT/020", "Invalid $top "+t)
		}
		top = n
	}
	s.mu.Lock()
	var rows []map[string]any
	for _, r := range s.records[svc.name] {
		if refs == nil || refs[r.Reference] || refs["\x00key:"+r.Key] {
			rows = append(rows, map[string]any{
				"__metadata":  map[string]string{"type": svc.name + "." + svc.entitySet + "Type"},
				svc.keyField:  r.Key,
				svc.refField:  r.Reference,
				"TotalAmount": r.NetAmount,
			})
		}
	}
	s.mu.Unlock()
	sort.Slice(rows, func(i, j int) bool { return rows[i][svc.keyField].(string) < rows[j][svc.keyField].(string) })
	if top >= 0 && len(rows) > top {
		rows = rows[:top]
	}
	if rows == nil {
		rows = []map[string]any{}
	}
	b, _ := json.Marshal(map[string]any{"d": map[string]any{"results": rows}})
	return http.StatusOK, b
}

// parseFilter reads `Field eq 'value' [or Field eq 'value' …]` on the
// reference or key field; nil means no filter.
func parseFilter(f string, svc *service) (map[string]bool, *opError) {
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	bad := func(why string) *opError {
		return invalid("/IWBEP/CM_MGW_RT/022", "Invalid filter expression '%s': %s", f, why)
	}
	out := map[string]bool{}
	rest := strings.TrimSpace(f)
	for {
		field, after, ok := strings.Cut(rest, " ")
		if !ok {
			return nil, bad("incomplete")
		}
		if field != svc.refField && field != svc.keyField {
			return nil, invalid("/IWBEP/CM_MGW_RT/022", "Property %s is not filterable in this simulator", field)
		}
		after = strings.TrimLeft(after, " ")
		after, ok = strings.CutPrefix(after, "eq ")
		if !ok {
			return nil, bad("only eq is supported")
		}
		after = strings.TrimLeft(after, " ")
		if !strings.HasPrefix(after, "'") {
			return nil, bad("a quoted literal is expected")
		}
		var lit strings.Builder
		i := 1
		for ; i < len(after); i++ {
			if after[i] == '\'' {
				if i+1 < len(after) && after[i+1] == '\'' {
					lit.WriteByte('\'')
					i++
					continue
				}
				break
			}
			lit.WriteByte(after[i])
		}
		if i >= len(after) {
			return nil, bad("unterminated literal")
		}
		if field == svc.refField {
			out[lit.String()] = true
		} else {
			out["\x00key:"+lit.String()] = true
		}
		rest = strings.TrimSpace(after[i+1:])
		if rest == "" {
			return out, nil
		}
		rest, ok = strings.CutPrefix(rest, "or ")
		if !ok {
			return nil, bad("only or joins terms")
		}
		rest = strings.TrimSpace(rest)
	}
}
