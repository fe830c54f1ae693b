package e2e_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/inventory"
)

// skus are the items every register sells.
var skus = []string{"JKT-M", "JKT-L", "TEE-S", "TEE-M", "CAP-1", "SOCK-3"}

// registers simulates a store's POS registers posting to the edge. Each
// register sends its own numbered events, one request at a time, and sends
// a request again — the same events, byte for byte — until the edge answers
// it; it moves on only once every event of the request is acknowledged.
// So the acknowledged events are exactly the events the edge stored, and a
// register's events are stored in the order it numbered them.
type registers struct {
	t      *testing.T
	url    string    // the edge's POST /v1/events
	prefix string    // names this run's events: prefix-rNN-NNNNNN
	start  time.Time // when each register's first sale happened
	// PerRequest is the most events in one request; a register sends 1 to
	// PerRequest, varying.
	PerRequest int
	// Limit is how many events each register sends (0: until Stop).
	Limit int
	// Pace is a pause between a register's requests.
	Pace time.Duration

	client *http.Client
	stop   chan struct{}
	wg     sync.WaitGroup

	mu     sync.Mutex
	acks   map[string]int64        // event ID → the store_seq the edge acknowledged
	events map[string]*event.Event // the acknowledged events

	acked, duplicates, retries atomic.Int64
	// slowest is the longest a request took to be answered, in
	// microseconds, for the log: these tests assert no timings.
	slowest atomic.Int64
}

func newRegisters(t *testing.T, edgeURL, prefix string) *registers {
	return &registers{
		t: t, url: edgeURL + "/v1/events", prefix: prefix,
		start:      time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond),
		PerRequest: 5, acks: map[string]int64{}, events: map[string]*event.Event{}, stop: make(chan struct{}),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}
}

// Start runs n registers. ctx bounds how long a register keeps retrying a
// request the edge does not answer; Stop ends them.
func (g *registers) Start(ctx context.Context, n int) {
	g.StartAt(ctx, 0, n)
}

// StartAt runs registers numbered first to first+n-1.
func (g *registers) StartAt(ctx context.Context, first, n int) {
	for r := first; r < first+n; r++ {
		g.wg.Go(func() { g.register(ctx, r) })
	}
}

// Stop tells the registers to send nothing new, and waits while each gets
// its last request acknowledged.
func (g *registers) Stop() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	g.wg.Wait()
}

// Wait waits for registers with a Limit to send everything.
func (g *registers) Wait() { g.wg.Wait() }

// Slowest is the longest a request waited for its answer.
func (g *registers) Slowest() time.Duration {
	return time.Duration(g.slowest.Load()) * time.Microsecond
}

// Acked returns how many events the edge has acknowledged so far.
func (g *registers) Acked() int64 { return g.acked.Load() }

// Acks returns every acknowledged event ID with its store_seq.
func (g *registers) Acks() map[string]int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]int64, len(g.acks))
	for id, seq := range g.acks {
		out[id] = seq
	}
	return out
}

// Ledger rebuilds the stock the acknowledged events make, applied in store
// order: what the store's own stock view must show.
func (g *registers) Ledger(t *testing.T) *inventory.Ledger {
	t.Helper()
	g.mu.Lock()
	applied := make([]inventory.Applied, 0, len(g.events))
	for id, e := range g.events {
		applied = append(applied, inventory.Applied{Seq: g.acks[id], Event: e})
	}
	g.mu.Unlock()
	slices.SortFunc(applied, func(a, b inventory.Applied) int { return cmp.Compare(a.Seq, b.Seq) })
	l := inventory.NewMemory()
	if _, err := l.Apply(applied); err != nil {
		t.Fatalf("rebuild the acknowledged events' stock: %v", err)
	}
	return l
}

// waitAcked waits until at least n events are acknowledged.
func (g *registers) waitAcked(t *testing.T, n int64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d acknowledged events", n), func() (bool, string) {
		got := g.Acked()
		return got >= n, fmt.Sprintf("%d acknowledged", got)
	})
}

func (g *registers) register(ctx context.Context, r int) {
	var b builder
	b.init(g, r)
	for n := 0; g.Limit == 0 || n < g.Limit; {
		select {
		case <-g.stop:
			return
		default:
		}
		k := 1 + (n+r)%g.PerRequest
		if g.Limit > 0 {
			k = min(k, g.Limit-n)
		}
		evs := make([]*event.Event, k)
		for i := range evs {
			evs[i] = b.next(n + i)
		}
		if !g.send(ctx, r, evs) {
			return
		}
		n += k
		if g.Pace > 0 {
			time.Sleep(g.Pace)
		}
	}
}

