package erpnext

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
)

// maxInsert is frappe.client.insert_many's limit: "Only 200 inserts
// allowed in one request" (frappe/client.py).
const maxInsert = 200

// Connector posts to one ERPNext site.
type Connector struct {
	cfg  config
	http *http.Client
	log  *slog.Logger
	now  func() time.Time
}

var (
	_ erp.Connector = (*Connector)(nil)
	_ erp.Checker   = (*Connector)(nil)
)

// New builds a connector from settings (secrets already resolved).
func New(settings map[string]string, deps erp.Deps) (*Connector, error) {
	cfg, err := parse(settings)
	if err != nil {
		return nil, err
	}
	c := &Connector{cfg: cfg, http: deps.HTTP, log: deps.Log, now: deps.Clock}
	if c.http == nil {
		c.http = &http.Client{Timeout: 60 * time.Second}
	}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// MaxBatch implements erp.Connector.
func (c *Connector) MaxBatch() int { return c.cfg.maxBatch }

// Check verifies the credentials (frappe.auth.get_logged_user answers the
// API user) and that every configured warehouse exists.
func (c *Connector) Check(ctx context.Context) error {
	var user struct {
		Message string `json:"message"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/method/frappe.auth.get_logged_user", nil, nil, &user); err != nil {
		return err
	}
	var names []string
	for _, loc := range sortedKeys(c.cfg.warehouses) {
		names = append(names, c.cfg.warehouses[loc])
	}
	if c.cfg.transit != "" {
		names = append(names, c.cfg.transit)
	}
	found, err := c.list(ctx, "Warehouse", "name", names)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, ok := found[n]; !ok {
			return erpPermanent("warehouse %q (settings warehouses/transit_warehouse) does not exist in ERPNext", n)
		}
	}
	return nil
}

// record is one ERPNext document a tillsync document becomes (a mixed
// adjustment becomes two Stock Entries).
type record struct {
	doc      int
	doctype  string
	ref      string
	body     map[string]any
	reverses string // a return: the external ID of the sale it returns
	name     string
}

// Post implements erp.Connector: it reads which references exist (one
// list call per DocType), inserts the missing documents in one
// insert_many call, and inserts returns whose sale was in the same batch in
// a second one, once the sale has its name.
func (c *Connector) Post(ctx context.Context, docs []erp.Document) ([]error, error) {
	errs := make([]error, len(docs))
	var recs []*record
	for i := range docs {
		rs, err := c.records(&docs[i])
		if err != nil {
			errs[i] = err
			continue
		}
		for _, r := range rs {
			r.doc = i
			recs = append(recs, r)
		}
	}
	if len(recs) == 0 {
		return errs, nil
	}
	found, err := c.existing(ctx, recs)
	if err != nil {
		return nil, err // nothing was written
	}
	var now, later []*record
	pending := map[string]*record{} // doctype/ref → the record creating it
	var twins [][2]*record
	for _, r := range recs {
		key := r.doctype + "/" + r.ref
		if name, ok := found[r.doctype][r.ref]; ok {
			r.name = name
			continue
		}
		if first, ok := pending[key]; ok {
			twins = append(twins, [2]*record{first, r})
			continue
		}
		pending[key] = r
		switch {
		case r.reverses == "":
			now = append(now, r)
		case found[salesInvoice][r.reverses] != "":
			r.body["return_against"] = found[salesInvoice][r.reverses]
			now = append(now, r)
		case pending[salesInvoice+"/"+r.reverses] != nil:
			later = append(later, r)
		default:
			// Events of one document are delivered in order, so the sale is
			// normally there; if not, wait for it rather than book a
			// return against nothing.
			fail(errs, r, erp.Retryable(fmt.Errorf("erpnext: return %s: the sale it reverses (%s) is not in ERPNext yet", r.ref, r.reverses)))
		}
	}
	c.insert(ctx, now, errs)
	var second []*record
	for _, r := range later {
		sale := pending[salesInvoice+"/"+r.reverses]
		if sale.name == "" {
			fail(errs, r, erp.Retryable(fmt.Errorf("erpnext: return %s: the sale it reverses (%s) was not created", r.ref, r.reverses)))
			continue
		}
		r.body["return_against"] = sale.name
		second = append(second, r)
	}
	c.insert(ctx, second, errs)
	for _, t := range twins {
		if err := errs[t[0].doc]; err != nil {
			fail(errs, t[1], err)
		}
	}
	return errs, nil
}

func fail(errs []error, r *record, err error) {
	if errs[r.doc] == nil {
		errs[r.doc] = err
	}
}

// existing finds, per DocType, the documents carrying the batch's
// references (and the sales that returns reverse): DocType → ref → name.
func (c *Connector) existing(ctx context.Context, recs []*record) (map[string]map[string]string, error) {
	refs := map[string][]string{}
	for _, r := range recs {
		refs[r.doctype] = append(refs[r.doctype], r.ref)
		if r.reverses != "" {
			refs[salesInvoice] = append(refs[salesInvoice], r.reverses)
		}
	}
	out := map[string]map[string]string{}
	for _, doctype := range sortedKeys(refs) {
		found, err := c.list(ctx, doctype, c.cfg.refField, refs[doctype])
		if err != nil {
			return nil, err
		}
		out[doctype] = found
	}
	return out, nil
}

// list reads GET /api/resource/{DocType} with filters
// [[field, "in", values]] and returns field value → document name. A
// limit_page_length of 0 lifts the default page of 20.
func (c *Connector) list(ctx context.Context, doctype, field string, values []string) (map[string]string, error) {
	filters, _ := json.Marshal([]any{[]any{field, "in", values}})
	fieldsJSON, _ := json.Marshal([]string{"name", field})
	q := url.Values{"filters": {string(filters)}, "fields": {string(fieldsJSON)}, "limit_page_length": {"0"}}
	var resp struct {
		Data []map[string]any `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/resource/"+url.PathEscape(doctype), q, nil, &resp); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(resp.Data))
	for _, row := range resp.Data {
		v, _ := row[field].(string)
		name, _ := row["name"].(string)
		if _, dup := out[v]; v != "" && name != "" && !dup {
			out[v] = name
		}
	}
	return out, nil
}

// insert creates records with frappe.client.insert_many, which inserts
// every document of the call in the request's one database transaction:
// one refused document rolls the others back. The documents of a refused
// batch are then inserted one by one (POST /api/resource/{DocType}), so the
// good ones go through and only the bad one fails, permanently, with
// Frappe's message. A failure for load or transport stops the one-by-one
// pass and is left to the retry, which finds what was inserted.
func (c *Connector) insert(ctx context.Context, recs []*record, errs []error) {
	for len(recs) > 0 {
		chunk := recs[:min(len(recs), maxInsert)]
		recs = recs[len(chunk):]
		err := c.insertMany(ctx, chunk)
		switch {
		case err == nil:
			continue
		case !refusal(err):
			for _, r := range chunk {
				fail(errs, r, err)
			}
			continue
		case len(chunk) == 1:
			c.refused(ctx, chunk[0], err, errs)
			continue
		}
		c.log.Warn("erpnext refused a batch; inserting its documents one by one to find the bad ones",
			"documents", len(chunk), "err", err)
		for i, r := range chunk {
			err := c.insertOne(ctx, r)
			if err == nil {
				continue
			}
			if !refusal(err) {
				for _, rest := range chunk[i:] {
					fail(errs, rest, err)
				}
				break
			}
			c.refused(ctx, r, err, errs)
		}
	}
}

// refused settles a document ERPNext refused alone: a duplicate of the
// unique reference means it is there already (a concurrent or lost
// insert), which is success; anything else is the document's fault.
func (c *Connector) refused(ctx context.Context, r *record, refusal error, errs []error) {
	if duplicate(refusal) {
		found, err := c.list(ctx, r.doctype, c.cfg.refField, []string{r.ref})
		if err != nil {
			fail(errs, r, err)
			return
		}
		if name, ok := found[r.ref]; ok {
			r.name = name
			return
		}
	}
	fail(errs, r, refusal)
}

func (c *Connector) insertMany(ctx context.Context, recs []*record) error {
	docs := make([]map[string]any, len(recs))
	for i, r := range recs {
		docs[i] = r.body
	}
	var resp struct {
		Message []string `json:"message"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/method/frappe.client.insert_many", nil, map[string]any{"docs": docs}, &resp); err != nil {
		return err
	}
	if len(resp.Message) != len(recs) {
		return erp.Retryable(fmt.Errorf("erpnext insert_many: %d names for %d documents", len(resp.Message), len(recs)))
	}
	for i, name := range resp.Message {
		recs[i].name = name
	}
	return nil
}

func (c *Connector) insertOne(ctx context.Context, r *record) error {
	var resp struct {
		Data struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/resource/"+url.PathEscape(r.doctype), nil, r.body, &resp); err != nil {
		return err
	}
	r.name = resp.Data.Name
	return nil
}
