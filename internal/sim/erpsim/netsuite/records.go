package netsuite

import (
	"encoding/json"
	"io"
	"math/big"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// InvalidSKU is an item the simulated account does not have (the same SKU
// the in-memory fake refuses): a line with it is refused as NetSuite
// refuses a reference to a record that does not exist. Every other SKU is
// an item whose external ID is the SKU.
const InvalidSKU = "NO-SUCH-ITEM"

// record is one stored record.
type record struct {
	id, typ, eid string
	fields       map[string]any     // body fields, sublists excepted
	subs         map[string][]*line // sublists by name
	createdFrom  string             // internal ID of the source of a transform
}

// line is one sublist line: its key (line), its fields, and for order
// lines how much was fulfilled (shipped) and received.
type line struct {
	n                int
	fields           map[string]any
	shipped, receivd *big.Rat
}

func (l *line) closed() bool { b, _ := l.fields["isClosed"].(bool); return b }

func (rec *record) clone() *record {
	c := *rec
	c.fields = make(map[string]any, len(rec.fields))
	for k, v := range rec.fields {
		c.fields[k] = v
	}
	c.subs = make(map[string][]*line, len(rec.subs))
	for name, ls := range rec.subs {
		cp := make([]*line, len(ls))
		for i, l := range ls {
			nl := *l
			nl.fields = make(map[string]any, len(l.fields))
			for k, v := range l.fields {
				nl.fields[k] = v
			}
			cp[i] = &nl
		}
		c.subs[name] = cp
	}
	return &c
}

// Field kinds of the schemas below.
type kind int

const (
	kString kind = iota
	kDate
	kRef
	kNumber
	kBool
	kInt
)

type lineSchema struct {
	fields   map[string]kind
	required []string
}

// schema is what the simulator knows of a record type: its body fields,
// its sublists, what is mandatory, whether it may be created by upsert
// (fulfillments and receipts are created by transform only) and its own
// rules.
type schema struct {
	fields   map[string]kind
	sublists map[string]lineSchema
	required []string
	upsert   bool
	check    func(rec *record) *fault
}

var salesLines = lineSchema{
	fields:   map[string]kind{"item": kRef, "quantity": kNumber, "price": kRef, "amount": kNumber, "taxCode": kRef, "tax1Amt": kNumber, "line": kInt, "isClosed": kBool, "description": kString},
	required: []string{"item", "quantity"},
}

func salesSchema(withStatus bool) schema {
	f := map[string]kind{"externalId": kString, "entity": kRef, "subsidiary": kRef, "location": kRef, "tranDate": kDate,
		"otherRefNum": kString, "memo": kString}
	if withStatus {
		f["orderStatus"] = kRef
	}
	return schema{fields: f, sublists: map[string]lineSchema{"item": salesLines},
		required: []string{"entity", "subsidiary", "tranDate", "item"}, upsert: true, check: positiveQuantities("item")}
}

// transformedSchema is the body of a !transform and of an update of a
// fulfillment or receipt: header fields only (the lines come from the
// source).
var transformedSchema = schema{
	fields: map[string]kind{"externalId": kString, "tranDate": kDate, "memo": kString},
}

// schemas are the record types the simulator stores.
var schemas = map[string]schema{
	"cashSale":   salesSchema(false),
	"cashRefund": salesSchema(false),
	"salesOrder": salesSchema(true),
	"inventoryAdjustment": {
		fields: map[string]kind{"externalId": kString, "subsidiary": kRef, "account": kRef, "adjLocation": kRef, "tranDate": kDate, "memo": kString},
		sublists: map[string]lineSchema{"inventory": {
			fields:   map[string]kind{"item": kRef, "location": kRef, "adjustQtyBy": kNumber, "newQuantity": kNumber, "memo": kString, "line": kInt},
			required: []string{"item", "location"},
		}},
		required: []string{"subsidiary", "account", "tranDate", "inventory"}, upsert: true, check: checkAdjustment,
	},
	"transferOrder": {
		fields: map[string]kind{"externalId": kString, "subsidiary": kRef, "location": kRef, "transferLocation": kRef, "tranDate": kDate,
			"orderStatus": kRef, "memo": kString},
		sublists: map[string]lineSchema{"item": {fields: map[string]kind{"item": kRef, "quantity": kNumber, "line": kInt, "isClosed": kBool},
			required: []string{"item", "quantity"}}},
		required: []string{"subsidiary", "location", "transferLocation", "tranDate", "item"}, upsert: true, check: checkTransfer,
	},
	"journalEntry": {
		fields: map[string]kind{"externalId": kString, "subsidiary": kRef, "tranDate": kDate, "memo": kString},
		sublists: map[string]lineSchema{"line": {fields: map[string]kind{"account": kRef, "debit": kNumber, "credit": kNumber, "memo": kString,
			"location": kRef, "line": kInt}, required: []string{"account"}}},
		required: []string{"subsidiary", "tranDate", "line"}, upsert: true, check: checkJournal,
	},
	"itemFulfillment": transformedSchema,
	"itemReceipt":     transformedSchema,
}

// listTypes are records the simulated account has, read-only: any
// positive internal ID exists.
var listTypes = map[string]bool{"customer": true, "subsidiary": true, "account": true}

// transforms are the transformations the simulator performs.
var transforms = map[[2]string]bool{
	{"salesOrder", "itemFulfillment"}:    true,
	{"transferOrder", "itemFulfillment"}: true,
	{"transferOrder", "itemReceipt"}:     true,
}

var eidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// record serves /services/rest/record/v1/<parts...>.
func (s *Server) record(w http.ResponseWriter, r *http.Request, parts []string) {
	typ := parts[0]
	sc, stored := schemas[typ]
	if !stored && !listTypes[typ] {
		writeError(w, http.StatusNotFound, "NONEXISTENT_ID", "Record type '"+typ+"' does not exist.", "")
		return
	}
	var key string
	if len(parts) > 1 {
		k, err := url.PathUnescape(parts[1])
		if err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_ID", "Invalid record ID in the URL.", "")
			return
		}
		key = k
	}
	var f *fault
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet && stored:
		f = s.list(w, r, typ)
	case len(parts) == 2 && r.Method == http.MethodGet:
		f = s.get(w, r, typ, key)
	case len(parts) == 2 && r.Method == http.MethodPut && stored:
		f = s.upsert(w, r, typ, key, sc)
	case len(parts) == 2 && r.Method == http.MethodPatch && stored:
		f = s.patch(w, r, typ, key, sc)
	case len(parts) == 4 && parts[2] == "!transform" && r.Method == http.MethodPost:
		f = s.transform(w, r, typ, key, parts[3])
	case len(parts) <= 2:
		methodNotAllowed(w)
	default:
		f = notFound("The requested resource does not exist.")
	}
	if f != nil {
		if f.status == http.StatusBadRequest {
			s.sim.Reject("validation")
		}
		writeError(w, f.status, f.code, f.detail, f.path)
	}
}

