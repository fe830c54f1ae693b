// Package erpnext simulates the part of the Frappe REST API that tillsync's
// ERPNext connector uses, with ERPNext's document rules as far as the
// connector meets them:
//
//   - "Authorization: token api_key:api_secret", else 401
//     AuthenticationError;
//   - GET /api/resource/{DocType} with filters (a JSON list of
//     [field, operator, value], operators "=" and "in"), fields and
//     limit_page_length (default 20, 0 for all), answering {"data": […]};
//   - POST /api/resource/{DocType} (one document, answering {"data": doc})
//     and POST /api/method/frappe.client.insert_many {"docs": […]} (at most
//     200, one transaction: the first refused document rolls back the
//     others; answering {"message": [names]});
//   - GET /api/method/frappe.auth.get_logged_user;
//   - errors with the exception's status and Frappe's body (exc_type,
//     exception, _server_messages): 417 ValidationError and its subclasses
//     (LinkValidationError for an unknown item — every item exists except
//     "NO-SUCH-ITEM" —, MandatoryError, UniqueValidationError), 404
//     DoesNotExistError, 429 TooManyRequestsError with Retry-After.
//
// The tillsync_id custom field is Unique, as the connector's setup asks:
// a second document with the same reference is refused with
// UniqueValidationError. SetUniqueRef(false) simulates a site where the
// box was not ticked: then a client that inserts twice gets two documents,
// and erpsim counts the duplicate.
//
// References: https://docs.frappe.io/framework/user/en/api/rest,
// frappe/client.py (insert_many), frappe/exceptions.py,
// frappe/utils/response.py (report_error).
package erpnext

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/tillsync/tillsync/internal/sim/erpsim"
)

// InvalidSKU is an item code no Item has.
const InvalidSKU = "NO-SUCH-ITEM"

// RefField is the unique custom field documents are counted by.
const RefField = "tillsync_id"

// Credentials are the API key and secret the site accepts.
type Credentials struct {
	APIKey, APISecret string
}

// DefaultCredentials are the simulator's usual credentials.
func DefaultCredentials() Credentials {
	return Credentials{APIKey: "5f0c4a1d2e3b4c5", APISecret: "9a8b7c6d5e4f3a2"} //nolint:gosec // G101: the simulator's published test credentials
}

// Server is a simulated ERPNext site; it is an http.Handler.
type Server struct {
	sim   *erpsim.Sim
	creds Credentials
	mux   *http.ServeMux

	mu       sync.Mutex
	unique   bool
	docs     map[string][]map[string]any // DocType → documents, in insertion order
	counters map[string]int
}

// New returns a simulated ERPNext site.
func New(opt erpsim.Options, creds Credentials) *Server {
	s := &Server{sim: erpsim.New(opt), creds: creds, mux: http.NewServeMux(), unique: true,
		docs: map[string][]map[string]any{}, counters: map[string]int{}}
	s.mux.Handle("GET /_sim/stats", s.sim.StatsHandler())
	s.mux.HandleFunc("GET /api/method/frappe.auth.get_logged_user", s.guard(s.loggedUser))
	s.mux.HandleFunc("POST /api/method/frappe.client.insert_many", s.guard(s.insertMany))
	s.mux.HandleFunc("GET /api/resource/{doctype}", s.guard(s.list))
	s.mux.HandleFunc("POST /api/resource/{doctype}", s.guard(s.insertOne))
	return s
}

// Sim returns the simulator core (faults, stats).
func (s *Server) Sim() *erpsim.Sim { return s.sim }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetUniqueRef says whether tillsync_id is a unique field (the default).
func (s *Server) SetUniqueRef(on bool) {
	s.mu.Lock()
	s.unique = on
	s.mu.Unlock()
}

// Doc returns a copy of the first document of a DocType with a reference.
func (s *Server) Doc(doctype, ref string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.docs[doctype] {
		if d[RefField] == ref {
			out := make(map[string]any, len(d))
			for k, v := range d {
				out[k] = v
			}
			return out, true
		}
	}
	return nil, false
}

