package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/retryafter"
	"github.com/tillsync/tillsync/internal/store"
)

// Config describes one webhook destination.
type Config struct {
	Name     string
	URL      string
	Secret   []byte
	Channels []availability.Channel
	Timeout  time.Duration
	// PageSize is how many changed positions one delivery covers at most.
	PageSize int
	Backoff  destination.Backoff
}

// Payload is the JSON body of a delivery.
type Payload struct {
	DeliveryID string                `json:"delivery_id"`
	Updates    []availability.Update `json:"updates"`
}

// Destination delivers availability changes to one receiver.
type Destination struct {
	cfg     Config
	store   *store.Store
	notify  *destination.Notifier
	client  *http.Client
	metrics *destination.Metrics
	log     *slog.Logger
	// last is what the receiver was last sent, per key, so unchanged values
	// are not sent again.
	last map[availability.Key]event.Qty
}

// New returns a destination; Run starts it.
func New(cfg Config, st *store.Store, n *destination.Notifier, client *http.Client, m *destination.Metrics, log *slog.Logger) *Destination {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 500
	}
	if cfg.Backoff.Min <= 0 {
		cfg.Backoff.Min = 500 * time.Millisecond
	}
	if cfg.Backoff.Max < cfg.Backoff.Min {
		cfg.Backoff.Max = max(time.Minute, cfg.Backoff.Min)
	}
	return &Destination{cfg: cfg, store: st, notify: n, client: client, metrics: m,
		log: log.With("destination", cfg.Name), last: map[availability.Key]event.Qty{}}
}

func (d *Destination) cursorName() string { return "webhook:" + d.cfg.Name }

// Run delivers until ctx ends.
func (d *Destination) Run(ctx context.Context) error {
	cursor, err := d.store.Cursor(ctx, d.cursorName())
	if err != nil {
		return err
	}
	failures := 0
	for ctx.Err() == nil {
		wait := d.notify.Wait()
		head, err := d.store.Head(ctx)
		var rows []store.PositionRow
		next := cursor
		if err == nil {
			rows, next, err = d.store.PositionsChangedAfter(ctx, cursor, d.cfg.PageSize)
		}
		if err != nil {
			d.log.Warn("read changes", "err", err)
			destination.Sleep(ctx, d.cfg.Backoff.Delay(failures))
			failures++
			continue
		}
		failures = 0
		if len(rows) == 0 {
			// No position changed after the cursor, so the events up to
			// head (drawer counts) need no delivery. A short page is not
			// enough: PositionsChangedAfter ends a page early rather than
			// split one seq's positions, and the rest are still to come.
			next = max(next, head)
		}
		if next == cursor {
			d.metrics.ObserveLag(ctx, d.store, d.cfg.Name, cursor)
			select {
			case <-ctx.Done():
			case <-wait:
			case <-time.After(5 * time.Second):
			}
			continue
		}
		if ups := d.updates(rows); len(ups) > 0 {
			if err := d.deliver(ctx, cursor, Payload{DeliveryID: d.cfg.Name + "-" + strconv.FormatInt(next, 10), Updates: ups}); err != nil {
				return nil //nolint:nilerr // only a cancelled ctx ends deliver: a clean stop, the cursor did not move
			}
			for _, u := range ups {
				d.last[u.Key()] = u.Available
			}
		}
		if err := d.store.SetCursor(ctx, d.cursorName(), next); err != nil {
			d.log.Warn("save cursor", "err", err)
		}
		cursor = next
		d.metrics.ObserveLag(ctx, d.store, d.cfg.Name, cursor)
	}
	return nil
}

func (d *Destination) updates(rows []store.PositionRow) []availability.Update {
	now := time.Now().UTC()
	var out []availability.Update
	for _, r := range rows {
		one := map[inventory.Key]inventory.Position{r.Key: r.Position}
		for _, u := range availability.Updates(d.cfg.Channels, one, r.UpdatedSeq, nil, now) {
			if prev, ok := d.last[u.Key()]; ok && prev == u.Available {
				continue
			}
			out = append(out, u)
		}
	}
	return out
}

// deliver posts the payload until the receiver answers 2xx or ctx ends.
// While it retries, the lag metrics keep counting from cursor, so an outage
// shows.
func (d *Destination) deliver(ctx context.Context, cursor int64, p Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("webhook %s: encode: %w", d.cfg.Name, err)
	}
	for attempt := 0; ; attempt++ {
		wait, err := d.attempt(ctx, p.DeliveryID, body)
		if err == nil {
			d.metrics.Deliveries.WithLabelValues(d.cfg.Name, "ok").Inc()
			return nil
		}
		d.metrics.Deliveries.WithLabelValues(d.cfg.Name, "retry").Inc()
		d.metrics.ObserveLag(ctx, d.store, d.cfg.Name, cursor)
		if wait <= 0 {
			wait = d.cfg.Backoff.Delay(attempt)
		}
		// A receiver's Retry-After is honoured up to the back-off ceiling:
		// one asking for a day must not silence the channel for a day.
		wait = min(wait, d.cfg.Backoff.Max)
		d.log.Warn("delivery failed; will retry", "delivery", p.DeliveryID, "attempt", attempt+1, "retry_in", wait, "err", err)
		if !destination.Sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// attempt makes one POST. It returns the server's Retry-After, if any.
func (d *Destination) attempt(ctx context.Context, id string, body []byte) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tillsync-webhook/1")
	req.Header.Set(HeaderDelivery, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(d.cfg.Secret, now, body))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	return retryafter.Parse(resp.Header.Get("Retry-After"), now), fmt.Errorf("receiver answered %s", resp.Status)
}