// lookup finds a stored record by "eid:<external ID>" or internal ID.
// s.mu is held.
func (s *Server) lookup(typ, key string) *record {
	if eid, ok := strings.CutPrefix(key, "eid:"); ok {
		return s.byExt[typ][eid]
	}
	if rec := s.records[key]; rec != nil && rec.typ == typ {
		return rec
	}
	return nil
}

// upsert creates or updates the record with an external ID (Oracle, "Using
// the Upsert Operation":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156335203191.html).
func (s *Server) upsert(w http.ResponseWriter, r *http.Request, typ, key string, sc schema) *fault {
	eid, ok := strings.CutPrefix(key, "eid:")
	if !ok {
		return userError("", "The upsert operation (PUT) takes an external ID in the URL (eid:<external ID>), not an internal ID.")
	}
	if !eidPattern.MatchString(eid) {
		return invalid("", "Invalid external ID %q: use letters, numbers, underscores and hyphens.", eid)
	}
	body, f := decodeBody(r, sc)
	if f != nil {
		return f
	}
	if x, ok := body["externalId"].(string); ok && x != eid {
		return invalid("externalId", "The externalId %q in the body is not the %q of the URL.", x, eid)
	}
	delete(body, "externalId")
	replace, f := replaceParam(r, sc)
	if f != nil {
		return f
	}

	s.mu.Lock()
	rec := s.byExt[typ][eid]
	created := rec == nil
	if created && !sc.upsert {
		s.mu.Unlock()
		return userError("", "A %s can only be created by transforming the record it fulfils or receives.", typ)
	}
	next := &record{typ: typ, eid: eid, fields: map[string]any{}, subs: map[string][]*line{}}
	if !created {
		next = rec.clone()
	}
	if f := next.apply(body, sc, replace); f != nil {
		s.mu.Unlock()
		return f
	}
	if f := validate(next, sc); f != nil {
		s.mu.Unlock()
		return f
	}
	if created {
		s.store(next)
	} else {
		*rec = *next
	}
	id := next.id
	s.mu.Unlock()
	if created {
		s.sim.Create(eid)
	}
	s.written(w, r, typ, id)
	return nil
}