// writeError answers like frappe's report_error for API v1.
func writeError(w http.ResponseWriter, status int, excType, msg string) {
	inner, _ := json.Marshal(map[string]any{"message": msg, "title": "Message", "indicator": "red", "raise_exception": 1})
	outer, _ := json.Marshal([]string{string(inner)})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"exc_type":         excType,
		"exception":        "frappe.exceptions." + excType + ": " + msg,
		"_server_messages": string(outer),
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// refusal is a document-level error: Frappe's exception class and status.
type refusal struct {
	status  int
	excType string
	msg     string
}

func (e *refusal) Error() string { return e.excType + ": " + e.msg }

func validation(excType, format string, args ...any) *refusal {
	return &refusal{http.StatusExpectationFailed, excType, fmt.Sprintf(format, args...)}
}

// guard applies erpsim's faults and limits, then the token check.
func (s *Server) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		outcome, end := s.sim.Begin(w, r)
		switch outcome {
		case erpsim.Failed:
			return
		case erpsim.Throttled:
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, "TooManyRequestsError", "Too Many Requests: retry later")
			return
		case erpsim.Invalid:
			writeError(w, http.StatusExpectationFailed, "ValidationError", "injected validation error")
			return
		}
		defer end()
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		key, secret, _ := strings.Cut(token, ":")
		if !strings.EqualFold(scheme, "token") || key != s.creds.APIKey || secret != s.creds.APISecret || key == "" {
			s.sim.Reject("auth")
			writeError(w, http.StatusUnauthorized, "AuthenticationError", "Invalid API key or secret")
			return
		}
		h(w, r)
	}
}

func (s *Server) loggedUser(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{"message": "tillsync@example.com"})
}

type filter struct {
	field, op string
	value     any
}

func (f filter) match(v any) bool {
	if f.op == "=" {
		return fmt.Sprint(v) == fmt.Sprint(f.value)
	}
	list, _ := f.value.([]any)
	for _, x := range list {
		if fmt.Sprint(v) == fmt.Sprint(x) {
			return true
		}
	}
	return false
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	doctype := r.PathValue("doctype")
	q := r.URL.Query()
	var raw []any
	if f := q.Get("filters"); f != "" {
		if err := json.Unmarshal([]byte(f), &raw); err != nil {
			writeError(w, http.StatusExpectationFailed, "ValidationError", "filters must be a JSON list: "+err.Error())
			return
		}
	}
	var filters []filter
	for _, t := range raw {
		parts, _ := t.([]any)
		if len(parts) == 4 { // [doctype, field, op, value]
			parts = parts[1:]
		}
		if len(parts) != 3 {
			writeError(w, http.StatusExpectationFailed, "ValidationError", fmt.Sprintf("invalid filter %v", t))
			return
		}
		op := fmt.Sprint(parts[1])
		if op != "=" && op != "in" {
			writeError(w, http.StatusExpectationFailed, "ValidationError", "operator "+op+" is not simulated")
			return
		}
		filters = append(filters, filter{fmt.Sprint(parts[0]), op, parts[2]})
	}
	fields := []string{"name"}
	if f := q.Get("fields"); f != "" {
		if err := json.Unmarshal([]byte(f), &fields); err != nil {
			writeError(w, http.StatusExpectationFailed, "ValidationError", "fields must be a JSON list: "+err.Error())
			return
		}
	}
	limit := 20
	if l := q.Get("limit_page_length"); l != "" {
		limit, _ = strconv.Atoi(l)
	}
	s.mu.Lock()
	rows := s.docs[doctype]
	if doctype == "Warehouse" { // every warehouse asked for exists
		rows = nil
		for _, f := range filters {
			if f.field == "name" {
				vals, _ := f.value.([]any)
				for _, v := range vals {
					rows = append(rows, map[string]any{"name": v})
				}
			}
		}
	} else if prefix[doctype] == "" {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "DoesNotExistError", "DocType "+doctype+" not found")
		return
	}
	data := []map[string]any{}
	for _, d := range rows {
		ok := true
		for _, f := range filters {
			ok = ok && f.match(d[f.field])
		}
		if !ok {
			continue
		}
		row := map[string]any{}
		for _, f := range fields {
			row[f] = d[f]
		}
		data = append(data, row)
		if limit > 0 && len(data) == limit {
			break
		}
	}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"data": data})
}

