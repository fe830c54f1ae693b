package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/inventory"
)

// TestSignKnownAnswer checks Sign against RFC 4231 test case 2 (HMAC-SHA256,
// key "Jefe"), base64-encoded as Shopify sends it. Shopify's docs publish no
// fixed example digest; this pins the HMAC and the encoding independently.
func TestSignKnownAnswer(t *testing.T) {
	t.Parallel()
	got := Sign("Jefe", []byte("what do ya want for nothing?"))
	if want := "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if err := Verify([]string{"Jefe"}, got, []byte("what do ya want for nothing?")); err != nil {
		t.Fatal(err)
	}
}

func TestSignatureAnswers(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "orders_create_web.json")
	tampered := bytes.Replace(body, []byte(`"199.00"`), []byte(`"1.00"`), 1)
	cases := []struct {
		name   string
		r      req
		rotate bool
		code   int
		err    string
	}{
		{name: "valid", r: req{topic: TopicOrdersCreate, body: body}, code: 200},
		{name: "missing header", r: req{topic: TopicOrdersCreate, body: body, secret: "-"}, code: 401, err: CodeNoSignature},
		{name: "wrong secret", r: req{topic: TopicOrdersCreate, body: body, secret: "not-the-secret"}, code: 401, err: CodeBadSignature},
		{name: "tampered body", r: req{topic: TopicOrdersCreate, body: tampered, header: map[string]string{HeaderHMAC: Sign(testSecret, body)}}, code: 401, err: CodeBadSignature},
		{name: "not base64", r: req{topic: TopicOrdersCreate, body: body, header: map[string]string{HeaderHMAC: "%%%"}}, code: 401, err: CodeBadSignature},
		{name: "hex instead of base64", r: req{topic: TopicOrdersCreate, body: body, header: map[string]string{HeaderHMAC: strings.Repeat("ab", 32)}}, code: 401, err: CodeBadSignature},
		{name: "empty body", r: req{topic: TopicOrdersCreate, body: []byte{}}, code: 400, err: CodeEmptyBody},
		{name: "old secret without rotation", r: req{topic: TopicOrdersCreate, body: body, secret: oldSecret}, code: 401, err: CodeBadSignature},
		{name: "old secret during rotation", r: req{topic: TopicOrdersCreate, body: body, secret: oldSecret}, rotate: true, code: 200},
		{name: "new secret during rotation", r: req{topic: TopicOrdersCreate, body: body}, rotate: true, code: 200},
		{name: "other shop", r: req{topic: TopicOrdersCreate, body: body, header: map[string]string{HeaderShopDomain: "someone-else.myshopify.com"}}, code: 403, err: CodeWrongShop},
		{name: "no topic", r: req{topic: "", body: body}, code: 400, err: CodeMissingHeader},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(cfg *Config, _ *Deps) {
				if c.rotate {
					cfg.Secrets = []string{testSecret, oldSecret}
				}
			})
			code, out := b.post(t, c.r)
			if code != c.code || errorCode(out) != c.err {
				t.Fatalf("answer %d %v, want %d %q", code, out, c.code, c.err)
			}
			if code != 200 && len(b.sink.events()) != 0 {
				t.Fatal("a refused delivery stored events")
			}
		})
	}
}

func TestMethodAndSize(t *testing.T) {
	t.Parallel()
	b := setup(t, func(cfg *Config, _ *Deps) { cfg.MaxBodyBytes = 1024 })
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", http.NoBody))
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", w.Code)
	}
	code, out := b.post(t, req{topic: TopicOrdersCreate, body: readTestdata(t, "orders_create_web.json")})
	if code != http.StatusRequestEntityTooLarge || errorCode(out) != CodeBodyTooLarge {
		t.Fatalf("large body: %d %v", code, out)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	cfg := Config{Shop: "bad shop!", Secrets: []string{"a", "b", "c"}, Locations: map[string]string{"x1": "s"},
		Zone: "Mars/Olympus", Gateways: map[string]string{"paypal": "crypto"}, InventoryLevels: "maybe"}
	cfg.defaults()
	err := cfg.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"shop:", "secrets:", "default_location:", "locations:", "zone:", "gateways.paypal:", "inventory_levels:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
	if _, err := New(testConfig(), Deps{}); err == nil {
		t.Error("New without Submit succeeded")
	}
}

func TestDuplicateDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var calls atomic.Int64
	counting := submitterFunc(func(ctx context.Context, es []*event.Event) ([]intake.Outcome, error) {
		calls.Add(1)
		return b.sink.Submit(ctx, es)
	})
	b.h.deps.Submit = counting
	body := readTestdata(t, "orders_create_pos.json")
	for i, want := range []string{"accepted", "duplicate"} {
		code, out := b.post(t, req{topic: TopicOrdersCreate, body: body, eventID: "evt-1"})
		if code != 200 || out["status"] != want {
			t.Fatalf("delivery %d: %d %v, want %s", i, code, out, want)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("the repeated X-Shopify-Event-Id reached the log: %d submits", calls.Load())
	}
	// Another event ID for the same order (a second subscription, or a
	// redelivery after a restart): the canonical ID makes it a duplicate.
	code, out := b.post(t, req{topic: TopicOrdersCreate, body: body, eventID: "evt-2"})
	if code != 200 || out["status"] != "duplicate" {
		t.Fatalf("redelivery under a new event ID: %d %v", code, out)
	}
	// After a restart (a new handler, empty memories) the log still
	// dedupes, and the fulfillment of the POS order is recognized as
	// already sold through Lookup.
	restarted := setup(t)
	restarted.sink = b.sink
	restarted.h.deps.Submit, restarted.h.deps.Lookup = b.sink, b.sink.Lookup
	code, out = restarted.post(t, req{topic: TopicOrdersCreate, body: body, eventID: "evt-1"})
	if code != 200 || out["status"] != "duplicate" {
		t.Fatalf("after restart: %d %v", code, out)
	}
	ful := []byte(`{"id": 4567890123456700001, "order_id": 5735166398293712345, "status": "success",
		"created_at": "2026-11-27T10:15:03+01:00", "location_id": 24826418,
		"line_items": [{"id": 5688971493691234567, "variant_id": 44960387186745, "sku": "SCARF-RED", "quantity": 2, "price": "12.99"}]}`)
	code, out = restarted.post(t, req{topic: TopicFulfillmentsCreate, body: ful})
	if code != 200 || out["status"] != "ignored" {
		t.Fatalf("fulfillment of a POS order after restart: %d %v", code, out)
	}
	if n := len(b.sink.events()); n != 1 {
		t.Fatalf("%d events in the log, want the one sale", n)
	}
}

type submitterFunc func(context.Context, []*event.Event) ([]intake.Outcome, error)

func (f submitterFunc) Submit(ctx context.Context, es []*event.Event) ([]intake.Outcome, error) {
	return f(ctx, es)
}

func TestSubmitFailures(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		code int
		want string
	}{
		{intake.ErrOverloaded, 503, CodeUnavailable},
		{intake.ErrClosed, 503, CodeUnavailable},
		{context.DeadlineExceeded, 503, CodeUnavailable},
		{errors.New("disk full"), 500, CodeStorageFailed},
	} {
		b := setup(t)
		b.h.deps.Submit = submitterFunc(func(context.Context, []*event.Event) ([]intake.Outcome, error) { return nil, c.err })
		code, out := b.post(t, req{topic: TopicOrdersCreate, body: readTestdata(t, "orders_create_pos.json"), eventID: "e"})
		if code != c.code || errorCode(out) != c.want {
			t.Errorf("%v: %d %v, want %d %s", c.err, code, out, c.code, c.want)
		}
		// Not remembered: the retry must be processed.
		b.h.deps.Submit = b.sink
		if code, out := b.post(t, req{topic: TopicOrdersCreate, body: readTestdata(t, "orders_create_pos.json"), eventID: "e"}); code != 200 || out["status"] != "accepted" {
			t.Errorf("%v: retry answered %d %v", c.err, code, out)
		}
	}
}

