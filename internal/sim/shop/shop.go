// Package shop simulates a web shop selling from store stock: it follows
// the hub's availability stream for its channel, places orders for what the
// stream says is available (reserving it), and later fulfils or cancels
// them — competing with the tills for the last units, as a real shop does.
package shop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
)

// Shop is the simulated web shop.
type Shop struct {
	HubURL  string
	Token   string
	Channel string
	Zone    string
	Client  *http.Client
	// Rate is orders per second.
	Rate float64
	// OnAck is called for every event the hub acknowledges.
	OnAck func(e *event.Event, status intake.Status, at time.Time)

	rng   *rand.Rand
	mu    sync.Mutex
	avail map[[2]string]event.Qty // sku, location → available
	n     int
}

// New returns a shop with a deterministic random stream.
func New(hubURL, token, channel, zone string, client *http.Client, rate float64, seed uint64) *Shop {
	return &Shop{HubURL: strings.TrimRight(hubURL, "/"), Token: token, Channel: channel, Zone: zone, Client: client, Rate: rate,
		rng: rand.New(rand.NewPCG(seed, 7)), avail: map[[2]string]event.Qty{}} //nolint:gosec // simulation
}

// Run follows availability and places orders until ctx ends.
func (s *Shop) Run(ctx context.Context) {
	go s.follow(ctx)
	t := time.NewTicker(time.Duration(float64(time.Second) / s.Rate))
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sku, loc, ok := s.pick()
		if !ok {
			continue
		}
		wg.Go(func() { s.order(ctx, sku, loc) })
	}
}

// pick chooses something the shop believes is available, preferring scarce
// items (few units left) — where the race with the tills is.
func (s *Shop) pick() (string, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var scarce, all [][2]string
	for k, q := range s.avail {
		if q <= 0 {
			continue
		}
		all = append(all, k)
		if q <= event.Units(2) {
			scarce = append(scarce, k)
		}
	}
	pool := all
	if len(scarce) > 0 && s.rng.IntN(2) == 0 {
		pool = scarce
	}
	if len(pool) == 0 {
		return "", "", false
	}
	k := pool[s.rng.IntN(len(pool))]
	return k[0], k[1], true
}

func (s *Shop) order(ctx context.Context, sku, loc string) {
	s.mu.Lock()
	s.n++
	id := fmt.Sprintf("web-%06d", s.n)
	fulfil := s.rng.IntN(10) < 7
	wait := time.Duration(500+s.rng.IntN(2500)) * time.Millisecond
	s.mu.Unlock()
	line := []event.Line{{SKU: sku, Quantity: event.Units(1)}}
	o := &event.Event{ID: id + "-order", Type: event.TypeOnlineOrder, Location: loc, Source: "webshop", OccurredAt: time.Now().UTC(), Zone: s.Zone,
		Body: &event.OnlineOrder{OrderID: id, Channel: s.Channel, Currency: "EUR", Lines: []event.SaleLine{{SKU: sku, Quantity: event.Units(1), UnitPrice: 12900}}}}
	if !s.post(ctx, o) {
		return
	}
	select {
	case <-ctx.Done():
		return
	case <-time.After(wait):
	}
	var next *event.Event
	if fulfil {
		next = &event.Event{ID: id + "-ship", Type: event.TypeFulfilment, Location: loc, Source: "webshop", OccurredAt: time.Now().UTC(), Zone: s.Zone,
			Body: &event.Fulfilment{OrderID: id, Lines: line}}
	} else {
		next = &event.Event{ID: id + "-cancel", Type: event.TypeOrderCancel, Location: loc, Source: "webshop", OccurredAt: time.Now().UTC(), Zone: s.Zone,
			Body: &event.OrderCancel{OrderID: id, Reason: "customer cancelled"}}
	}
	s.post(ctx, next)
}

// post sends one event to the hub, retrying with the same ID until it is
// acknowledged.
func (s *Shop) post(ctx context.Context, e *event.Event) bool {
	body, _ := json.Marshal(map[string]any{"events": []*event.Event{e}})
	for attempt := 0; ctx.Err() == nil; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.HubURL+"/v1/events", bytes.NewReader(body))
		if err != nil {
			return false
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+s.Token)
		resp, err := s.Client.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			var r intake.Response
			if resp.StatusCode == http.StatusOK && json.Unmarshal(b, &r) == nil && len(r.Results) == 1 {
				if s.OnAck != nil {
					s.OnAck(e, r.Results[0].Status, time.Now())
				}
				return r.Results[0].Status != intake.StatusRejected
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(attempt+1)*100*time.Millisecond, 2*time.Second)):
		}
	}
	return false
}

// follow keeps the shop's availability view from the hub's SSE stream,
// reconnecting with Last-Event-ID.
func (s *Shop) follow(ctx context.Context) {
	last := ""
	for ctx.Err() == nil {
		err := Stream(ctx, s.Client, s.HubURL+"/v1/availability/stream?snapshot=true&channel="+s.Channel, last, func(id string, u availability.Update) {
			last = id
			s.mu.Lock()
			s.avail[[2]string{u.SKU, u.Location}] = u.Available
			s.mu.Unlock()
		})
		if err != nil && ctx.Err() == nil {
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// Stream reads an availability SSE stream, calling f for every update,
// until the stream ends or ctx does.
func Stream(ctx context.Context, client *http.Client, url, lastID string, f func(id string, u availability.Update)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	c := *client
	c.Timeout = 0 // a stream has no end
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("stream answered %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var id, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "data: "):
			data = line[6:]
		case line == "":
			if data != "" {
				var u availability.Update
				if json.Unmarshal([]byte(data), &u) == nil {
					f(id, u)
				}
			}
			data = ""
		}
	}
	return sc.Err()
}