// patch updates a record (PATCH …/<id or eid:…>).
func (s *Server) patch(w http.ResponseWriter, r *http.Request, typ, key string, sc schema) *fault {
	body, f := decodeBody(r, sc)
	if f != nil {
		return f
	}
	if _, ok := body["externalId"]; ok {
		return invalid("externalId", "The external ID of a record cannot be changed by an update.")
	}
	replace, f := replaceParam(r, sc)
	if f != nil {
		return f
	}
	s.mu.Lock()
	rec := s.lookup(typ, key)
	if rec == nil {
		s.mu.Unlock()
		return notFound("The record instance does not exist. Provide a valid record instance ID.")
	}
	next := rec.clone()
	if f := next.apply(body, sc, replace); f != nil {
		s.mu.Unlock()
		return f
	}
	if f := validate(next, sc); f != nil {
		s.mu.Unlock()
		return f
	}
	*rec = *next
	s.mu.Unlock()
	s.written(w, r, typ, rec.id)
	return nil
}

// transform creates a record from another (Oracle, "Transforming Records":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157901123882.html).
// Item fulfillments take every open line not yet shipped, item receipts
// every line shipped and not yet received; the new record carries the
// external ID given in the body, which must be new for its type.
func (s *Server) transform(w http.ResponseWriter, r *http.Request, srcType, key, target string) *fault {
	if !transforms[[2]string{srcType, target}] {
		return userError("", "You cannot transform a %s into a %s.", srcType, target)
	}
	sc := schemas[target]
	body, f := decodeBody(r, sc)
	if f != nil {
		return f
	}
	eid, _ := body["externalId"].(string)
	if eid != "" && !eidPattern.MatchString(eid) {
		return invalid("externalId", "Invalid external ID %q: use letters, numbers, underscores and hyphens.", eid)
	}
	if _, ok := body["tranDate"]; !ok {
		body["tranDate"] = s.now().UTC().Format("2006-01-02")
	}

	s.mu.Lock()
	src := s.lookup(srcType, key)
	if src == nil {
		s.mu.Unlock()
		return notFound("The record instance does not exist. Provide a valid record instance ID.")
	}
	if eid != "" && s.byExt[target][eid] != nil {
		s.mu.Unlock()
		return &fault{http.StatusBadRequest, "DUP_RCRD", "This record already exists.", "externalId"}
	}
	if st, _ := src.fields["orderStatus"].(map[string]any); st != nil && st["id"] != "B" {
		s.mu.Unlock()
		return userError("", "The %s is not approved (status %v): it cannot be fulfilled.", srcType, st["id"])
	}
	receipt := target == "itemReceipt"
	type take struct {
		l   *line
		qty *big.Rat
	}
	var takes []take
	for _, l := range src.subs["item"] {
		qty, _ := number(l.fields["quantity"])
		var open *big.Rat
		if receipt {
			open = new(big.Rat).Sub(l.shipped, l.receivd)
		} else if !l.closed() {
			open = new(big.Rat).Sub(qty, l.shipped)
		}
		if open != nil && open.Sign() > 0 {
			takes = append(takes, take{l, open})
		}
	}
	if len(takes) == 0 {
		s.mu.Unlock()
		what := "fulfill"
		if receipt {
			what = "receive"
		}
		return userError("", "There are no lines to %s on this %s.", what, srcType)
	}
	rec := &record{typ: target, eid: eid, fields: map[string]any{}, subs: map[string][]*line{}, createdFrom: src.id}
	for k, v := range body {
		if k != "externalId" {
			rec.fields[k] = v
		}
	}
	loc := src.fields["location"]
	if receipt {
		loc = src.fields["transferLocation"]
	}
	for i, t := range takes {
		rec.subs["item"] = append(rec.subs["item"], &line{n: i + 1, shipped: new(big.Rat), receivd: new(big.Rat), fields: map[string]any{
			"item": t.l.fields["item"], "quantity": ratNumber(t.qty), "orderLine": t.l.n, "location": loc}})
		if receipt {
			t.l.receivd.Add(t.l.receivd, t.qty)
		} else {
			t.l.shipped.Add(t.l.shipped, t.qty)
		}
	}
	s.store(rec)
	s.mu.Unlock()
	if eid != "" {
		s.sim.Create(eid)
	}
	s.written(w, r, target, rec.id)
	return nil
}

