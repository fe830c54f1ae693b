package shopifyadmin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// operation is a classified request: its requested cost, the mutation it
// is (for hooks), and how to run it under the lock. run returns the data,
// top-level errors and the actual cost.
type operation struct {
	cost     float64
	mutation *Mutation
	run      func(s *Server, version int, req *gqlRequest) (any, []gqlError, float64)
}

// Costs of the operations (see the package documentation).
const (
	mutationCost = 10
	levelCost    = 3 // inventoryItem + inventoryLevel + quantities
	variantCost  = 2 // variant + its inventoryItem
	connBase     = 2
	maxInputSize = 250 // "Input arguments that accept an array have a maximum size of 250"
	maxQuantity  = 1_000_000_000
)

var shopRE = regexp.MustCompile(`\bshop\s*\{`)

func classify(req *gqlRequest) (*operation, error) {
	q := req.Query
	switch {
	case strings.Contains(q, "inventorySetQuantities("):
		return mutationOp(req, "inventorySetQuantities", "quantities", runSet)
	case strings.Contains(q, "inventoryAdjustQuantities("):
		return mutationOp(req, "inventoryAdjustQuantities", "changes", runAdjust)
	case strings.Contains(q, "productVariants("):
		var first int
		if err := json.Unmarshal(req.Variables["first"], &first); err != nil || first < 1 || first > 250 {
			return nil, errors.New("productVariants needs variable first between 1 and 250")
		}
		return &operation{cost: connBase + variantCost*float64(first), run: runLookup}, nil
	case strings.Contains(q, "inventoryItem("):
		n := len(levelPairs(req))
		if n == 0 {
			return nil, errors.New("inventoryItem reads need variables item0, location0, …")
		}
		return &operation{cost: levelCost * float64(n), run: runRead}, nil
	case shopRE.MatchString(q):
		return &operation{cost: 1, run: func(s *Server, _ int, _ *gqlRequest) (any, []gqlError, float64) {
			return map[string]any{"shop": map[string]any{"id": "gid://shopify/Shop/1"}}, nil, 1
		}}, nil
	}
	return nil, errors.New("sim: the query names no operation this simulator implements")
}

type runFunc func(s *Server, version int, req *gqlRequest, in *mutationInput) (any, []gqlError, float64)

// mutationInput is an inventory mutation's input variable: entries are the
// quantities (set) or changes (adjust), kept raw so a field's absence and
// an explicit null differ.
type mutationInput struct {
	field   string
	raw     map[string]json.RawMessage
	entries []map[string]json.RawMessage
	name    string
	reason  string
	refDoc  *string
}

func mutationOp(req *gqlRequest, field, list string, run runFunc) (*operation, error) {
	in := &mutationInput{field: field}
	if err := json.Unmarshal(req.Variables["input"], &in.raw); err != nil {
		return nil, fmt.Errorf("%s needs variable input: %w", field, err)
	}
	if err := json.Unmarshal(in.raw[list], &in.entries); err != nil {
		return nil, fmt.Errorf("%s input.%s: %w", field, list, err)
	}
	_ = json.Unmarshal(in.raw["name"], &in.name)
	_ = json.Unmarshal(in.raw["reason"], &in.reason)
	if r, ok := in.raw["referenceDocumentUri"]; ok && string(r) != "null" {
		var s string
		_ = json.Unmarshal(r, &s)
		in.refDoc = &s
	}
	m := &Mutation{Field: field}
	for _, e := range in.entries {
		m.Items = append(m.Items, str(e["inventoryItemId"]))
		m.Locations = append(m.Locations, str(e["locationId"]))
	}
	return &operation{cost: mutationCost, mutation: m, run: func(s *Server, version int, req *gqlRequest) (any, []gqlError, float64) {
		return run(s, version, req, in)
	}}, nil
}

