// Package erptest is the conformance suite every ERP connector passes, and
// the in-memory fake with it: delivery of each document kind, idempotence
// under redelivery, the commit-then-drop case, rate limiting, permanent
// errors and partial batch failure.
package erptest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
)

// Target is one connector wired to an ERP (simulator or fake) the suite
// can inspect and disturb.
type Target struct {
	Connector erp.Connector
	// Kinds are the document kinds the connector posts.
	Kinds []erp.Kind
	// Records returns how many times each external ID was created.
	Records func() map[string]int
	// Throttle makes the ERP refuse the next request for load.
	Throttle func()
	// DropAfterCommit makes the ERP commit the next write, then drop the
	// connection before answering.
	DropAfterCommit func()
	// Invalid returns a document the ERP refuses permanently.
	Invalid func(externalID string) erp.Document
}

// Run runs the suite; newTarget returns a fresh target for each test.
func Run(t *testing.T, newTarget func(t *testing.T) *Target) {
	t.Helper()
	t.Run("DeliversEachKind", func(t *testing.T) { delivers(t, newTarget(t)) })
	t.Run("IdempotentUnderRedelivery", func(t *testing.T) { idempotent(t, newTarget(t)) })
	t.Run("CommitThenDrop", func(t *testing.T) { commitThenDrop(t, newTarget(t)) })
	t.Run("RateLimited", func(t *testing.T) { rateLimited(t, newTarget(t)) })
	t.Run("PermanentError", func(t *testing.T) { permanent(t, newTarget(t)) })
	t.Run("PartialBatchFailure", func(t *testing.T) { partial(t, newTarget(t)) })
}

// Sample returns a realistic document of a kind, built from canonical
// events the way the destination engine builds it.
func Sample(kind erp.Kind, externalID string) erp.Document {
	at := et.Base
	var e *event.Event
	targets := map[string]*event.Event{}
	switch kind {
	case erp.CashSale:
		e = et.Sale(externalID, "store-1", at, et.L("TEE-1", 2), et.L("CAP-2", 1))
	case erp.CashRefund:
		e = et.Return(externalID, "store-1", at, "", et.L("TEE-1", 1)) // a return without its receipt
	case erp.InventoryAdjustment:
		e = et.Adjust(externalID, "store-1", at, et.L("TEE-1", -1), et.L("CAP-2", 3))
	case erp.InventoryCount:
		e = et.Count(externalID, "store-1", at, et.L("TEE-1", 12))
	case erp.TransferOrder:
		e = et.TransferOut(externalID, "store-1", at, "tr-"+externalID, "store-2", et.L("TEE-1", 2))
	case erp.TransferReceipt:
		e = et.TransferIn(externalID, "store-2", at, "tr-"+externalID, "store-1", et.L("TEE-1", 2))
	case erp.SalesOrder:
		e = et.Order(externalID, "store-1", at, "web-"+externalID, "web", et.L("TEE-1", 1))
	case erp.Fulfilment:
		e = et.Fulfil(externalID, "store-1", at, "web-"+externalID, et.L("TEE-1", 1))
	case erp.OrderCancel:
		e = et.Cancel(externalID, "store-1", at, "web-"+externalID)
	case erp.Summary:
		return erp.Document{Kind: erp.Summary, ExternalID: externalID, Location: "store-1", Date: at,
			LocalDate: "2026-11-27", Currency: "EUR", PeriodStart: at, PeriodEnd: at.Add(time.Hour),
			Payments: []erp.Payment{{Method: "card", Brand: "visa", Amount: 123400}, {Method: "cash", Amount: 5600}},
			Taxes:    []erp.TaxLine{{Code: "DE-VAT-19", RateBP: 1900, Amount: 20597}},
			Lines:    []erp.Line{{SKU: "TEE-1", Quantity: event.Units(40), Amount: 99000}, {SKU: "CAP-2", Quantity: event.Units(10), Amount: 30000}},
			EventIDs: []string{"e1", "e2", "e3"}}
	default:
		panic(fmt.Sprintf("erptest: no sample for %s", kind))
	}
	d, ok, err := erp.Detail(e, func(id string) *event.Event { return targets[id] })
	if err != nil || !ok {
		panic(fmt.Sprintf("erptest: sample %s: %v", kind, err))
	}
	return *d
}

