package netsuite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
)

// Record types (REST record names).
const (
	recCashSale        = "cashSale"
	recCashRefund      = "cashRefund"
	recSalesOrder      = "salesOrder"
	recAdjustment      = "inventoryAdjustment"
	recTransferOrder   = "transferOrder"
	recItemFulfillment = "itemFulfillment"
	recItemReceipt     = "itemReceipt"
	recJournalEntry    = "journalEntry"
)

var errNoDocID = errors.New("the document has no external ID")

const (
	recordPath     = "/services/rest/record/v1/"
	governancePath = "/services/rest/system/v1/governanceLimits"
)

// Connector posts documents to one NetSuite account.
type Connector struct {
	cfg    config
	http   *http.Client
	log    *slog.Logger
	now    func() time.Time
	signer *signer
}

var (
	_ erp.Connector   = (*Connector)(nil)
	_ erp.LimitReader = (*Connector)(nil)
	_ erp.Checker     = (*Connector)(nil)
)

// MaxBatch implements erp.Connector: one document per call. NetSuite's
// REST batch operations (up to 100 records) run only as asynchronous jobs
// whose per-record results must be polled for (Oracle, "Batch Operations":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/article_0127092747.html),
// and several document kinds here take more than one request; the
// destination engine gets its throughput from parallel calls within the
// account's concurrency limit instead.
func (c *Connector) MaxBatch() int { return 1 }

// Post implements erp.Connector. Documents are posted one after another;
// each gets its own result.
func (c *Connector) Post(ctx context.Context, docs []erp.Document) ([]error, error) {
	errs := make([]error, len(docs))
	for i := range docs {
		d := &docs[i]
		if err := c.post(ctx, d); err != nil {
			errs[i] = fmt.Errorf("netsuite %s %s: %w", d.Kind, d.ExternalID, err)
		}
	}
	return errs, nil
}

// post writes one document. Every path is safe to repeat: records are
// upserted by external ID, and records NetSuite only creates by transform
// (fulfilments, receipts) are looked up by their external ID first and
// carry it, so NetSuite's external ID uniqueness refuses a second one.
func (c *Connector) post(ctx context.Context, d *erp.Document) error {
	if d.ExternalID == "" {
		return erp.PermanentError(errNoDocID)
	}
	switch d.Kind {
	case erp.CashSale, erp.CashRefund, erp.SalesOrder:
		r, err := c.salesRecord(d)
		if err != nil {
			return mappingError(err)
		}
		typ := map[erp.Kind]string{erp.CashSale: recCashSale, erp.CashRefund: recCashRefund, erp.SalesOrder: recSalesOrder}[d.Kind]
		err = c.upsert(ctx, typ, d.ExternalID, "item", r)
		if d.Kind == erp.SalesOrder && status(err) == http.StatusBadRequest {
			// A redelivered order NetSuite has already shipped from (a
			// restart or a replay re-reads the log after the fulfilment):
			// its lines can no longer be replaced, and need not be.
			shipped, xerr := c.orderShipped(ctx, d.ExternalID)
			if xerr != nil {
				return xerr // the refusal is not understood yet: retry or hold
			}
			if shipped {
				return nil
			}
		}
		return err
	case erp.InventoryAdjustment, erp.InventoryCount:
		a, err := c.adjustment(d)
		if err != nil {
			return mappingError(err)
		}
		return c.upsert(ctx, recAdjustment, d.ExternalID, "inventory", a)
	case erp.TransferOrder:
		return c.shipTransfer(ctx, d)
	case erp.TransferReceipt:
		return c.receiveTransfer(ctx, d)
	case erp.Fulfilment:
		return c.fulfil(ctx, d)
	case erp.OrderCancel:
		return c.cancel(ctx, d)
	case erp.Summary:
		j, err := c.journal(d)
		if err != nil {
			return mappingError(err)
		}
		return c.upsert(ctx, recJournalEntry, d.ExternalID, "line", j)
	}
	return erp.PermanentError(fmt.Errorf("NetSuite has no mapping for document kind %q", d.Kind))
}

// mappingError classifies a mapping failure: a missing setting stays
// misconfigured, anything else is a document NetSuite could never accept.
func mappingError(err error) error {
	var e *erp.Error
	if errors.As(err, &e) {
		return err
	}
	return erp.PermanentError(err)
}

// upsert creates or updates the record of a type with an external ID
// (PUT …/eid:<id>; Oracle, "Using the Upsert Operation":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156335203191.html).
// replace names the sublist whose lines the body replaces: without it an
// update adds the body's lines to those already there, so a redelivery
// would double every quantity (Oracle, "Working with Sublists").
func (c *Connector) upsert(ctx context.Context, typ, id, replace string, body any) error {
	query := ""
	if replace != "" {
		query = "replace=" + replace
	}
	err := c.call(ctx, http.MethodPut, recordPath+typ+"/eid:"+externalID(id), query, body, nil)
	var e *erp.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		// An upsert creates what is missing, so a 404 is about the record
		// type itself: not enabled in the account, or not visible to the role.
		return &erp.Error{Class: erp.Misconfigured, Status: e.Status, Code: e.Code,
			Err: fmt.Errorf("NetSuite does not know record type %s here (is the feature enabled and the role allowed to create it?): %w", typ, e.Err)}
	}
	return err
}

