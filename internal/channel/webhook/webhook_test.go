package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/channel/webhook"
	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/store"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

var secret = []byte("whsec-test")

// attempt is one POST the receiver got.
type attempt struct {
	delivery string
	status   int
	payload  webhook.Payload
	// cursor is the destination's stored cursor while the attempt was being
	// answered.
	cursor int64
}

// receiver is a webhook endpoint that verifies every signature and answers
// from a script: the statuses of the next attempts (then 200), or 503 while
// down.
type receiver struct {
	t      *testing.T
	st     *store.Store
	cursor string
	srv    *httptest.Server

	mu       sync.Mutex
	script   []int
	down     bool
	attempts []attempt
}

func newReceiver(t *testing.T, st *store.Store, name string) *receiver {
	r := &receiver{t: t, st: st, cursor: "webhook:" + name}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Errorf("receiver: read body: %v", err)
		return
	}
	if err := webhook.Verify(secret, req.Header, body, time.Now(), time.Minute); err != nil {
		r.t.Errorf("receiver: delivery does not verify: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		r.t.Errorf("receiver: Content-Type %q", ct)
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("receiver: payload does not decode: %v", err)
	}
	id := req.Header.Get(webhook.HeaderDelivery)
	if id == "" || id != p.DeliveryID {
		r.t.Errorf("receiver: delivery header %q, payload delivery_id %q", id, p.DeliveryID)
	}
	cur, err := r.st.Cursor(req.Context(), r.cursor)
	if err != nil {
		r.t.Errorf("receiver: read cursor: %v", err)
	}
	r.mu.Lock()
	status := http.StatusOK
	switch {
	case r.down:
		status = http.StatusServiceUnavailable
	case len(r.script) > 0:
		status, r.script = r.script[0], r.script[1:]
	}
	r.attempts = append(r.attempts, attempt{delivery: id, status: status, payload: p, cursor: cur})
	r.mu.Unlock()
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "0")
	}
	w.WriteHeader(status)
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

func (r *receiver) all() []attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]attempt(nil), r.attempts...)
}

// delivered returns the payloads that were answered 2xx, in order.
func (r *receiver) delivered() []webhook.Payload {
	var out []webhook.Payload
	for _, a := range r.all() {
		if a.status < 300 {
			out = append(out, a.payload)
		}
	}
	return out
}

// latest returns the last delivered value per key.
func (r *receiver) latest() map[availability.Key]availability.Update {
	m := map[availability.Key]availability.Update{}
	for _, p := range r.delivered() {
		for _, u := range p.Updates {
			m[u.Key()] = u
		}
	}
	return m
}

type bundle struct {
	st      *store.Store
	notify  *destination.Notifier
	reg     *prometheus.Registry
	metrics *destination.Metrics
}

func setup(t *testing.T, e storetest.Engine) *bundle {
	t.Helper()
	reg := prometheus.NewRegistry()
	return &bundle{st: storetest.Open(t, e), notify: destination.NewNotifier(), reg: reg, metrics: destination.NewMetrics(reg)}
}

var sqlite = storetest.Engine{Name: "sqlite", DSN: storetest.SQLiteDSN}