// send posts one request until the edge answers it with a 200, and records
// the acknowledgements. It reports false when it gave up (and failed the
// test).
func (g *registers) send(ctx context.Context, r int, evs []*event.Event) bool {
	body, err := json.Marshal(map[string]any{"events": evs})
	if err != nil {
		g.t.Errorf("register %d: encode: %v", r, err)
		return false
	}
	var last string
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			g.retries.Add(1)
			select {
			case <-ctx.Done():
				g.t.Errorf("register %d: events %s..%s never acknowledged; last answer: %s", r, evs[0].ID, evs[len(evs)-1].ID, last)
				return false
			case <-time.After(20 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
		if err != nil {
			g.t.Errorf("register %d: %v", r, err)
			return false
		}
		req.Header.Set("Content-Type", "application/json")
		sent := time.Now()
		resp, err := g.client.Do(req)
		if err != nil {
			last = err.Error()
			continue
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			last = err.Error()
			continue
		}
		switch {
		case resp.StatusCode >= 500:
			last = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(b))
			continue
		case resp.StatusCode != http.StatusOK:
			g.t.Errorf("register %d: edge answered %d: %s", r, resp.StatusCode, bytes.TrimSpace(b))
			return false
		}
		took := time.Since(sent).Microseconds()
		for prev := g.slowest.Load(); took > prev && !g.slowest.CompareAndSwap(prev, took); prev = g.slowest.Load() {
		}
		var out intake.Response
		if err := json.Unmarshal(b, &out); err != nil {
			g.t.Errorf("register %d: answer does not decode: %v: %s", r, err, b)
			return false
		}
		return g.record(r, evs, &out)
	}
}

func (g *registers) record(r int, evs []*event.Event, out *intake.Response) bool {
	if len(out.Results) != len(evs) {
		g.t.Errorf("register %d: %d results for %d events", r, len(out.Results), len(evs))
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	ok := true
	for i, res := range out.Results {
		id := evs[i].ID
		switch {
		case res.Index != i || res.ID != id:
			g.t.Errorf("register %d: result %d is for index %d, ID %q; want %q", r, i, res.Index, res.ID, id)
			ok = false
		case res.Status == intake.StatusAccepted || res.Status == intake.StatusDuplicate:
			if prev, seen := g.acks[id]; seen && prev != res.Seq {
				g.t.Errorf("event %s acknowledged with store_seq %d, earlier with %d", id, res.Seq, prev)
			}
			if res.Seq <= 0 {
				g.t.Errorf("event %s acknowledged without a store_seq: %+v", id, res)
			}
			if _, seen := g.acks[id]; !seen {
				g.acked.Add(1)
			}
			g.acks[id] = res.Seq
			g.events[id] = evs[i]
			if res.Status == intake.StatusDuplicate {
				g.duplicates.Add(1)
			}
		default:
			g.t.Errorf("edge refused event %s: %s %+v", id, res.Status, res.Error)
			ok = false
		}
	}
	return ok
}

// eventID names event n of register r.
func eventID(prefix string, r, n int) string { return fmt.Sprintf("%s-r%02d-%06d", prefix, r, n) }

// parseID is the inverse of eventID.
func parseID(id string) (prefix string, r, n int, ok bool) {
	parts := strings.Split(id, "-")
	if len(parts) < 3 {
		return "", 0, 0, false
	}
	rs, ns := parts[len(parts)-2], parts[len(parts)-1]
	if !strings.HasPrefix(rs, "r") {
		return "", 0, 0, false
	}
	r, err1 := strconv.Atoi(rs[1:])
	n, err2 := strconv.Atoi(ns)
	if err1 != nil || err2 != nil {
		return "", 0, 0, false
	}
	return strings.Join(parts[:len(parts)-2], "-"), r, n, true
}

// builder makes a register's events: a delivery first, then mostly sales,
// with returns, post-voids, damage write-offs and stock counts mixed in.
// Event n is a function of (register, n) and the register's earlier events,
// so a retried request carries the very same events.
type builder struct {
	g        *registers
	r        int
	till     string
	lastSale string
}

func (b *builder) init(g *registers, r int) {
	b.g, b.r, b.till = g, r, fmt.Sprintf("till-%02d", r)
}

func (b *builder) next(n int) *event.Event {
	g, r := b.g, b.r
	id := eventID(g.prefix, r, n)
	at := g.start.Add(time.Duration(n)*100*time.Millisecond + time.Duration(r)*time.Microsecond)
	sku := skus[(n+r)%len(skus)]
	var e *event.Event
	switch {
	case n == 0:
		lines := make([]event.Line, len(skus))
		for i, s := range skus {
			lines[i] = et.L(s, 1000)
		}
		e = et.Receive(id, location, at, lines...)
	case n%97 == 50:
		e = et.Count(id, location, at, et.L(sku, 900))
	case n%23 == 11 && b.lastSale != "":
		e = et.Void(id, location, at, b.lastSale)
		e.Body.(*event.Void).Register = b.till
		b.lastSale = ""
	case n%17 == 5 && b.lastSale != "":
		e = et.Return(id, location, at, b.lastSale, et.L(sku, 1))
		e.Body.(*event.Return).Register = b.till
	case n%41 == 20:
		e = et.Adjust(id, location, at, et.L(sku, -1))
	default:
		lines := []event.Line{et.L(sku, int64(1+n%3))}
		if other := skus[(n*7+r+1)%len(skus)]; n%2 == 0 && other != sku {
			lines = append(lines, et.L(other, 1))
		}
		e = et.Sale(id, location, at, lines...)
		e.Body.(*event.Sale).Register = b.till
		b.lastSale = id
	}
	e.ReceivedAt = time.Time{} // the edge stamps it
	return e
}