func str(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

type userError struct {
	Code    string   `json:"code"`
	Field   []string `json:"field"`
	Message string   `json:"message"`
}

func invalidVariable(msg string) []gqlError {
	return []gqlError{{Message: msg, Extensions: map[string]any{"code": "INVALID_VARIABLE"}}}
}

var reasons = map[string]bool{
	"correction": true, "cycle_count_available": true, "damaged": true, "movement_created": true,
	"movement_updated": true, "movement_received": true, "movement_canceled": true, "other": true,
	"promotion": true, "quality_control": true, "received": true, "reservation_created": true,
	"reservation_deleted": true, "reservation_updated": true, "restock": true, "safety_stock": true,
	"shrinkage": true,
}

// check validates what both mutations share and returns top-level errors
// (the request is malformed) or user errors (it is refused).
func (s *Server) checkInput(version int, in *mutationInput, list string) ([]gqlError, []userError) {
	if len(in.entries) > maxInputSize {
		return []gqlError{{Message: fmt.Sprintf("The input array size of %d is greater than the maximum allowed of %d.", len(in.entries), maxInputSize),
			Extensions: map[string]any{"code": "MAX_INPUT_SIZE_EXCEEDED"}}}, nil
	}
	if version >= v202604 {
		if _, ok := in.raw["ignoreCompareQuantity"]; ok {
			return invalidVariable("Variable $input: Field is not defined on " + in.field + " input: ignoreCompareQuantity"), nil
		}
	}
	var ues []userError
	if in.name != "available" {
		ues = append(ues, userError{"INVALID_NAME", []string{"input", "name"}, "the simulator keeps the 'available' quantity only"})
	}
	if !reasons[in.reason] {
		ues = append(ues, userError{"INVALID_REASON", []string{"input", "reason"}, "The specified reason is invalid."})
	}
	if in.refDoc != nil && !strings.Contains(*in.refDoc, ":") {
		ues = append(ues, userError{"INVALID_REFERENCE_DOCUMENT", []string{"input", "referenceDocumentUri"}, "The specified reference document is invalid."})
	}
	seen := map[levelKey]bool{}
	for i, e := range in.entries {
		idx := strconv.Itoa(i)
		for _, f := range []string{"compareQuantity", "changeFromQuantity"} {
			_, has := e[f]
			removed := (f == "compareQuantity" && version >= v202604) || (f == "changeFromQuantity" && version < v202601)
			if has && removed {
				return invalidVariable(fmt.Sprintf("Variable $input: Field is not defined on the %s entry at %s.%s: %s", in.field, list, idx, f)), nil
			}
		}
		if _, has := e["changeFromQuantity"]; !has && version >= v202604 {
			return invalidVariable(fmt.Sprintf("Variable $input: %s.%s.changeFromQuantity is required; pass null to opt out of the check", list, idx)), nil
		}
		k := levelKey{str(e["inventoryItemId"]), str(e["locationId"])}
		switch {
		case !s.items[k.item]:
			ues = append(ues, userError{"INVALID_INVENTORY_ITEM", []string{"input", list, idx, "inventoryItemId"}, "The specified inventory item could not be found."})
		case !s.locations[k.location]:
			ues = append(ues, userError{"INVALID_LOCATION", []string{"input", list, idx, "locationId"}, "The specified location could not be found."})
		case seen[k]:
			ues = append(ues, userError{"NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", []string{"input", list, idx}, "The combination of inventoryItemId and locationId must be unique."})
		default:
			if _, ok := s.levels[k]; !ok {
				ues = append(ues, userError{"ITEM_NOT_STOCKED_AT_LOCATION", []string{"input", list, idx, "locationId"}, "The specified inventory item is not stocked at the location."})
			}
		}
		seen[k] = true
	}
	return nil, ues
}

// compare is a quantity's compare-and-set check: the field it came from and
// the expected value (nil: no check).
type compare struct {
	field string
	want  *int64
}

// compareOf reads an entry's check by the version's rules. ok is false when
// a required compareQuantity is missing (before 2026-04).
func compareOf(version int, ignore bool, e map[string]json.RawMessage) (c compare, ok bool) {
	if raw, has := e["changeFromQuantity"]; has && version >= v202601 {
		c.field = "changeFromQuantity"
		if string(raw) != "null" {
			var v int64
			_ = json.Unmarshal(raw, &v)
			c.want = &v
		}
		return c, true
	}
	c.field = "compareQuantity"
	if ignore {
		return c, true
	}
	raw, has := e["compareQuantity"]
	if !has || string(raw) == "null" {
		return c, false
	}
	var v int64
	_ = json.Unmarshal(raw, &v)
	c.want = &v
	return c, true
}

func staleCode(field string) string {
	if field == "changeFromQuantity" {
		return "CHANGE_FROM_QUANTITY_STALE"
	}
	return "COMPARE_QUANTITY_STALE"
}

// idempotency handles the @idempotent directive: done is true when the
// request was answered from the key's record (or refused because of it).
func (s *Server) idempotency(version int, req *gqlRequest, in *mutationInput, payload func([]userError, any) any) (key string, data any, errs []gqlError, done bool) {
	key, has, err := idempotencyKey(req)
	if err != nil {
		return "", nil, invalidVariable(err.Error()), true
	}
	if has && version < v202601 {
		return "", nil, []gqlError{{Message: "Directive 'idempotent' is not defined", Extensions: map[string]any{"code": "undefinedDirective"}}}, true
	}
	if !has {
		if in.field == "inventoryAdjustQuantities" && version >= v202604 {
			return "", nil, []gqlError{{Message: "inventoryAdjustQuantities requires an idempotency key: add @idempotent(key: ...)",
				Extensions: map[string]any{"code": "IDEMPOTENCY_KEY_REQUIRED"}}}, true
		}
		return "", nil, nil, false
	}
	canon, _ := json.Marshal(in.raw)
	sum := sha256.Sum256(append([]byte(in.field+"\x00"), canon...))
	fp := hex.EncodeToString(sum[:])
	e, seen := s.idem[key]
	switch {
	case !seen:
		return key, nil, nil, false
	case e.fingerprint != fp:
		s.stats.UserErrors++
		return key, payload([]userError{{"IDEMPOTENCY_KEY_PARAMETER_MISMATCH", nil, "The same idempotency key cannot be used with different operation parameters."}}, nil), nil, true
	case e.failed:
		s.stats.UserErrors++
		return key, payload([]userError{{"IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED", nil, "A previous request with this idempotency key failed. Retry with a new idempotency key."}}, nil), nil, true
	}
	s.stats.Replays++
	return key, e.data, nil, true
}

func (s *Server) remember(in *mutationInput, key string, data any, failed bool) {
	if key == "" {
		return
	}
	canon, _ := json.Marshal(in.raw)
	sum := sha256.Sum256(append([]byte(in.field+"\x00"), canon...))
	s.idem[key] = idemEntry{fingerprint: hex.EncodeToString(sum[:]), data: data, failed: failed}
}

func payloadOf(field string) func([]userError, any) any {
	return func(ues []userError, group any) any {
		if ues == nil {
			ues = []userError{}
		}
		return map[string]any{field: map[string]any{"userErrors": ues, "inventoryAdjustmentGroup": group}}
	}
}

func runSet(s *Server, version int, req *gqlRequest, in *mutationInput) (any, []gqlError, float64) {
	s.stats.Mutations++
	payload := payloadOf(in.field)
	key, data, errs, done := s.idempotency(version, req, in, payload)
	if done {
		return data, errs, mutationCost
	}
	if errs, ues := s.checkInput(version, in, "quantities"); errs != nil {
		return nil, errs, 0
	} else if len(ues) > 0 {
		return s.refuse(in, key, payload, ues)
	}
	var ignore bool
	_ = json.Unmarshal(in.raw["ignoreCompareQuantity"], &ignore)
	type write struct {
		k   levelKey
		qty int64
	}
	var ues []userError
	writes := make([]write, 0, len(in.entries))
	for i, e := range in.entries {
		idx := strconv.Itoa(i)
		var qty int64
		if err := json.Unmarshal(e["quantity"], &qty); err != nil {
			return nil, invalidVariable(fmt.Sprintf("Variable $input: quantities.%s.quantity must be an integer", idx)), 0
		}
		k := levelKey{str(e["inventoryItemId"]), str(e["locationId"])}
		switch c, ok := compareOf(version, ignore, e); {
		case qty < 0:
			ues = append(ues, userError{"INVALID_QUANTITY_NEGATIVE", []string{"input", "quantities", idx, "quantity"}, "The quantity can't be negative."})
		case qty > maxQuantity:
			ues = append(ues, userError{"INVALID_QUANTITY_TOO_HIGH", []string{"input", "quantities", idx, "quantity"}, "The total quantity can't be higher than 1,000,000,000."})
		case !ok:
			ues = append(ues, userError{"COMPARE_QUANTITY_REQUIRED", []string{"input", "quantities", idx, "compareQuantity"},
				"The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity."})
		case c.want != nil && *c.want != s.levels[k]:
			s.stats.StaleCompares++
			ues = append(ues, userError{staleCode(c.field), []string{"input", "quantities", idx, c.field},
				fmt.Sprintf("The %s value does not match persisted value.", c.field)})
		}
		writes = append(writes, write{k, qty})
	}
	if len(ues) > 0 {
		return s.refuse(in, key, payload, ues)
	}
	for _, w := range writes {
		s.applyLocked(w.k, w.qty, w.qty-s.levels[w.k], "set")
	}
	s.stats.QuantitySets += int64(len(writes))
	s.stats.MaxBatch = max(s.stats.MaxBatch, len(writes))
	data = payload(nil, map[string]any{"id": s.gid("InventoryAdjustmentGroup")})
	s.remember(in, key, data, false)
	return data, nil, mutationCost
}

func runAdjust(s *Server, version int, req *gqlRequest, in *mutationInput) (any, []gqlError, float64) {
	s.stats.Mutations++
	payload := payloadOf(in.field)
	key, data, errs, done := s.idempotency(version, req, in, payload)
	if done {
		return data, errs, mutationCost
	}
	if errs, ues := s.checkInput(version, in, "changes"); errs != nil {
		return nil, errs, 0
	} else if len(ues) > 0 {
		return s.refuse(in, key, payload, ues)
	}
	type change struct {
		k     levelKey
		delta int64
	}
	var ues []userError
	changes := make([]change, 0, len(in.entries))
	for i, e := range in.entries {
		idx := strconv.Itoa(i)
		var delta int64
		if err := json.Unmarshal(e["delta"], &delta); err != nil {
			return nil, invalidVariable(fmt.Sprintf("Variable $input: changes.%s.delta must be an integer", idx)), 0
		}
		k := levelKey{str(e["inventoryItemId"]), str(e["locationId"])}
		if c, _ := compareOf(version, true, e); c.want != nil && *c.want != s.levels[k] {
			s.stats.StaleCompares++
			ues = append(ues, userError{"CHANGE_FROM_QUANTITY_STALE", []string{"input", "changes", idx, "changeFromQuantity"},
				"The changeFromQuantity value does not match persisted value."})
		}
		if q := s.levels[k] + delta; q > maxQuantity || q < -maxQuantity {
			ues = append(ues, userError{"INVALID_QUANTITY_TOO_HIGH", []string{"input", "changes", idx, "delta"}, "The total quantity is out of range."})
		}
		changes = append(changes, change{k, delta})
	}
	if len(ues) > 0 {
		return s.refuse(in, key, payload, ues)
	}
	for _, c := range changes {
		s.applyLocked(c.k, s.levels[c.k]+c.delta, c.delta, "adjust")
	}
	s.stats.Adjustments += int64(len(changes))
	s.stats.MaxBatch = max(s.stats.MaxBatch, len(changes))
	data = payload(nil, map[string]any{"id": s.gid("InventoryAdjustmentGroup")})
	s.remember(in, key, data, false)
	return data, nil, mutationCost
}

func (s *Server) refuse(in *mutationInput, key string, payload func([]userError, any) any, ues []userError) (any, []gqlError, float64) {
	s.stats.UserErrors += int64(len(ues))
	data := payload(ues, nil)
	s.remember(in, key, data, true)
	return data, nil, mutationCost
}

// levelPairs returns the (item, location) variables of a level read, in
// alias order.
func levelPairs(req *gqlRequest) [][2]string {
	var out [][2]string
	for i := 0; ; i++ {
		item, ok1 := req.Variables["item"+strconv.Itoa(i)]
		loc, ok2 := req.Variables["location"+strconv.Itoa(i)]
		if !ok1 || !ok2 {
			return out
		}
		out = append(out, [2]string{str(item), str(loc)})
	}
}

func runRead(s *Server, _ int, req *gqlRequest) (any, []gqlError, float64) {
	s.stats.Reads++
	data := map[string]any{}
	var actual float64
	for i, p := range levelPairs(req) {
		alias := "l" + strconv.Itoa(i)
		if !s.items[p[0]] {
			data[alias] = nil
			actual++
			continue
		}
		q, ok := s.levels[levelKey{p[0], p[1]}]
		if !ok {
			data[alias] = map[string]any{"id": p[0], "inventoryLevel": nil}
			actual += 2
			continue
		}
		data[alias] = map[string]any{"id": p[0], "inventoryLevel": map[string]any{
			"quantities": []map[string]any{{"name": "available", "quantity": q}},
		}}
		actual += levelCost
	}
	return data, nil, actual
}

var skuTermRE = regexp.MustCompile(`^sku:(?:"((?:[^"\\]|\\.)*)"|(\S+))$`)

// parseSKUQuery reads "sku:A OR sku:\"B C\"".
func parseSKUQuery(q string) (map[string]bool, error) {
	skus := map[string]bool{}
	for _, term := range regexp.MustCompile(`\s+OR\s+`).Split(strings.TrimSpace(q), -1) {
		m := skuTermRE.FindStringSubmatch(term)
		if m == nil {
			return nil, fmt.Errorf("the simulator understands only sku:<value> terms joined by OR, not %q", term)
		}
		if m[2] != "" {
			skus[m[2]] = true
		} else {
			skus[strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(m[1])] = true
		}
	}
	return skus, nil
}

func runLookup(s *Server, _ int, req *gqlRequest) (any, []gqlError, float64) {
	s.stats.Lookups++
	var q string
	var first int
	_ = json.Unmarshal(req.Variables["query"], &q)
	_ = json.Unmarshal(req.Variables["first"], &first)
	skus, err := parseSKUQuery(q)
	if err != nil {
		return nil, invalidVariable(err.Error()), connBase
	}
	nodes := []map[string]any{}
	for _, v := range s.variants {
		if len(nodes) == first {
			break
		}
		if skus[v.sku] {
			nodes = append(nodes, map[string]any{"id": v.id, "sku": v.sku, "inventoryItem": map[string]any{"id": v.item}})
		}
	}
	return map[string]any{"productVariants": map[string]any{"nodes": nodes}}, nil, connBase + variantCost*float64(len(nodes))
}