func TestPlacementAnswers(t *testing.T) {
	t.Parallel()
	unknownLoc := bytes.Replace(readTestdata(t, "orders_create_pos.json"), []byte(`"location_id": 24826418`), []byte(`"location_id": 99999999999`), 1)
	noSKU := bytes.Replace(readTestdata(t, "orders_create_web.json"), []byte(`"sku": "IPOD2008PINK"`), []byte(`"sku": ""`), 1)
	badMoney := bytes.ReplaceAll(readTestdata(t, "orders_create_pos.json"), []byte(`"12.99"`), []byte(`"12.999"`))
	negative := bytes.ReplaceAll(readTestdata(t, "orders_create_web.json"), []byte(`"199.00"`), []byte(`"-199.00"`))
	floatID := []byte(`{"id": 8.209829119461545e17, "line_items": []}`)
	cases := []struct {
		name  string
		topic string
		body  []byte
		park  bool
		code  int
		err   string
		state string
	}{
		{"unknown location", TopicOrdersCreate, unknownLoc, false, 422, CodeUnplaceable, ""},
		{"unknown location parked", TopicOrdersCreate, unknownLoc, true, 200, "", "parked"},
		{"variant without SKU", TopicOrdersCreate, noSKU, false, 422, CodeUnplaceable, ""},
		{"malformed money", TopicOrdersCreate, badMoney, false, 400, CodeMalformed, ""},
		{"negative price", TopicOrdersCreate, negative, false, 400, CodeInvalidEvent, ""},
		{"float ID", TopicOrdersCreate, floatID, false, 400, CodeMalformed, ""},
		{"not JSON", TopicOrdersCreate, []byte("<xml/>"), false, 400, CodeMalformed, ""},
		{"array", TopicRefundsCreate, []byte("[]"), false, 400, CodeMalformed, ""},
		{"unknown topic", "carts/update", []byte(`{"id": 1}`), false, 200, "", "ignored"},
		{"paid", TopicOrdersPaid, readTestdata(t, "orders_paid.json"), false, 200, "", "ignored"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var parked []Parked
			b := setup(t, func(_ *Config, d *Deps) {
				if c.park {
					d.Park = func(_ context.Context, p Parked) error { parked = append(parked, p); return nil }
				}
			})
			code, out := b.post(t, req{topic: c.topic, body: c.body})
			if code != c.code || errorCode(out) != c.err || (c.state != "" && out["status"] != c.state) {
				t.Fatalf("answer %d %v, want %d %q %q", code, out, c.code, c.err, c.state)
			}
			if c.code == 200 && c.state != "" && len(b.sink.events()) != 0 {
				t.Fatalf("%s stored events", c.state)
			}
			if c.park && (len(parked) != 1 || !bytes.Equal(parked[0].Payload, c.body) || parked[0].Reason == "") {
				t.Fatalf("parked %+v", parked)
			}
		})
	}
}

func TestIDConflictIsUnplaceable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := readTestdata(t, "refunds_create.json")
	if code, out := b.post(t, req{topic: TopicRefundsCreate, body: body}); code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	// Same refund ID, different content: the log refuses it.
	changed := bytes.Replace(body, []byte(`"quantity": 1,
      "restock_type": "return"`), []byte(`"quantity": 2,
      "restock_type": "return"`), 1)
	code, out := b.post(t, req{topic: TopicRefundsCreate, body: changed})
	if code != 422 || errorCode(out) != CodeUnplaceable || !strings.Contains(out["error"].(map[string]any)["message"].(string), "refused") {
		t.Fatalf("%d %v", code, out)
	}
}