// start runs a destination until the test ends.
func (b *bundle) start(t *testing.T, cfg webhook.Config) {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = secret
	}
	if cfg.Backoff.Min == 0 {
		cfg.Backoff = destination.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond}
	}
	if cfg.Channels == nil {
		cfg.Channels = []availability.Channel{{Name: "web"}}
	}
	d := webhook.New(cfg, b.st, b.notify, &http.Client{}, b.metrics, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := d.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

var clock = et.Base

// appendEvents stores events as the hub's committer would, then wakes the
// destinations.
func (b *bundle) appendEvents(t *testing.T, evs ...*event.Event) int64 {
	t.Helper()
	out, err := b.st.Append(context.Background(), evs, time.Now())
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	b.notify.Broadcast()
	return out.MaxSeq
}

func (b *bundle) cursor(t *testing.T, name string) int64 {
	t.Helper()
	c, err := b.st.Cursor(context.Background(), "webhook:"+name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (b *bundle) gauge(t *testing.T, name, dest string) (float64, bool) {
	t.Helper()
	fams, err := b.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "destination" && l.GetValue() == dest {
					return m.GetGauge().GetValue(), true
				}
			}
		}
	}
	return 0, false
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func at(minute int) time.Time { return clock.Add(time.Duration(minute) * time.Minute) }

func TestDestinationRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, e)
			recv := newReceiver(t, b.st, "shop")
			recv.script = []int{503, 503, 503, 429, 500}
			b.start(t, webhook.Config{Name: "shop", URL: recv.srv.URL})

			head := b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 10)))
			waitFor(t, "a successful delivery", func() bool { return len(recv.delivered()) == 1 })
			waitFor(t, "the cursor to reach the head", func() bool { return b.cursor(t, "shop") == head })

			atts := recv.all()
			if len(atts) != 6 {
				t.Fatalf("%d attempts, want 5 failures then a success: %+v", len(atts), atts)
			}
			for i, a := range atts {
				if a.delivery != atts[0].delivery {
					t.Errorf("attempt %d has delivery ID %q, attempt 0 had %q: retries of one delivery must keep its ID", i, a.delivery, atts[0].delivery)
				}
				if a.cursor != 0 {
					t.Errorf("attempt %d (answered %d) saw the cursor at %d: it may only move after a 2xx", i, a.status, a.cursor)
				}
			}
			u := atts[5].payload.Updates
			if len(u) != 1 || u[0].SKU != "JKT" || u[0].Location != "s1" || u[0].Channel != "web" || u[0].Available != event.Units(10) || u[0].Seq != head {
				t.Errorf("delivered %+v, want web JKT@s1 = 10 at seq %d", u, head)
			}
			waitFor(t, "lag 0", func() bool { v, ok := b.gauge(t, "tillsync_destination_lag_events", "shop"); return ok && v == 0 })
		})
	}
}

func TestDestinationCoalescesWhileTheReceiverIsDown(t *testing.T) {
	t.Parallel()
	b := setup(t, sqlite)
	recv := newReceiver(t, b.st, "shop")
	recv.setDown(true)
	b.start(t, webhook.Config{Name: "shop", URL: recv.srv.URL, Channels: []availability.Channel{
		{Name: "web"},
		{Name: "market", Buffer: event.Units(100)}, // always 0: sent once, never again
	}})

	first := b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 10)))
	waitFor(t, "the first attempt", func() bool { return len(recv.all()) > 0 })
	// Ten sales while the receiver is down, and a SKU that changes and
	// changes back.
	for i := range 10 {
		b.appendEvents(t, et.Sale(fmt.Sprintf("sale-%d", i), "s1", at(1+i), et.L("JKT", 1)))
	}
	b.appendEvents(t, et.Receive("rcv-hat", "s2", at(20), et.L("HAT", 4)))
	head := b.appendEvents(t, et.Adjust("adj-hat", "s2", at(21), et.L("HAT", -1)))
	recv.setDown(false)
	waitFor(t, "the cursor to reach the head", func() bool { return b.cursor(t, "shop") == head })

	var jkt []event.Qty
	var market, hat int
	for _, p := range recv.delivered() {
		for _, u := range p.Updates {
			switch {
			case u.Channel == "market" && u.SKU == "JKT":
				market++
				if u.Available != 0 {
					t.Errorf("market JKT %s, want 0 (buffer 100)", u.Available)
				}
			case u.SKU == "JKT":
				jkt = append(jkt, u.Available)
			case u.SKU == "HAT" && u.Channel == "web":
				hat++
				if u.Available != event.Units(3) || u.OnHand != event.Units(3) {
					t.Errorf("web HAT %+v, want the latest value 3", u)
				}
			}
		}
	}
	// The delivery in flight when the receiver went down carried 10; after
	// it, only the latest value, not the nine in between.
	if len(jkt) != 2 || jkt[0] != event.Units(10) || jkt[1] != 0 {
		t.Errorf("web JKT values delivered %v, want [10 0]: the latest value, coalesced", jkt)
	}
	if market != 1 {
		t.Errorf("market JKT sent %d times; an unchanged value must not be sent again", market)
	}
	if hat != 1 {
		t.Errorf("web HAT sent %d times, want once with its latest value", hat)
	}
	atts := recv.all()
	for _, a := range atts {
		if a.status >= 300 && a.delivery != atts[0].delivery {
			t.Errorf("a failed attempt for %s: only the first delivery met the outage", a.delivery)
		}
	}
	if want := fmt.Sprint(first); atts[0].payload.Updates[0].Seq != first {
		t.Errorf("the first delivery reflects seq %d, want %s", atts[0].payload.Updates[0].Seq, want)
	}
}

