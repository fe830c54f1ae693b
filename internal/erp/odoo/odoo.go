package odoo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
)

// Odoo models tillsync creates records in, in the order a batch posts them.
const (
	modelSale    = "sale.order"
	modelPicking = "stock.picking"
	modelMove    = "account.move"
)

var models = []string{modelSale, modelPicking, modelMove}

// finish is the action that completes a created record (the one that
// moves stock or books it), and the states in which it is already done.
// It is a second call, so a second transaction: a record found in draft on
// redelivery was created but not finished, and is finished then.
var finish = map[string]struct {
	method string
	done   map[string]bool
}{
	modelSale:    {"action_confirm", map[string]bool{"sale": true, "done": true, "cancel": true}},
	modelPicking: {"button_validate", map[string]bool{"done": true, "cancel": true}},
	modelMove:    {"action_post", map[string]bool{"posted": true, "cancel": true}},
}

// Connector posts to one Odoo database.
type Connector struct {
	cfg  config
	http *http.Client
	log  *slog.Logger
	now  func() time.Time

	mu         sync.Mutex
	products   map[string]int64     // internal reference (SKU) → product.product ID
	warehouses map[string]warehouse // warehouse code → warehouse
}

type warehouse struct {
	id, stock, internalType int64 // stock.warehouse, its lot_stock_id, its int_type_id
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
	c := &Connector{cfg: cfg, http: deps.HTTP, log: deps.Log, now: deps.Clock,
		products: map[string]int64{}, warehouses: map[string]warehouse{}}
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

// Check verifies the API key (res.users/context_get answers for the key's
// user, doc: "Migrating from XML-RPC / JSON-RPC") and that every configured
// warehouse code exists.
func (c *Connector) Check(ctx context.Context) error {
	var userCtx map[string]any
	if err := c.call(ctx, "res.users", "context_get", map[string]any{}, &userCtx); err != nil {
		return err
	}
	codes := make([]string, 0, len(c.cfg.warehouses))
	for _, loc := range sortedKeys(c.cfg.warehouses) {
		codes = append(codes, c.cfg.warehouses[loc])
	}
	if err := c.resolveWarehouses(ctx, codes); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, loc := range sortedKeys(c.cfg.warehouses) {
		if _, ok := c.warehouses[c.cfg.warehouses[loc]]; !ok {
			return erpPermanent("setting warehouses: location %s maps to warehouse code %q, which Odoo does not know", loc, c.cfg.warehouses[loc])
		}
	}
	return nil
}

// record is one Odoo record a document becomes (a mixed adjustment becomes
// two pickings).
type record struct {
	doc   int
	model string
	ref   string
	vals  map[string]any
	id    int64
}

// Post implements erp.Connector. Per model, it reads which of the batch's
// references exist (search_read), creates the missing records in one
// create call, and finishes (confirms, validates, posts) every record not
// yet finished in one more call.
func (c *Connector) Post(ctx context.Context, docs []erp.Document) ([]error, error) {
	errs := make([]error, len(docs))
	if err := c.resolve(ctx, docs); err != nil {
		return nil, err
	}
	byModel := map[string][]*record{}
	for i := range docs {
		recs, err := c.records(&docs[i])
		if err != nil {
			errs[i] = err
			continue
		}
		for _, r := range recs {
			r.doc = i
			byModel[r.model] = append(byModel[r.model], r)
		}
	}
	for _, m := range models {
		if recs := byModel[m]; len(recs) > 0 {
			c.post(ctx, m, recs, errs)
		}
	}
	return errs, nil
}

func fail(errs []error, r *record, err error) {
	if errs[r.doc] == nil {
		errs[r.doc] = err
	}
}

// post delivers one model's records exactly once: existing references are
// never created again, only finished if they were left unfinished.
func (c *Connector) post(ctx context.Context, model string, recs []*record, errs []error) {
	refs := make([]string, 0, len(recs))
	for _, r := range recs {
		refs = append(refs, r.ref)
	}
	found, err := c.existing(ctx, model, refs)
	if err != nil {
		for _, r := range recs {
			fail(errs, r, err)
		}
		return
	}
	var missing, unfinished []*record
	seen := map[string]*record{}
	var twins [][2]*record // the same reference twice in one batch
	for _, r := range recs {
		if first, ok := seen[r.ref]; ok {
			twins = append(twins, [2]*record{first, r})
			continue
		}
		seen[r.ref] = r
		if ex, ok := found[r.ref]; ok {
			r.id = ex.id
			if !finish[model].done[ex.state] {
				unfinished = append(unfinished, r)
			}
			continue
		}
		missing = append(missing, r)
	}
	unfinished = append(unfinished, c.create(ctx, model, missing, errs)...)
	c.finish(ctx, model, unfinished, errs)
	for _, t := range twins {
		if err := errs[t[0].doc]; err != nil {
			fail(errs, t[1], err)
		}
	}
}

type existingRecord struct {
	id    int64
	state string
}

// existing finds records by reference with one search_read.
func (c *Connector) existing(ctx context.Context, model string, refs []string) (map[string]existingRecord, error) {
	var rows []map[string]any
	err := c.call(ctx, model, "search_read", map[string]any{
		"domain": []any{[]any{c.cfg.refField, "in", refs}},
		"fields": []string{c.cfg.refField, "state"},
	}, &rows)
	if err != nil {
		return nil, err
	}
	out := make(map[string]existingRecord, len(rows))
	for _, row := range rows {
		ref, _ := row[c.cfg.refField].(string)
		id, ok := intOf(row["id"])
		if ref == "" || !ok {
			continue
		}
		state, _ := row["state"].(string)
		if prev, dup := out[ref]; dup && prev.id < id {
			continue // created twice by someone else: keep the first
		}
		out[ref] = existingRecord{id: id, state: state}
	}
	return out, nil
}

// create creates the missing records and returns those it created.
//
// One create call with a vals_list creates the whole batch in one
// transaction: a validation error on any record rolls back all of them
// (doc: "Transaction"). So when a batch is refused as invalid, nothing was
// created, and the records are created again one by one: the good ones go
// through, and each bad one fails alone, permanently, with Odoo's message.
// A failure for load or transport stops the one-by-one pass: the rest are
// left to the retry.
func (c *Connector) create(ctx context.Context, model string, recs []*record, errs []error) []*record {
	if len(recs) == 0 {
		return nil
	}
	err := c.createCall(ctx, model, recs)
	if err == nil {
		return recs
	}
	if !isValidation(err) {
		for _, r := range recs {
			fail(errs, r, err)
		}
		return nil
	}
	if len(recs) == 1 {
		return c.createRefused(ctx, model, recs[0], err, errs)
	}
	c.log.Warn("odoo refused a batch; creating its records one by one to find the bad ones",
		"model", model, "records", len(recs), "err", err)
	var created []*record
	for i, r := range recs {
		err := c.createCall(ctx, model, recs[i:i+1])
		switch {
		case err == nil:
			created = append(created, r)
		case isValidation(err):
			created = append(created, c.createRefused(ctx, model, r, err, errs)...)
		default:
			for _, rest := range recs[i:] {
				fail(errs, rest, err)
			}
			return created
		}
	}
	return created
}

// createRefused handles a single record Odoo refused as invalid. If the
// reference field carries a unique constraint, the refusal may be a
// concurrent creation of the same record: it is looked up once more before
// the document is given up as permanently invalid.
func (c *Connector) createRefused(ctx context.Context, model string, r *record, refusal error, errs []error) []*record {
	found, err := c.existing(ctx, model, []string{r.ref})
	if err != nil {
		fail(errs, r, err)
		return nil
	}
	if ex, ok := found[r.ref]; ok {
		r.id = ex.id
		if !finish[model].done[ex.state] {
			return []*record{r}
		}
		return nil
	}
	c.forgetProducts(r)
	fail(errs, r, refusal)
	return nil
}

func (c *Connector) createCall(ctx context.Context, model string, recs []*record) error {
	vals := make([]map[string]any, len(recs))
	for i, r := range recs {
		vals[i] = r.vals
	}
	var ids []json.Number
	if err := c.call(ctx, model, "create", map[string]any{"vals_list": vals}, &ids); err != nil {
		return err
	}
	if len(ids) != len(recs) {
		return erp.Retryable(fmt.Errorf("odoo %s/create: %d IDs for %d records", model, len(ids), len(recs)))
	}
	for i, id := range ids {
		recs[i].id, _ = id.Int64()
	}
	return nil
}

// finish confirms, validates or posts records in one call, one by
// one if Odoo refuses the lot (again one transaction).
func (c *Connector) finish(ctx context.Context, model string, recs []*record, errs []error) {
	if len(recs) == 0 {
		return
	}
	err := c.finishCall(ctx, model, recs)
	if err == nil {
		return
	}
	if !isValidation(err) || len(recs) == 1 {
		for _, r := range recs {
			fail(errs, r, err)
		}
		return
	}
	for i, r := range recs {
		err := c.finishCall(ctx, model, recs[i:i+1])
		if err == nil {
			continue
		}
		if !isValidation(err) {
			for _, rest := range recs[i:] {
				fail(errs, rest, err)
			}
			return
		}
		fail(errs, r, err)
	}
}

func (c *Connector) finishCall(ctx context.Context, model string, recs []*record) error {
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i] = r.id
	}
	method := finish[model].method
	var result any
	if err := c.call(ctx, model, method, map[string]any{"ids": ids}, &result); err != nil {
		return err
	}
	if action, ok := result.(map[string]any); ok {
		// button_validate answers a wizard action when the picking needs a
		// person (lots or serial numbers to enter, a backorder to decide).
		return &erp.Error{Class: erp.Permanent, Code: "wizard", Err: fmt.Errorf(
			"odoo %s/%s on %v asks for a person (%v %v): complete it in Odoo", model, method, ids, action["res_model"], action["name"])}
	}
	return nil
}

func intOf(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case []any: // a many2one: [id, "display name"]
		if len(n) > 0 {
			return intOf(n[0])
		}
	}
	return 0, false
}