// store files a new record under a fresh internal ID. s.mu is held.
func (s *Server) store(rec *record) {
	s.nextID++
	rec.id = strconv.Itoa(s.nextID)
	s.records[rec.id] = rec
	if rec.eid != "" {
		if s.byExt[rec.typ] == nil {
			s.byExt[rec.typ] = map[string]*record{}
		}
		s.byExt[rec.typ][rec.eid] = rec
	}
}

// written answers a committed write: 204 No Content with the record's URL
// in Location (Oracle, "Creating a Record Instance":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545141395.html)
// — unless the simulator drops the connection after the commit.
func (s *Server) written(w http.ResponseWriter, r *http.Request, typ, id string) {
	if s.sim.Committed(w) {
		return
	}
	w.Header().Set("Location", origin(r)+"/services/rest/record/v1/"+typ+"/"+id)
	w.WriteHeader(http.StatusNoContent)
}

func origin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// get serves one record.
func (s *Server) get(w http.ResponseWriter, r *http.Request, typ, key string) *fault {
	if listTypes[typ] {
		if n, err := strconv.Atoi(key); err != nil || n <= 0 {
			return notFound("The record instance does not exist. Provide a valid record instance ID.")
		}
		writeJSON(w, http.StatusOK, map[string]any{"links": selfLink(origin(r), typ, key), "id": key})
		return nil
	}
	s.mu.Lock()
	rec := s.lookup(typ, key)
	var out map[string]any
	if rec != nil {
		out = render(rec, origin(r), r.URL.Query().Get("expandSubResources") == "true")
	}
	s.mu.Unlock()
	if rec == nil {
		return notFound("The record instance does not exist. Provide a valid record instance ID.")
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// queryPattern is the one filter form the simulator understands:
// <field> IS <value> or <field> IS "<value>" (Oracle, "Record Collection
// Filtering": https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545222128.html).
var queryPattern = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9_]*)\s+IS\s+(?:"([^"]*)"|(\S+))\s*$`)

// list serves a record collection, filtered by q.
func (s *Server) list(w http.ResponseWriter, r *http.Request, typ string) *fault {
	field, value, filtered := "", "", false
	if q := r.URL.Query().Get("q"); q != "" {
		m := queryPattern.FindStringSubmatch(q)
		if m == nil {
			return &fault{http.StatusBadRequest, "INVALID_PARAMETER", "Invalid query: " + q, ""}
		}
		field, value, filtered = m[1], m[2]+m[3], true
	}
	s.mu.Lock()
	var ids []string
	for _, rec := range s.records {
		if rec.typ != typ {
			continue
		}
		if filtered {
			v := rec.fields[field]
			if field == "externalId" {
				v = rec.eid
			}
			if sv, _ := v.(string); sv != value {
				continue
			}
		}
		ids = append(ids, rec.id)
	}
	s.mu.Unlock()
	sort.Slice(ids, func(i, j int) bool { return len(ids[i]) < len(ids[j]) || len(ids[i]) == len(ids[j]) && ids[i] < ids[j] })
	items := make([]map[string]any, len(ids))
	for i, id := range ids {
		items[i] = map[string]any{"links": selfLink(origin(r), typ, id), "id": id}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"links": []map[string]string{{"rel": "self", "href": origin(r) + r.URL.RequestURI()}},
		"count": len(items), "hasMore": false, "items": items, "offset": 0, "totalResults": len(items),
	})
	return nil
}

