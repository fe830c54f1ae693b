// Package odoo simulates the part of Odoo 19's external JSON-2 API that
// tillsync's Odoo connector uses: POST /json/2/<model>/<method> with a
// bearer API key (and X-Odoo-Database), named JSON arguments, and errors as
// an HTTP status with Odoo's JSON error object (name, message, arguments,
// context, debug).
// Reference: https://www.odoo.com/documentation/19.0/developer/reference/external_api.html
//
// Implemented: search_read on product.product (by default_code; every
// internal reference exists except "NO-SUCH-ITEM", and archived products
// are left out as Odoo leaves them out), stock.warehouse (by code; every
// code exists), sale.order, stock.picking and account.move (by any field,
// with "=" and "in" leaves); create with a vals_list, all-or-nothing like
// Odoo's one-transaction-per-call; action_confirm, button_validate and
// action_post; res.users/context_get. Like a stock Odoo with a custom
// x_tillsync_id field, nothing makes the reference unique: a client that
// creates twice gets two records, and erpsim counts the duplicate.
//
// Faults, limits and GET /_sim/stats come from erpsim.
package odoo

import (
	"encoding/json"
	"fmt"
	"math/big"
	"mime"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/tillsync/tillsync/internal/sim/erpsim"
)

// InvalidSKU is an internal reference no product has.
const InvalidSKU = "NO-SUCH-ITEM"

// RefField is the field records are counted by in erpsim's stats.
const RefField = "x_tillsync_id"

// Credentials are what the simulated database accepts.
type Credentials struct {
	APIKey string
	// Database, when set, must match X-Odoo-Database if a client sends it.
	Database string
}

// DefaultCredentials are the simulator's usual credentials.
func DefaultCredentials() Credentials {
	return Credentials{APIKey: "6578616d706c65206a736f6e20617069206b6579", Database: "tillsync"}
}

// Server is a simulated Odoo database; it is an http.Handler.
type Server struct {
	sim   *erpsim.Sim
	creds Credentials
	mux   *http.ServeMux

	mu         sync.Mutex
	nextID     int64
	products   map[string]int64 // default_code → product.product ID
	archived   map[int64]bool
	warehouses map[string]map[string]any
	records    map[string][]map[string]any // model → records, in creation order
}

// New returns a simulated Odoo database.
func New(opt erpsim.Options, creds Credentials) *Server {
	s := &Server{sim: erpsim.New(opt), creds: creds, mux: http.NewServeMux(), nextID: 100,
		products: map[string]int64{}, archived: map[int64]bool{},
		warehouses: map[string]map[string]any{}, records: map[string][]map[string]any{}}
	s.mux.Handle("GET /_sim/stats", s.sim.StatsHandler())
	s.mux.HandleFunc("POST /json/2/{model}/{method}", s.serveCall)
	return s
}

// Sim returns the simulator core (faults, stats).
func (s *Server) Sim() *erpsim.Sim { return s.sim }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// ArchiveProduct archives the product with an internal reference: searches
// no longer find it and records using it are refused.
func (s *Server) ArchiveProduct(sku string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.archived[s.productLocked(sku)] = true
}

// Record returns a copy of the first record of a model with a reference.
func (s *Server) Record(model, ref string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rec := range s.records[model] {
		if rec[RefField] == ref {
			out := make(map[string]any, len(rec))
			for k, v := range rec {
				out[k] = v
			}
			return out, true
		}
	}
	return nil, false
}

func (s *Server) productLocked(sku string) int64 {
	id, ok := s.products[sku]
	if !ok {
		s.nextID++
		id = s.nextID
		s.products[sku] = id
	}
	return id
}

// writeError answers like Odoo's Json2Dispatcher.handle_error.
func writeError(w http.ResponseWriter, status int, name, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	args := []any{msg}
	if strings.HasPrefix(name, "werkzeug.") {
		args = append(args, status)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "message": msg, "arguments": args,
		"context": map[string]any{}, "debug": "Traceback (most recent call last):\n  (simulated)\n" + name + ": " + msg + "\n"})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

const (
	userError       = "odoo.exceptions.UserError"
	validationError = "odoo.exceptions.ValidationError"
	missingError    = "odoo.exceptions.MissingError"
)