func post(t *testing.T, tg *Target, docs ...erp.Document) []error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs, err := tg.Connector.Post(ctx, docs)
	if err != nil {
		out := make([]error, len(docs))
		for i := range out {
			out[i] = err
		}
		return out
	}
	if len(errs) != len(docs) {
		t.Fatalf("Post returned %d results for %d documents", len(errs), len(docs))
	}
	return errs
}

func mustPost(t *testing.T, tg *Target, docs ...erp.Document) {
	t.Helper()
	errs := post(t, tg, docs...) // one per document, or post fails the test
	for i, d := range docs {
		if errs[i] != nil {
			t.Fatalf("post %s %s: %v", d.Kind, d.ExternalID, errs[i])
		}
	}
}

func wantRecords(t *testing.T, tg *Target, ids ...string) {
	t.Helper()
	recs := tg.Records()
	for _, id := range ids {
		if recs[id] != 1 {
			t.Errorf("record %s created %d times, want exactly once", id, recs[id])
		}
	}
}

func delivers(t *testing.T, tg *Target) {
	var ids []string
	for _, k := range tg.Kinds {
		id := "conf-" + string(k)
		mustPost(t, tg, Sample(k, id))
		ids = append(ids, id)
	}
	wantRecords(t, tg, ids...)
}

func idempotent(t *testing.T, tg *Target) {
	var docs []erp.Document
	var ids []string
	for _, k := range tg.Kinds {
		id := "idem-" + string(k)
		docs = append(docs, Sample(k, id))
		ids = append(ids, id)
	}
	for _, d := range docs {
		mustPost(t, tg, d)
	}
	for round := 0; round < 2; round++ { // redelivered one by one, then again
		for _, d := range docs {
			mustPost(t, tg, d)
		}
	}
	wantRecords(t, tg, ids...)
}

func commitThenDrop(t *testing.T, tg *Target) {
	d := Sample(tg.Kinds[0], "drop-1")
	tg.DropAfterCommit()
	errs := post(t, tg, d)
	if errs[0] == nil {
		t.Fatal("a dropped connection reported success")
	}
	if c, _ := erp.Classify(errs[0]); c != erp.Retry {
		t.Fatalf("a dropped connection classified %s, want retry: %v", c, errs[0])
	}
	mustPost(t, tg, d) // the retry finds (or updates) the committed record
	wantRecords(t, tg, "drop-1")
}

func rateLimited(t *testing.T, tg *Target) {
	d := Sample(tg.Kinds[0], "rate-1")
	tg.Throttle()
	errs := post(t, tg, d)
	if errs[0] == nil {
		t.Fatal("a throttled request reported success")
	}
	if c, _ := erp.Classify(errs[0]); c != erp.RateLimited {
		t.Fatalf("a throttled request classified %s, want rate_limited: %v", c, errs[0])
	}
	mustPost(t, tg, d)
	wantRecords(t, tg, "rate-1")
}

func permanent(t *testing.T, tg *Target) {
	errs := post(t, tg, tg.Invalid("bad-1"))
	if errs[0] == nil {
		t.Fatal("an invalid document was accepted")
	}
	if c, _ := erp.Classify(errs[0]); c != erp.Permanent {
		t.Fatalf("an invalid document classified %s, want permanent: %v", c, errs[0])
	}
	if n := tg.Records()["bad-1"]; n != 0 {
		t.Fatalf("an invalid document created %d records", n)
	}
}

func partial(t *testing.T, tg *Target) {
	if tg.Connector.MaxBatch() < 3 {
		t.Skipf("the connector posts %d document(s) per call: no partial batches", tg.Connector.MaxBatch())
	}
	k := tg.Kinds[0]
	docs := []erp.Document{Sample(k, "part-1"), tg.Invalid("part-bad"), Sample(k, "part-2")}
	errs := post(t, tg, docs...)
	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("good documents in a batch with a bad one failed: %v, %v", errs[0], errs[2])
	}
	if c, _ := erp.Classify(errs[1]); errs[1] == nil || c != erp.Permanent {
		t.Fatalf("the bad document in a batch: %v (want permanent)", errs[1])
	}
	wantRecords(t, tg, "part-1", "part-2")
}