func selfLink(base, typ, id string) []map[string]string {
	return []map[string]string{{"rel": "self", "href": base + "/services/rest/record/v1/" + typ + "/" + id}}
}

// render shows a record as GET does; sublists are links unless expanded.
func render(rec *record, base string, expand bool) map[string]any {
	out := map[string]any{"links": selfLink(base, rec.typ, rec.id), "id": rec.id}
	for k, v := range rec.fields {
		out[k] = v
	}
	if rec.eid != "" {
		out["externalId"] = rec.eid
	}
	if rec.createdFrom != "" {
		out["createdFrom"] = map[string]any{"id": rec.createdFrom}
	}
	for name, lines := range rec.subs {
		href := base + "/services/rest/record/v1/" + rec.typ + "/" + rec.id + "/" + name
		if !expand {
			out[name] = map[string]any{"links": []map[string]string{{"rel": "self", "href": href}}}
			continue
		}
		items := make([]map[string]any, len(lines))
		for i, l := range lines {
			m := map[string]any{}
			for k, v := range l.fields {
				m[k] = v
			}
			m["line"] = l.n
			m["isClosed"] = l.closed()
			if rec.typ == "salesOrder" || rec.typ == "transferOrder" {
				m["quantityFulfilled"] = ratNumber(l.shipped)
			}
			if rec.typ == "transferOrder" {
				m["quantityReceived"] = ratNumber(l.receivd)
			}
			items[i] = m
		}
		out[name] = map[string]any{"links": []map[string]string{{"rel": "self", "href": href}}, "items": items, "totalResults": len(items)}
	}
	return out
}

// Record returns a record as GET …?expandSubResources=true shows it, for
// tests and the demo.
func (s *Server) Record(typ, externalID string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.byExt[typ][externalID]
	if rec == nil {
		return nil, false
	}
	return render(rec, "", true), true
}

// decodeBody reads a JSON body and checks its shape against a schema.
func decodeBody(r *http.Request, sc schema) (map[string]any, *fault) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, &fault{http.StatusUnsupportedMediaType, "INVALID_HEADER", "The Content-Type header must be application/json.", ""}
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 10<<20))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		return nil, invalid("", "Invalid JSON in the request body: %v", err)
	}
	for k, v := range body {
		if ls, ok := sc.sublists[k]; ok {
			if f := checkSublist(k, v, ls); f != nil {
				return nil, f
			}
			continue
		}
		kd, ok := sc.fields[k]
		if !ok {
			return nil, invalid(k, "Invalid field name %s: the record has no such field.", k)
		}
		if f := checkValue(k, k, kd, v); f != nil {
			return nil, f
		}
	}
	return body, nil
}

func checkSublist(name string, v any, ls lineSchema) *fault {
	obj, ok := v.(map[string]any)
	if !ok {
		return invalid(name, "The sublist %s must be an object with an items array.", name)
	}
	items, ok := obj["items"].([]any)
	if !ok {
		return invalid(name, "The sublist %s must be an object with an items array.", name)
	}
	for i, it := range items {
		ln, ok := it.(map[string]any)
		path := name + ".items[" + strconv.Itoa(i) + "]"
		if !ok {
			return invalid(path, "A sublist line must be an object.")
		}
		for k, fv := range ln {
			kd, ok := ls.fields[k]
			if !ok {
				return invalid(path+"."+k, "Invalid field name %s on sublist %s.", k, name)
			}
			if f := checkValue(path+"."+k, k, kd, fv); f != nil {
				return f
			}
		}
	}
	return nil
}