func (s *Server) serveCall(w http.ResponseWriter, r *http.Request) {
	outcome, end := s.sim.Begin(w, r)
	switch outcome {
	case erpsim.Failed:
		return
	case erpsim.Throttled:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "werkzeug.exceptions.TooManyRequests",
			"429 Too Many Requests: the server is handling too many requests, retry later")
		return
	case erpsim.Invalid:
		writeError(w, http.StatusUnprocessableEntity, validationError, "injected validation error")
		return
	}
	defer end()
	auth := r.Header.Get("Authorization")
	scheme, key, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "bearer") || key != s.creds.APIKey || key == "" {
		s.sim.Reject("auth")
		writeError(w, http.StatusUnauthorized, "werkzeug.exceptions.Unauthorized", "Invalid apikey")
		return
	}
	if db := r.Header.Get("X-Odoo-Database"); db != "" && s.creds.Database != "" && db != s.creds.Database {
		s.sim.Reject("auth")
		writeError(w, http.StatusNotFound, "werkzeug.exceptions.NotFound", fmt.Sprintf("404 Not Found: database %q does not exist", db))
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusBadRequest, "werkzeug.exceptions.BadRequest", "400 Bad Request: the body must be application/json")
		return
	}
	var args map[string]any
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<20))
	dec.UseNumber()
	if err := dec.Decode(&args); err != nil {
		writeError(w, http.StatusBadRequest, "werkzeug.exceptions.BadRequest", "400 Bad Request: could not parse the body as json: "+err.Error())
		return
	}
	model, method := r.PathValue("model"), r.PathValue("method")
	switch {
	case model == "res.users" && method == "context_get":
		writeJSON(w, map[string]any{"lang": "en_US", "tz": "Europe/Berlin", "uid": 2})
	case method == "search_read":
		s.searchRead(w, model, args)
	case method == "create" && creatable[model] != nil:
		s.create(w, model, args)
	case actions[model+"/"+method].to != "":
		s.action(w, model, method, args)
	default:
		writeError(w, http.StatusNotFound, "werkzeug.exceptions.NotFound",
			fmt.Sprintf("404 Not Found: %s has no public method %s here", model, method))
	}
}

// leaf is one domain term: [field, operator, value].
type leaf struct {
	field, op string
	value     any
}

func parseDomain(raw any) ([]leaf, error) {
	terms, _ := raw.([]any)
	out := make([]leaf, 0, len(terms))
	for _, t := range terms {
		parts, ok := t.([]any)
		if !ok || len(parts) != 3 {
			return nil, fmt.Errorf("invalid domain term %v", t)
		}
		f, _ := parts[0].(string)
		op, _ := parts[1].(string)
		if op != "=" && op != "in" {
			return nil, fmt.Errorf("operator %q is not simulated", op)
		}
		out = append(out, leaf{f, op, parts[2]})
	}
	return out, nil
}

func (l leaf) match(v any) bool {
	if l.op == "=" {
		return same(v, l.value)
	}
	list, _ := l.value.([]any)
	for _, x := range list {
		if same(v, x) {
			return true
		}
	}
	return false
}

func same(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func (s *Server) searchRead(w http.ResponseWriter, model string, args map[string]any) {
	domain, err := parseDomain(args["domain"])
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "builtins.ValueError", err.Error())
		return
	}
	fieldsRaw, _ := args["fields"].([]any)
	s.mu.Lock()
	var rows []map[string]any
	switch model {
	case "product.product":
		rows = s.productRowsLocked(domain)
	case "stock.warehouse":
		rows = s.warehouseRowsLocked(domain)
	default:
		if creatable[model] == nil {
			s.mu.Unlock()
			writeError(w, http.StatusNotFound, "werkzeug.exceptions.NotFound", "404 Not Found: model "+model+" is not simulated")
			return
		}
		rows = s.records[model]
	}
	out := []map[string]any{}
	for _, row := range rows {
		ok := true
		for _, l := range domain {
			ok = ok && l.match(row[l.field])
		}
		if !ok {
			continue
		}
		res := map[string]any{"id": row["id"]}
		for _, f := range fieldsRaw {
			name, _ := f.(string)
			v, present := row[name]
			if !present || v == nil {
				v = false // Odoo reads an empty field as false
			}
			res[name] = v
		}
		out = append(out, res)
	}
	s.mu.Unlock()
	writeJSON(w, out)
}