// prefix is the naming series of each simulated DocType.
var prefix = map[string]string{
	"Sales Invoice": "ACC-SINV-2026-", "Sales Order": "SAL-ORD-2026-", "Delivery Note": "MAT-DN-2026-",
	"Stock Entry": "MAT-STE-2026-", "Stock Reconciliation": "MAT-RECO-2026-", "Journal Entry": "ACC-JV-2026-",
}

func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<20))
	dec.UseNumber()
	return dec.Decode(v)
}

func (s *Server) insertOne(w http.ResponseWriter, r *http.Request) {
	var doc map[string]any
	if err := decode(w, r, &doc); err != nil {
		writeError(w, http.StatusExpectationFailed, "ValidationError", "the body is not a JSON document: "+err.Error())
		return
	}
	doc["doctype"] = r.PathValue("doctype")
	s.mu.Lock()
	if err := s.validateLocked(doc, nil); err != nil {
		s.mu.Unlock()
		s.refuse(w, err)
		return
	}
	s.storeLocked(doc)
	s.mu.Unlock()
	s.created(doc)
	if s.sim.Committed(w) {
		return
	}
	writeJSON(w, map[string]any{"data": doc})
}

func (s *Server) refuse(w http.ResponseWriter, err *refusal) {
	s.sim.Reject("validation")
	writeError(w, err.status, err.excType, err.msg)
}

func (s *Server) insertMany(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Docs json.RawMessage `json:"docs"`
	}
	if err := decode(w, r, &body); err != nil {
		writeError(w, http.StatusExpectationFailed, "ValidationError", "the body is not JSON: "+err.Error())
		return
	}
	var docs []map[string]any
	raw := body.Docs
	var asString string
	if json.Unmarshal(raw, &asString) == nil { // docs sent as a JSON string (form style)
		raw = json.RawMessage(asString)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&docs); err != nil {
		writeError(w, http.StatusExpectationFailed, "ValidationError", "docs must be a list of documents: "+err.Error())
		return
	}
	if len(docs) > 200 {
		writeError(w, http.StatusExpectationFailed, "ValidationError", "Only 200 inserts allowed in one request")
		return
	}
	s.mu.Lock()
	// One transaction: validate everything (the batch's own references
	// included) before storing anything.
	batch := map[string]bool{}
	for _, d := range docs {
		if err := s.validateLocked(d, batch); err != nil {
			s.mu.Unlock()
			s.refuse(w, err)
			return
		}
		batch[fmt.Sprint(d["doctype"])+"/"+fmt.Sprint(d[RefField])] = true
	}
	names := make([]string, len(docs))
	for i, d := range docs {
		names[i] = s.storeLocked(d)
	}
	s.mu.Unlock()
	for _, d := range docs {
		s.created(d)
	}
	if s.sim.Committed(w) {
		return
	}
	writeJSON(w, map[string]any{"message": names})
}

// created counts a stored document in erpsim's records by its reference.
func (s *Server) created(d map[string]any) {
	if ref, ok := d[RefField].(string); ok && ref != "" {
		s.sim.Create(ref)
	}
}

func (s *Server) storeLocked(d map[string]any) string {
	doctype := fmt.Sprint(d["doctype"])
	s.counters[doctype]++
	name := fmt.Sprintf("%s%05d", prefix[doctype], s.counters[doctype])
	d["name"] = name
	s.docs[doctype] = append(s.docs[doctype], d)
	return name
}

func (s *Server) existsLocked(doctype, field string, value any) bool {
	for _, d := range s.docs[doctype] {
		if fmt.Sprint(d[field]) == fmt.Sprint(value) {
			return true
		}
	}
	return false
}