// checkValue checks one field's type and, for references, that the
// record referred to exists.
func checkValue(path, field string, kd kind, v any) *fault {
	switch kd {
	case kString:
		if _, ok := v.(string); !ok {
			return invalid(path, "Invalid value for field %s: expected a string.", field)
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			return invalid(path, "Invalid value for field %s: expected true or false.", field)
		}
	case kNumber:
		if _, ok := number(v); !ok {
			return invalid(path, "Invalid value for field %s: expected a number.", field)
		}
	case kInt:
		n, ok := number(v)
		if !ok || !n.IsInt() {
			return invalid(path, "Invalid value for field %s: expected an integer.", field)
		}
	case kDate:
		s, _ := v.(string)
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return invalid(path, "Invalid value %v for field %s: expected a date as YYYY-MM-DD.", v, field)
		}
	case kRef:
		return checkRef(path, field, v)
	}
	return nil
}

// checkRef checks a reference {"id": …} or {"externalId": …}. Customers,
// subsidiaries and accounts exist for any positive internal ID, items for
// any external ID but InvalidSKU, locations and tax codes for any.
func checkRef(path, field string, v any) *fault {
	obj, ok := v.(map[string]any)
	if !ok {
		return invalid(path, "Invalid value for field %s: expected a reference {\"id\": …} or {\"externalId\": …}.", field)
	}
	id, _ := obj["id"].(string)
	ext, _ := obj["externalId"].(string)
	if id == "" && ext == "" {
		return invalid(path, "Invalid reference for field %s: give id or externalId.", field)
	}
	bad := func(val string) *fault {
		return invalid(path, "Error while accessing resource: You have entered an Invalid Field Value %s for the following field: %s", val, field)
	}
	positive := func(s string) bool { n, err := strconv.Atoi(s); return err == nil && n > 0 }
	switch field {
	case "item":
		if ext == InvalidSKU || (ext == "" && !positive(id)) {
			return bad(ext + id)
		}
	case "entity", "subsidiary", "account":
		if !positive(id) {
			return bad(ext + id)
		}
	case "price":
		if id != "-1" && !positive(id) {
			return bad(ext + id)
		}
	case "orderStatus":
		if id != "A" && id != "B" {
			return bad(ext + id)
		}
	default:
		if ext == "" && !positive(id) {
			return bad(id)
		}
	}
	return nil
}

// replaceParam reads ?replace=<sublist,…>.
func replaceParam(r *http.Request, sc schema) (map[string]bool, *fault) {
	out := map[string]bool{}
	v := r.URL.Query().Get("replace")
	if v == "" {
		return out, nil
	}
	for _, name := range strings.Split(v, ",") {
		if _, ok := sc.sublists[name]; !ok {
			return nil, &fault{http.StatusBadRequest, "INVALID_PARAMETER", "The replace parameter names " + name + ", which is not a sublist of this record.", ""}
		}
		out[name] = true
	}
	return out, nil
}

// apply merges a body into a record as NetSuite does: body fields
// overwrite; a sublist named in replace is replaced; otherwise lines with
// a line key update that line and lines without one are added (Oracle,
// "Working with Sublists":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/chapter_1545142407.html).
func (rec *record) apply(body map[string]any, sc schema, replace map[string]bool) *fault {
	for k, v := range body {
		if _, ok := sc.sublists[k]; !ok {
			rec.fields[k] = v
			continue
		}
		items := v.(map[string]any)["items"].([]any) // shape checked by decodeBody
		if replace[k] {
			for _, l := range rec.subs[k] {
				if l.shipped.Sign() != 0 {
					return userError(k, "Line %d has been fulfilled and cannot be removed.", l.n)
				}
			}
			rec.subs[k] = nil
		}
		next := 1
		for _, l := range rec.subs[k] {
			next = max(next, l.n+1)
		}
		for i, it := range items {
			fields := it.(map[string]any)
			if n, ok := number(fields["line"]); ok {
				var target *line
				for _, l := range rec.subs[k] {
					if big.NewRat(int64(l.n), 1).Cmp(n) == 0 {
						target = l
					}
				}
				if target == nil {
					return invalid(k+".items["+strconv.Itoa(i)+"].line", "Line %s does not exist on this record.", n.RatString())
				}
				for fk, fv := range fields {
					if fk != "line" {
						target.fields[fk] = fv
					}
				}
				continue
			}
			l := &line{n: next, fields: map[string]any{}, shipped: new(big.Rat), receivd: new(big.Rat)}
			next++
			for fk, fv := range fields {
				l.fields[fk] = fv
			}
			rec.subs[k] = append(rec.subs[k], l)
		}
	}
	return nil
}