// productRowsLocked materialises the products a domain on default_code
// names: the catalogue holds every internal reference but InvalidSKU.
func (s *Server) productRowsLocked(domain []leaf) []map[string]any {
	var skus []string
	for _, l := range domain {
		if l.field != "default_code" {
			continue
		}
		if l.op == "=" {
			skus = append(skus, fmt.Sprint(l.value))
		}
		list, _ := l.value.([]any)
		for _, v := range list {
			skus = append(skus, fmt.Sprint(v))
		}
	}
	sort.Strings(skus)
	var rows []map[string]any
	for _, sku := range skus {
		if sku == InvalidSKU || sku == "" {
			continue
		}
		id := s.productLocked(sku)
		if !s.archived[id] {
			rows = append(rows, map[string]any{"id": id, "default_code": sku})
		}
	}
	return rows
}

func (s *Server) warehouseRowsLocked(domain []leaf) []map[string]any {
	var codes []string
	for _, l := range domain {
		if l.field != "code" {
			continue
		}
		list, _ := l.value.([]any)
		if l.op == "=" {
			list = []any{l.value}
		}
		for _, v := range list {
			codes = append(codes, fmt.Sprint(v))
		}
	}
	sort.Strings(codes)
	var rows []map[string]any
	for _, code := range codes {
		wh, ok := s.warehouses[code]
		if !ok {
			id, stock, typ := s.nextID+1, s.nextID+2, s.nextID+3
			s.nextID += 3
			wh = map[string]any{"id": id, "code": code, "name": code,
				"lot_stock_id": []any{stock, code + "/Stock"}, "int_type_id": []any{typ, code + ": Internal Transfers"}}
			s.warehouses[code] = wh
		}
		rows = append(rows, wh)
	}
	return rows
}

// creatable validates one record of each model tillsync creates, as
// Odoo's required fields and constraints would.
var creatable = map[string]func(s *Server, vals map[string]any) error{
	"sale.order": func(s *Server, vals map[string]any) error {
		if !positive(vals["partner_id"]) {
			return fmt.Errorf("missing required field 'Customer' (partner_id)")
		}
		return s.checkLines(vals, "order_line", "product_uom_qty")
	},
	"stock.picking": func(s *Server, vals map[string]any) error {
		for _, f := range []string{"picking_type_id", "location_id", "location_dest_id"} {
			if !positive(vals[f]) {
				return fmt.Errorf("missing required field %s", f)
			}
		}
		return s.checkLines(vals, "move_ids", "product_uom_qty")
	},
	"account.move": func(_ *Server, vals map[string]any) error {
		if !positive(vals["journal_id"]) {
			return fmt.Errorf("missing required field 'Journal' (journal_id)")
		}
		debit, credit := new(big.Rat), new(big.Rat)
		cmds, _ := vals["line_ids"].([]any)
		for _, c := range cmds {
			line := commandValues(c)
			if line == nil || !positive(line["account_id"]) {
				return fmt.Errorf("a journal item needs an account")
			}
			for f, sum := range map[string]*big.Rat{"debit": debit, "credit": credit} {
				v, ok := new(big.Rat).SetString(fmt.Sprint(line[f]))
				if !ok && line[f] != nil {
					return fmt.Errorf("%s %v is not a number", f, line[f])
				}
				if ok {
					sum.Add(sum, v)
				}
			}
		}
		if debit.Cmp(credit) != 0 {
			return fmt.Errorf("the entry is not balanced: the total of debits equals %s and the total of credits equals %s",
				debit.FloatString(2), credit.FloatString(2))
		}
		return nil
	},
}