// validateLocked applies the rules ERPNext would to what tillsync sends.
// batch holds the DocType/reference pairs inserted earlier in the same
// insert_many call.
func (s *Server) validateLocked(d map[string]any, batch map[string]bool) *refusal {
	doctype, _ := d["doctype"].(string)
	if prefix[doctype] == "" {
		return &refusal{http.StatusNotFound, "DoesNotExistError", fmt.Sprintf("DocType %s not found", doctype)}
	}
	if d["company"] == nil || d["company"] == "" {
		return validation("MandatoryError", "[%s, new]: company", doctype)
	}
	if ref, ok := d[RefField]; ok && s.unique && (s.existsLocked(doctype, RefField, ref) || batch[doctype+"/"+fmt.Sprint(ref)]) {
		return validation("UniqueValidationError", "%s %v already exists: Tillsync ID must be unique", doctype, ref)
	}
	switch doctype {
	case "Sales Invoice", "Sales Order", "Delivery Note":
		if d["customer"] == nil || d["customer"] == "" {
			return validation("MandatoryError", "[%s, new]: customer", doctype)
		}
	}
	if doctype == "Sales Invoice" {
		if ra, ok := d["return_against"]; ok && !s.existsLocked("Sales Invoice", "name", ra) {
			return validation("LinkValidationError", "Could not find Return Against: %v", ra)
		}
		if fmt.Sprint(d["is_pos"]) == "1" {
			if p, _ := d["payments"].([]any); len(p) == 0 {
				return validation("ValidationError", "At least one mode of payment is required for POS invoice.")
			}
		}
	}
	if doctype == "Journal Entry" {
		return balanced(d)
	}
	items, _ := d["items"].([]any)
	if len(items) == 0 {
		return validation("MandatoryError", "[%s, new]: items", doctype)
	}
	for i, it := range items {
		row, _ := it.(map[string]any)
		code := fmt.Sprint(row["item_code"])
		if code == InvalidSKU || code == "" || code == "<nil>" {
			return validation("LinkValidationError", "Could not find Row #%d: Item Code: %s", i+1, code)
		}
		if _, ok := new(big.Rat).SetString(fmt.Sprint(row["qty"])); !ok {
			return validation("ValidationError", "Row #%d: Qty %v is not a number", i+1, row["qty"])
		}
		if err := warehouses(doctype, d, row, i+1); err != nil {
			return err
		}
	}
	return nil
}

func warehouses(doctype string, d, row map[string]any, n int) *refusal {
	has := func(f string) bool { v, ok := row[f].(string); return ok && v != "" }
	switch doctype {
	case "Stock Entry":
		typ := fmt.Sprint(d["stock_entry_type"])
		needS := typ == "Material Issue" || typ == "Material Transfer"
		needT := typ == "Material Receipt" || typ == "Material Transfer"
		if !needS && !needT {
			return validation("LinkValidationError", "Could not find Stock Entry Type: %s", typ)
		}
		if needS && !has("s_warehouse") {
			return validation("ValidationError", "Row %d: Source Warehouse is mandatory for %s", n, typ)
		}
		if needT && !has("t_warehouse") {
			return validation("ValidationError", "Row %d: Target Warehouse is mandatory for %s", n, typ)
		}
	case "Stock Reconciliation", "Delivery Note":
		if !has("warehouse") {
			return validation("MandatoryError", "Row %d: Warehouse is mandatory", n)
		}
	}
	return nil
}

func balanced(d map[string]any) *refusal {
	rows, _ := d["accounts"].([]any)
	debit, credit := new(big.Rat), new(big.Rat)
	for i, r := range rows {
		row, _ := r.(map[string]any)
		if row["account"] == nil || row["account"] == "" {
			return validation("MandatoryError", "Row %d: Account is mandatory", i+1)
		}
		for f, sum := range map[string]*big.Rat{"debit_in_account_currency": debit, "credit_in_account_currency": credit} {
			if v, ok := new(big.Rat).SetString(fmt.Sprint(row[f])); ok {
				sum.Add(sum, v)
			}
		}
	}
	if debit.Cmp(credit) != 0 {
		diff := new(big.Rat).Sub(debit, credit)
		return validation("ValidationError", "Total Debit must be equal to Total Credit. The difference is %s", diff.FloatString(2))
	}
	return nil
}