func TestDestinationDoesNotResendUnchangedValues(t *testing.T) {
	t.Parallel()
	b := setup(t, sqlite)
	recv := newReceiver(t, b.st, "shop")
	b.start(t, webhook.Config{Name: "shop", URL: recv.srv.URL, Channels: []availability.Channel{{Name: "web", Buffer: event.Units(5)}}})

	head := b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 3), et.L("HAT", 10)))
	waitFor(t, "the first delivery", func() bool { return b.cursor(t, "shop") == head })
	// JKT's on hand moves but its ATP stays 0 (buffer 5); HAT's moves.
	head = b.appendEvents(t, et.Sale("sale-1", "s1", at(1), et.L("JKT", 1), et.L("HAT", 1)))
	waitFor(t, "the second change", func() bool { return b.cursor(t, "shop") == head })
	head = b.appendEvents(t, et.Sale("sale-2", "s1", at(2), et.L("JKT", 1)))
	waitFor(t, "the third change", func() bool { return b.cursor(t, "shop") == head })

	del := recv.delivered()
	if len(del) != 2 {
		t.Fatalf("%d deliveries, want 2 (the third change altered no channel value): %+v", len(del), del)
	}
	keys := func(p webhook.Payload) string {
		s := ""
		for _, u := range p.Updates {
			s += fmt.Sprintf("%s=%s ", u.SKU, u.Available)
		}
		return s
	}
	if got := keys(del[0]); got != "HAT=5 JKT=0 " {
		t.Errorf("first delivery %s", got)
	}
	if got := keys(del[1]); got != "HAT=4 " {
		t.Errorf("second delivery %s, want only HAT (JKT's value did not change)", got)
	}
}

func TestDestinationPageBoundaryMissesNothing(t *testing.T) {
	t.Parallel()
	// One batch's positions share its last seq; when a page ends inside
	// them, the rest must come in the next page, not be skipped.
	b := setup(t, sqlite)
	b.appendEvents(t, et.Receive("rcv-x", "s1", at(0), et.L("X", 1)))
	head := b.appendEvents(t,
		et.Receive("rcv-a", "s1", at(1), et.L("A", 2)),
		et.Receive("rcv-b", "s1", at(2), et.L("B", 3)),
		et.Drawer("drawer-1", "s1", at(3), 10000), // changes no position
	)
	recv := newReceiver(t, b.st, "shop")
	b.start(t, webhook.Config{Name: "shop", URL: recv.srv.URL, PageSize: 2})
	waitFor(t, "the cursor to reach the head", func() bool { return b.cursor(t, "shop") == head })
	got := recv.latest()
	for sku, want := range map[string]int64{"X": 1, "A": 2, "B": 3} {
		u, ok := got[availability.Key{Channel: "web", SKU: sku, Location: "s1"}]
		if !ok {
			t.Errorf("%s was never delivered, but the cursor passed it", sku)
			continue
		}
		if u.Available != event.Units(want) {
			t.Errorf("%s delivered as %s, want %d", sku, u.Available, want)
		}
	}
}