// validate checks a record as it would be saved.
func validate(rec *record, sc schema) *fault {
	for _, k := range sc.required {
		if _, isSub := sc.sublists[k]; isSub {
			if len(rec.subs[k]) == 0 {
				return userError(k, "Please enter value(s) for: %s (at least one line).", k)
			}
			continue
		}
		if _, ok := rec.fields[k]; !ok {
			return userError(k, "Please enter value(s) for: %s.", k)
		}
	}
	for name, ls := range sc.sublists {
		for i, l := range rec.subs[name] {
			for _, k := range ls.required {
				if _, ok := l.fields[k]; !ok {
					return userError(name+".items["+strconv.Itoa(i)+"]."+k, "Please enter value(s) for: %s.", k)
				}
			}
		}
	}
	if sc.check != nil {
		return sc.check(rec)
	}
	return nil
}

func positiveQuantities(sub string) func(*record) *fault {
	return func(rec *record) *fault {
		for i, l := range rec.subs[sub] {
			if q, _ := number(l.fields["quantity"]); q.Sign() <= 0 {
				return invalid(sub+".items["+strconv.Itoa(i)+"].quantity", "The quantity must be greater than zero.")
			}
		}
		return nil
	}
}

func checkAdjustment(rec *record) *fault {
	for i, l := range rec.subs["inventory"] {
		path := "inventory.items[" + strconv.Itoa(i) + "]"
		by, hasBy := number(l.fields["adjustQtyBy"])
		nq, hasNew := number(l.fields["newQuantity"])
		switch {
		case hasBy == hasNew:
			return userError(path, "Enter either Adjust Qty. By or New Quantity on each line.")
		case hasBy && by.Sign() == 0:
			return invalid(path+".adjustQtyBy", "Adjust Qty. By cannot be zero.")
		case hasNew && nq.Sign() < 0:
			return invalid(path+".newQuantity", "New Quantity cannot be negative.")
		}
	}
	return nil
}

func checkTransfer(rec *record) *fault {
	from, _ := rec.fields["location"].(map[string]any)
	to, _ := rec.fields["transferLocation"].(map[string]any)
	if from["id"] == to["id"] && from["externalId"] == to["externalId"] {
		return userError("transferLocation", "The To Location must differ from the From Location.")
	}
	return positiveQuantities("item")(rec)
}

// checkJournal: every line a positive debit or credit, at least two
// lines, and debits equal to credits.
func checkJournal(rec *record) *fault {
	lines := rec.subs["line"]
	if len(lines) < 2 {
		return userError("line", "A journal entry needs at least two lines.")
	}
	debits, credits := new(big.Rat), new(big.Rat)
	for i, l := range lines {
		path := "line.items[" + strconv.Itoa(i) + "]"
		d, hasD := number(l.fields["debit"])
		c, hasC := number(l.fields["credit"])
		switch {
		case hasD == hasC:
			return userError(path, "Enter either a debit or a credit on each line.")
		case hasD && d.Sign() <= 0, hasC && c.Sign() <= 0:
			return invalid(path, "Debit and credit amounts must be greater than zero.")
		case hasD:
			debits.Add(debits, d)
		default:
			credits.Add(credits, c)
		}
	}
	if debits.Cmp(credits) != 0 {
		return userError("line", "The total of the debit entries (%s) must equal the total of the credit entries (%s).",
			debits.FloatString(4), credits.FloatString(4))
	}
	return nil
}

// number reads a JSON number exactly (never through a float).
func number(v any) (*big.Rat, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(string(n))
	return r, ok
}

// ratNumber writes an exact decimal as a JSON number.
func ratNumber(r *big.Rat) json.Number {
	if r.IsInt() {
		return json.Number(r.Num().String())
	}
	s := strings.TrimRight(r.FloatString(6), "0")
	return json.Number(strings.TrimSuffix(s, "."))
}