func TestWaitingForReferences(t *testing.T) {
	t.Parallel()
	b := setup(t)
	level := readTestdata(t, "inventory_levels_update.json")
	// The item's SKU is not known yet: a young delivery is retried…
	code, out := b.post(t, req{topic: TopicInventoryLevelsUpdate, body: level})
	if code != 503 || errorCode(out) != CodeNotYet {
		t.Fatalf("young: %d %v", code, out)
	}
	// …an old one cannot wait any longer.
	code, out = b.post(t, req{topic: TopicInventoryLevelsUpdate, body: level, triggeredAt: b.now.Add(-3 * time.Hour)})
	if code != 422 || errorCode(out) != CodeUnplaceable {
		t.Fatalf("old: %d %v", code, out)
	}
	// A fulfillment of an order not seen yet waits too; once the wait is
	// over it is mapped as a web order's.
	ful := readTestdata(t, "fulfillments_create.json")
	if code, out := b.post(t, req{topic: TopicFulfillmentsCreate, body: ful}); code != 503 || errorCode(out) != CodeNotYet {
		t.Fatalf("fulfillment first: %d %v", code, out)
	}
	if code, out := b.post(t, req{topic: TopicFulfillmentsCreate, body: ful, triggeredAt: b.now.Add(-time.Hour)}); code != 200 || out["status"] != "accepted" {
		t.Fatalf("fulfillment after the wait: %d %v", code, out)
	}
	// A SKU resolver (an Admin API client, a catalog table) answers what
	// the handler has not learned.
	r := setup(t, func(_ *Config, d *Deps) {
		d.ResolveSKU = func(_ context.Context, item string) (string, error) {
			if item == "271878346596884015" {
				return "SCARF-RED", nil
			}
			return "", nil
		}
	})
	if code, out := r.post(t, req{topic: TopicInventoryLevelsUpdate, body: level}); code != 200 || out["status"] != "accepted" {
		t.Fatalf("resolved: %d %v", code, out)
	}
}

// TestStaleAndSupersededLevels: a retry that arrives hours late carries an
// older level than one already counted; the newer count stands and the
// handler counts both the stale delivery and the superseded level.
func TestStaleAndSupersededLevels(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config, _ *Deps) { c.SKUs = map[string]string{"271878346596884015": "SCARF-RED"} })
	level := func(avail int, at string) []byte {
		return []byte(`{"inventory_item_id": 271878346596884015, "location_id": 24826418, "available": ` +
			strconv.Itoa(avail) + `, "updated_at": "` + at + `"}`)
	}
	if code, out := b.post(t, req{topic: TopicInventoryLevelsUpdate, body: level(4, "2026-11-30T12:30:00+01:00")}); code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	stale := req{topic: TopicInventoryLevelsUpdate, body: level(9, "2026-11-30T09:00:00+01:00"), triggeredAt: b.now.Add(-3 * time.Hour)}
	if code, out := b.post(t, stale); code != 200 || out["status"] != "accepted" {
		t.Fatalf("%d %v", code, out)
	}
	st := b.h.Stats()
	if st.Stale != 1 || st.Superseded != 1 {
		t.Fatalf("stats %+v, want one stale delivery and one superseded level", st)
	}
	p := b.sink.ledger.Position(inventory.Key{SKU: "SCARF-RED", Location: "store-berlin"})
	if p.OnHand() != event.Units(4) {
		t.Fatalf("on hand %s, want the newer level 4", p.OnHand())
	}
	// Negative available (oversold in Shopify) counts as zero.
	if code, out := b.post(t, req{topic: TopicInventoryLevelsUpdate, body: level(-2, "2026-11-30T12:45:00+01:00")}); code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	if p := b.sink.ledger.Position(inventory.Key{SKU: "SCARF-RED", Location: "store-berlin"}); p.OnHand() != 0 {
		t.Fatalf("on hand %s after a negative level, want 0", p.OnHand())
	}
	// Levels of unmapped locations and ignored levels store nothing.
	n := len(b.sink.events())
	other := []byte(`{"inventory_item_id": 271878346596884015, "location_id": 123, "available": 1, "updated_at": "2026-11-30T12:50:00+01:00"}`)
	if code, out := b.post(t, req{topic: TopicInventoryLevelsUpdate, body: other}); code != 200 || out["status"] != "ignored" {
		t.Fatalf("%d %v", code, out)
	}
	ig := setup(t, func(c *Config, _ *Deps) { c.InventoryLevels = LevelsIgnore })
	if code, out := ig.post(t, req{topic: TopicInventoryLevelsUpdate, body: level(4, "2026-11-30T12:30:00+01:00")}); code != 200 || out["status"] != "ignored" {
		t.Fatalf("%d %v", code, out)
	}
	if len(b.sink.events()) != n {
		t.Fatal("an ignored level was stored")
	}
}