// exists reports whether a record of a type with an external ID exists.
func (c *Connector) exists(ctx context.Context, typ, id string) (bool, error) {
	err := c.call(ctx, http.MethodGet, recordPath+typ+"/eid:"+externalID(id), "", nil, nil)
	switch {
	case err == nil:
		return true, nil
	case status(err) == http.StatusNotFound:
		return false, nil
	}
	return false, err
}

// transform creates a record from another (POST …/<type>/<id>/!transform/<target>;
// Oracle, "Transforming Records":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157901123882.html),
// carrying the document's external ID. A transform is not an upsert, so
// callers check first that the record does not exist; should a second
// attempt race a first one that NetSuite finished after the client gave up
// on it, NetSuite's external ID uniqueness refuses the second, and the
// refusal is taken as the success it is.
func (c *Connector) transform(ctx context.Context, srcType, srcKey, target string, d *erp.Document, what string) error {
	body := transformed{ExternalID: externalID(d.ExternalID), TranDate: tranDate(d), Memo: memo(what, d.Memo)}
	err := c.call(ctx, http.MethodPost, recordPath+srcType+"/"+srcKey+"/!transform/"+target, "", body, nil)
	switch status(err) {
	case 0:
		return err
	case http.StatusNotFound:
		// The source is not there (yet): its own document is posted first in
		// the same thread, so this is a lag or a source held elsewhere.
		return erp.Retryable(fmt.Errorf("%s %s is not in NetSuite yet, so %s cannot be created from it: %w", srcType, srcKey, target, err))
	case http.StatusBadRequest:
		if ok, xerr := c.exists(ctx, target, d.ExternalID); xerr == nil && ok {
			return nil
		}
	}
	return err
}

// shipTransfer posts the shipping side of a transfer: the transfer order,
// keyed by the transfer ID, and its item fulfillment, keyed by the
// document — the stock leaves the sending store (into transit) when the
// goods do. A redelivery after the fulfillment exists does nothing, so a
// shipped transfer order is never rewritten.
func (c *Connector) shipTransfer(ctx context.Context, d *erp.Document) error {
	if d.Reference == "" {
		return erp.PermanentError(errors.New("a transfer needs its transfer ID"))
	}
	if ok, err := c.exists(ctx, recItemFulfillment, d.ExternalID); err != nil || ok {
		return err
	}
	t, err := c.transferOrder(d)
	if err != nil {
		return mappingError(err)
	}
	if err := c.upsert(ctx, recTransferOrder, d.Reference, "item", t); err != nil {
		return err
	}
	return c.transform(ctx, recTransferOrder, "eid:"+externalID(d.Reference), recItemFulfillment, d, "POS transfer "+d.Reference+" shipped")
}

// receiveTransfer books a transfer in at its destination: an item receipt
// from the transfer order (every line shipped and not yet received).
func (c *Connector) receiveTransfer(ctx context.Context, d *erp.Document) error {
	if d.Reference == "" {
		return erp.PermanentError(errors.New("a transfer receipt needs its transfer ID"))
	}
	if ok, err := c.exists(ctx, recItemReceipt, d.ExternalID); err != nil || ok {
		return err
	}
	return c.transform(ctx, recTransferOrder, "eid:"+externalID(d.Reference), recItemReceipt, d, "POS transfer "+d.Reference+" received")
}

// fulfil ships a web order: an item fulfillment from its sales order.
func (c *Connector) fulfil(ctx context.Context, d *erp.Document) error {
	if d.Reference == "" {
		return erp.PermanentError(errors.New("a fulfilment needs its order ID"))
	}
	if ok, err := c.exists(ctx, recItemFulfillment, d.ExternalID); err != nil || ok {
		return err
	}
	id, err := c.findOrder(ctx, d.Reference)
	if err != nil {
		return err
	}
	return c.transform(ctx, recSalesOrder, id, recItemFulfillment, d, "web order "+d.Reference+" shipped")
}

// cancel closes what is left of a web order: every open line of its sales
// order (PATCH with the lines' keys; Oracle's transfer order sample closes
// lines the same way). Closing closed lines changes nothing, so a
// redelivery is harmless; no record is created.
func (c *Connector) cancel(ctx context.Context, d *erp.Document) error {
	if d.Reference == "" {
		return erp.PermanentError(errors.New("an order cancellation needs its order ID"))
	}
	id, err := c.findOrder(ctx, d.Reference)
	if err != nil {
		return err
	}
	var order struct {
		Item struct {
			Items []closeLine `json:"items"`
		} `json:"item"`
	}
	if err := c.call(ctx, http.MethodGet, recordPath+recSalesOrder+"/"+id, "expandSubResources=true", nil, &order); err != nil {
		return err
	}
	var open closeLines
	for _, l := range order.Item.Items {
		if !l.IsClosed {
			open.Item.Items = append(open.Item.Items, closeLine{Line: l.Line, IsClosed: true})
		}
	}
	if len(open.Item.Items) == 0 {
		return nil
	}
	return c.call(ctx, http.MethodPatch, recordPath+recSalesOrder+"/"+id, "", open, nil)
}