func TestDestinationLargeBatchOverPageSize(t *testing.T) {
	t.Parallel()
	// One event touching more positions than a page is delivered whole.
	b := setup(t, sqlite)
	var lines []event.Line
	for i := range 7 {
		lines = append(lines, et.L(fmt.Sprintf("SKU-%d", i), int64(i+1)))
	}
	head := b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), lines...))
	recv := newReceiver(t, b.st, "shop")
	b.start(t, webhook.Config{Name: "shop", URL: recv.srv.URL, PageSize: 3})
	waitFor(t, "the cursor to reach the head", func() bool { return b.cursor(t, "shop") == head })
	if got := recv.latest(); len(got) != 7 {
		t.Errorf("%d SKUs delivered, want 7", len(got))
	}
}

func TestDeadReceiverDoesNotHoldBackOthers(t *testing.T) {
	t.Parallel()
	b := setup(t, sqlite)
	dead := newReceiver(t, b.st, "dead")
	dead.setDown(true)
	live := newReceiver(t, b.st, "live")
	b.start(t, webhook.Config{Name: "dead", URL: dead.srv.URL})
	b.start(t, webhook.Config{Name: "live", URL: live.srv.URL})

	var head int64
	for i := range 5 {
		head = b.appendEvents(t, et.Receive(fmt.Sprintf("rcv-%d", i), "s1", at(i), et.L(fmt.Sprintf("SKU-%d", i), 1)))
	}
	waitFor(t, "the live receiver to catch up", func() bool { return b.cursor(t, "live") == head })
	if got := len(live.latest()); got != 5 {
		t.Errorf("live receiver has %d SKUs, want 5", got)
	}
	if c := b.cursor(t, "dead"); c != 0 {
		t.Errorf("dead receiver's cursor %d, want 0: nothing was acknowledged", c)
	}
	if len(dead.all()) == 0 {
		t.Error("the dead receiver was never tried")
	}
	// Its lag shows the outage while it lasts.
	waitFor(t, "the dead destination's lag to show the backlog", func() bool {
		v, ok := b.gauge(t, "tillsync_destination_lag_events", "dead")
		return ok && v == float64(head)
	})
	waitFor(t, "the live destination's lag to be 0", func() bool {
		v, ok := b.gauge(t, "tillsync_destination_lag_events", "live")
		return ok && v == 0
	})

	// When it comes back it gets everything, as current values.
	dead.setDown(false)
	waitFor(t, "the dead receiver to catch up", func() bool { return b.cursor(t, "dead") == head })
	if got := len(dead.latest()); got != 5 {
		t.Errorf("recovered receiver has %d SKUs, want 5", got)
	}
}

func TestDestinationResumesFromItsCursor(t *testing.T) {
	t.Parallel()
	b := setup(t, sqlite)
	first := b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("OLD", 1)))
	if err := b.st.SetCursor(context.Background(), "webhook:shop", first); err != nil {
		t.Fatal(err)
	}
	head := b.appendEvents(t, et.Receive("rcv-2", "s1", at(1), et.L("NEW", 1)))
	recv := newReceiver(t, b.st, "shop")
	b.start(t, webhook.Config{Name: "shop", URL: recv.srv.URL})
	waitFor(t, "the cursor to reach the head", func() bool { return b.cursor(t, "shop") == head })
	got := recv.latest()
	if _, ok := got[availability.Key{Channel: "web", SKU: "OLD", Location: "s1"}]; ok {
		t.Error("a change before the stored cursor was delivered again")
	}
	if _, ok := got[availability.Key{Channel: "web", SKU: "NEW", Location: "s1"}]; !ok {
		t.Error("the change after the cursor was not delivered")
	}
}