// TestPrepareRunsBeforeValidate: the redaction hook sees every event before
// it is validated and stored.
func TestPrepareRunsBeforeValidate(t *testing.T) {
	t.Parallel()
	var seen []string
	b := setup(t, func(_ *Config, d *Deps) {
		d.Prepare = func(e *event.Event) {
			seen = append(seen, e.ID)
			e.Attributes["redacted"] = "yes"
		}
	})
	if code, out := b.post(t, req{topic: TopicRefundsCreate, body: readTestdata(t, "refunds_create.json")}); code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	evs := b.sink.events()
	if len(seen) != 1 || len(evs) != 1 || evs[0].Attributes["redacted"] != "yes" {
		t.Fatalf("prepare saw %v; stored %d events", seen, len(evs))
	}
	// Prepare breaking an event turns into a 400 naming the field.
	bad := setup(t, func(_ *Config, d *Deps) { d.Prepare = func(e *event.Event) { e.Zone = "" } })
	code, out := bad.post(t, req{topic: TopicRefundsCreate, body: readTestdata(t, "refunds_create.json")})
	if code != 400 || errorCode(out) != CodeInvalidEvent || !strings.Contains(mustJSON(t, out), "zone") {
		t.Fatalf("%d %v", code, out)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRefundRestockElsewhere: lines restocked at two locations become the
// refund at the first (with the money) and a zero-priced restock at the
// other, so stock is right at both and the money is booked once.
func TestRefundRestockElsewhere(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := bytes.Replace(readTestdata(t, "refunds_create.json"), []byte(`"location_id": null,
      "quantity": 1,
      "restock_type": "no_restock"`), []byte(`"location_id": 70000000001,
      "quantity": 1,
      "restock_type": "return"`), 1)
	if code, out := b.post(t, req{topic: TopicRefundsCreate, body: body}); code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	evs := b.sink.events()
	if len(evs) != 2 || evs[1].Location != "store-hamburg" || evs[1].ID != evs[0].ID+":restock:70000000001" {
		t.Fatalf("events %s", mustJSON(t, evs))
	}
	if p := b.sink.ledger.Position(inventory.Key{SKU: "BEANIE-GREY", Location: "store-hamburg"}); p.OnHand() != event.Units(1) {
		t.Fatalf("BEANIE-GREY@store-hamburg on hand %s, want 1", p.OnHand())
	}
	if p := b.sink.ledger.Position(inventory.Key{SKU: "BEANIE-GREY", Location: "store-berlin"}); p.OnHand() != 0 {
		t.Fatalf("BEANIE-GREY@store-berlin on hand %s, want 0", p.OnHand())
	}
}

// TestSlowCommitAnswersInTime: a commit that hangs is cut off at
// SubmitTimeout and answered 503, well inside Shopify's 5 s.
func TestSlowCommitAnswersInTime(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config, d *Deps) {
		c.SubmitTimeout = 50 * time.Millisecond
		d.Submit = submitterFunc(func(ctx context.Context, _ []*event.Event) ([]intake.Outcome, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
	})
	start := time.Now()
	code, out := b.post(t, req{topic: TopicOrdersCreate, body: readTestdata(t, "orders_create_pos.json")})
	if code != 503 || errorCode(out) != CodeUnavailable || time.Since(start) > 2*time.Second {
		t.Fatalf("%d %v after %s", code, out, time.Since(start))
	}
}

func TestCollector(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if code, _ := b.post(t, req{topic: TopicOrdersCreate, body: readTestdata(t, "orders_create_pos.json")}); code != 200 {
		t.Fatal(code)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(b.h)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" {
					key += "/" + l.GetValue()
				}
			}
			got[key] = m.GetCounter().GetValue()
		}
	}
	if got["tillsync_shopify_deliveries_total/accepted"] != 1 || got["tillsync_shopify_events_total"] != 1 ||
		got["tillsync_shopify_superseded_levels_total"] != 0 || len(got) != 12 {
		t.Fatalf("metrics %v", got)
	}
}