// orderShipped reports whether the sales order with an external ID exists
// and some of its lines have been fulfilled (false if there is none).
func (c *Connector) orderShipped(ctx context.Context, id string) (bool, error) {
	var order struct {
		Item struct {
			Items []struct {
				QuantityFulfilled json.Number `json:"quantityFulfilled"`
			} `json:"items"`
		} `json:"item"`
	}
	err := c.call(ctx, http.MethodGet, recordPath+recSalesOrder+"/eid:"+externalID(id), "expandSubResources=true", nil, &order)
	switch {
	case status(err) == http.StatusNotFound:
		return false, nil
	case err != nil:
		return false, err
	}
	for _, l := range order.Item.Items {
		if q, ok := new(big.Rat).SetString(l.QuantityFulfilled.String()); ok && q.Sign() > 0 {
			return true, nil
		}
	}
	return false, nil
}

// findOrder returns the internal ID of the sales order whose otherRefNum
// is the web order number (record collection filtering, Oracle, "Record
// Collection Filtering":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545222128.html).
func (c *Connector) findOrder(ctx context.Context, orderID string) (string, error) {
	var found struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	q := "q=" + percentEncode(`otherRefNum IS "`+orderID+`"`)
	if err := c.call(ctx, http.MethodGet, recordPath+recSalesOrder, q, nil, &found); err != nil {
		return "", err
	}
	switch len(found.Items) {
	case 0:
		return "", erp.Retryable(fmt.Errorf("no sales order with otherRefNum %q in NetSuite yet", orderID))
	case 1:
		if _, err := internalID("sales order", found.Items[0].ID); err != nil || found.Items[0].ID == "" {
			return "", erp.Retryable(fmt.Errorf("NetSuite answered sales order ID %q for %q", found.Items[0].ID, orderID))
		}
		return found.Items[0].ID, nil
	}
	return "", erp.PermanentError(fmt.Errorf("%d sales orders have otherRefNum %q; a person has to say which one this is", len(found.Items), orderID))
}

// governanceLimits is the governanceLimits answer (Oracle, "GovernanceLimits
// Operation": https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/article_0625010817.html):
//
//	{"accountConcurrencyLimit": 5, "accountUnallocatedConcurrencyLimit": 3,
//	 "integrationConcurrencyLimit": 2, "integrationLimitType": "integrationSpecific"}
type governanceLimits struct {
	AccountConcurrencyLimit            int    `json:"accountConcurrencyLimit"`
	AccountUnallocatedConcurrencyLimit int    `json:"accountUnallocatedConcurrencyLimit"`
	IntegrationConcurrencyLimit        int    `json:"integrationConcurrencyLimit"`
	IntegrationLimitType               string `json:"integrationLimitType"`
}

// ReadLimits implements erp.LimitReader. The limit that binds tillsync is
// the one allocated to its integration record when there is one
// (integrationSpecific); otherwise it shares the account's unallocated
// limit with every integration without one (accountLimit), and an
// internal application the account's. NetSuite answers only to
// administrator roles; any other role gets an error, and the configured
// concurrency stays in force.
func (c *Connector) ReadLimits(ctx context.Context) (erp.Limits, error) {
	var g governanceLimits
	if err := c.call(ctx, http.MethodGet, governancePath, "", nil, &g); err != nil {
		return erp.Limits{}, fmt.Errorf("netsuite governanceLimits: %w", err)
	}
	n := g.AccountConcurrencyLimit
	switch g.IntegrationLimitType {
	case "integrationSpecific":
		if g.IntegrationConcurrencyLimit > 0 {
			n = g.IntegrationConcurrencyLimit
		}
	case "accountLimit":
		if g.AccountUnallocatedConcurrencyLimit > 0 {
			n = g.AccountUnallocatedConcurrencyLimit
		}
	}
	if n <= 0 {
		return erp.Limits{}, fmt.Errorf("netsuite governanceLimits: no concurrency limit in the answer %+v", g)
	}
	return erp.Limits{Concurrency: n}, nil
}

// Check implements erp.Checker: it reads the configured customer (and
// subsidiary), which proves that the credentials and the realm are right,
// that the role may use REST web services, and that the IDs exist.
func (c *Connector) Check(ctx context.Context) error {
	checks := []struct{ typ, id, field string }{{"customer", c.cfg.customer, "customer"}}
	if c.cfg.subsidiary != "" {
		checks = append(checks, struct{ typ, id, field string }{"subsidiary", c.cfg.subsidiary, "subsidiary"})
	}
	for _, k := range checks {
		err := c.call(ctx, http.MethodGet, recordPath+k.typ+"/"+k.id, "fields=id", nil, nil)
		if status(err) == http.StatusNotFound {
			return fmt.Errorf("netsuite check: setting %s: NetSuite has no %s with internal ID %s: %w", k.field, k.typ, k.id, err)
		}
		if err != nil {
			return fmt.Errorf("netsuite check: %w", err)
		}
	}
	return nil
}