func (s *Server) checkLines(vals map[string]any, field, qtyField string) error {
	cmds, _ := vals[field].([]any)
	for i, c := range cmds {
		line := commandValues(c)
		if line == nil {
			return fmt.Errorf("%s[%d]: only (0, 0, values) commands are simulated", field, i)
		}
		id := fmt.Sprint(line["product_id"])
		known := false
		for _, pid := range s.products {
			if fmt.Sprint(pid) == id && !s.archived[pid] {
				known = true
			}
		}
		if !known {
			return fmt.Errorf("the operation cannot be completed: product %s does not exist or is archived (%s line %d)", id, field, i+1)
		}
		if _, ok := new(big.Rat).SetString(fmt.Sprint(line[qtyField])); !ok {
			return fmt.Errorf("%s line %d: quantity %v is not a number", field, i+1, line[qtyField])
		}
	}
	return nil
}

func commandValues(c any) map[string]any {
	parts, ok := c.([]any)
	if !ok || len(parts) != 3 || fmt.Sprint(parts[0]) != "0" {
		return nil
	}
	vals, _ := parts[2].(map[string]any)
	return vals
}

func positive(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	i, err := n.Int64()
	return err == nil && i > 0
}

// create is all-or-nothing, like Odoo's single transaction per call: every
// record is validated before any is created.
func (s *Server) create(w http.ResponseWriter, model string, args map[string]any) {
	var list []any
	switch v := args["vals_list"].(type) {
	case []any:
		list = v
	case map[string]any:
		list = []any{v}
	default:
		writeError(w, http.StatusUnprocessableEntity, "builtins.TypeError", "create() missing 1 required argument: 'vals_list'")
		return
	}
	s.mu.Lock()
	for i, v := range list {
		vals, ok := v.(map[string]any)
		if !ok {
			s.mu.Unlock()
			writeError(w, http.StatusUnprocessableEntity, "builtins.TypeError", fmt.Sprintf("vals_list[%d] is not an object", i))
			return
		}
		if err := creatable[model](s, vals); err != nil {
			s.mu.Unlock()
			s.sim.Reject("validation")
			writeError(w, http.StatusUnprocessableEntity, validationError, err.Error())
			return
		}
	}
	ids := make([]int64, len(list))
	var refs []string
	for i, v := range list {
		vals := v.(map[string]any)
		s.nextID++
		rec := map[string]any{"id": json.Number(fmt.Sprint(s.nextID)), "state": "draft"}
		for k, x := range vals {
			rec[k] = x
		}
		s.records[model] = append(s.records[model], rec)
		ids[i] = s.nextID
		if ref, _ := vals[RefField].(string); ref != "" {
			refs = append(refs, ref)
		}
	}
	s.mu.Unlock()
	for _, ref := range refs {
		s.sim.Create(ref)
	}
	if s.sim.Committed(w) {
		return
	}
	writeJSON(w, ids)
}

// actions are the finishing methods: the states they accept, the state
// they leave, what they answer, and Odoo's refusal otherwise.
var actions = map[string]struct {
	from   map[string]bool
	to     string
	result any
	refuse string
}{
	"sale.order/action_confirm":     {map[string]bool{"draft": true, "sent": true}, "sale", true, "Some orders are not in a state requiring confirmation."},
	"stock.picking/button_validate": {map[string]bool{"draft": true, "confirmed": true, "assigned": true}, "done", true, "You cannot validate a transfer that is done or cancelled."},
	"account.move/action_post":      {map[string]bool{"draft": true}, "posted", false, "Only draft journal entries can be posted."},
}

func (s *Server) action(w http.ResponseWriter, model, method string, args map[string]any) {
	act := actions[model+"/"+method]
	ids, _ := args["ids"].([]any)
	s.mu.Lock()
	var recs []map[string]any
	for _, id := range ids {
		var found map[string]any
		for _, rec := range s.records[model] {
			if same(rec["id"], id) {
				found = rec
			}
		}
		if found == nil {
			s.mu.Unlock()
			writeError(w, http.StatusNotFound, missingError, fmt.Sprintf("Record does not exist or has been deleted.\n(Record: %s(%v,), User: 2)", model, id))
			return
		}
		if !act.from[fmt.Sprint(found["state"])] {
			s.mu.Unlock()
			writeError(w, http.StatusUnprocessableEntity, userError, act.refuse)
			return
		}
		recs = append(recs, found)
	}
	for _, rec := range recs {
		rec["state"] = act.to
	}
	s.mu.Unlock()
	if s.sim.Committed(w) {
		return
	}
	writeJSON(w, act.result)
}
