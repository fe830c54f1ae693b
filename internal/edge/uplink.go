package edge

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/obs"
)

// errHub is a hub answer that is not a per-event result: retried with
// back-off, never trimmed.
type errHub struct {
	status int
	msg    string
}

func (e *errHub) Error() string { return fmt.Sprintf("hub answered %d: %s", e.status, e.msg) }

// uplink drains the local log to the hub. Up to inflight batches are in
// flight at once over disjoint events, so the hub's decoding of one overlaps
// its commit of the other; store_seq keeps the store's order. After a
// failure every sender waits out the same back-off.
func (e *Edge) uplink(ctx context.Context) {
	var (
		mu         sync.Mutex
		inFlight   = map[int64]bool{}
		failures   int
		batch      = e.cfg.Uplink.Batch
		pauseUntil time.Time
	)
	slots := make(chan struct{}, e.inflight)
	var senders sync.WaitGroup
	defer senders.Wait() // no send outlives the uplink (the log closes after it)
	for ctx.Err() == nil {
		wait := e.notify.Wait()
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		mu.Lock()
		pause := time.Until(pauseUntil)
		n := batch
		skip := make(map[int64]bool, len(inFlight))
		for s := range inFlight {
			skip[s] = true
		}
		mu.Unlock()
		if pause > 0 {
			<-slots
			sleepCtx(ctx, pause)
			continue
		}
		rows, err := e.out.pending(ctx, n, int(float64(n)*e.cfg.Uplink.LiveShare), skip)
		if err != nil {
			<-slots
			e.log.Warn("read local log", "err", err)
			sleepCtx(ctx, time.Second)
			continue
		}
		if len(rows) == 0 {
			<-slots
			e.maybeHeartbeat(ctx)
			select {
			case <-ctx.Done():
				return
			case <-wait:
			case <-e.retry.Wait():
			case <-time.After(heartbeatEvery):
			}
			continue
		}
		mu.Lock()
		for _, r := range rows {
			inFlight[r.seq] = true
		}
		mu.Unlock()
		senders.Add(1)
		go func() {
			defer senders.Done()
			err := e.send(ctx, rows)
			mu.Lock()
			for _, r := range rows {
				delete(inFlight, r.seq)
			}
			if err != nil {
				// A batch that failed goes out smaller next time: a body
				// over the hub's limit (413), or a link that drops before a
				// big batch gets through (a flapping line) — a smaller one
				// still makes progress. Successes grow it back.
				var he *errHub
				switch {
				case errors.As(err, &he) && he.status == http.StatusRequestEntityTooLarge:
					batch = max(batch/2, 1)
				case !errors.As(err, &he) && len(rows) >= batch/2:
					batch = max(batch/2, minFlapBatch)
				}
				d := e.backoff.Delay(failures)
				failures++
				pauseUntil = time.Now().Add(d)
				mu.Unlock()
				e.online.Store(false)
				e.setErr(err)
				if ctx.Err() == nil {
					e.log.Warn("uplink failed; will retry", "events", len(rows), "retry_in", d, "err", err)
				}
			} else {
				failures = 0
				e.lastBeat.Store(0) // tell the hub soon when the backlog is gone
				if len(rows) >= batch/2 {
					batch = min(batch*2, e.cfg.Uplink.Batch)
				}
				mu.Unlock()
				e.online.Store(true)
			}
			<-slots
			e.retry.Broadcast() // a slot and its events are free again
		}()
	}
}

// send posts one batch and records the hub's per-event answer.
func (e *Edge) send(ctx context.Context, rows []pendingRow) error {
	n, oldest, err := e.out.backlog(ctx)
	if err != nil {
		return err
	}
	var raw bytes.Buffer
	raw.WriteString(`{"events":[`)
	for i, r := range rows {
		if i > 0 {
			raw.WriteByte(',')
		}
		raw.Write(r.body)
	}
	raw.WriteString(`],"edge":`)
	rep, _ := json.Marshal(intake.EdgeReport{ID: e.id, Backlog: n, OldestUnsyncedAt: oldest})
	raw.Write(rep)
	if e.trace.Enabled() {
		var span trace.Span
		ctx, span = e.traceBatch(ctx, rows, &raw)
		defer span.End()
	}
	raw.WriteString(`}`)
	// Compress what is worth compressing (a backlog batch shrinks about
	// tenfold); a live sale or two goes as it is.
	payload, gzipped := raw.Bytes(), false
	if raw.Len() >= compressAbove {
		var body bytes.Buffer
		zw := gzipWriters.Get().(*gzip.Writer)
		zw.Reset(&body)
		_, _ = zw.Write(raw.Bytes())
		_ = zw.Close()
		gzipWriters.Put(zw)
		payload, gzipped = body.Bytes(), true
	}

	rctx, cancel := context.WithTimeout(ctx, e.cfg.Uplink.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, e.hubURL+"/v1/events", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	e.authorize(req)
	e.trace.Inject(rctx, req.Header)
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &errHub{status: resp.StatusCode, msg: strings.TrimSpace(string(b))}
	}
	synced, rejected, err := readAnswer(b, rows)
	if err != nil {
		return err
	}
	for _, row := range rows {
		if why, ok := rejected[row.seq]; ok {
			e.log.ErrorContext(ctx, "hub rejected an event; it stays in the local log, marked rejected", "event_id", eventID(row.body), "store_seq", row.seq, "reason", why)
		}
	}
	// Trim only after the hub's answer: what it stored is durable there.
	if err := e.recordSync(context.WithoutCancel(ctx), synced, rejected); err != nil {
		return err
	}
	e.m.synced.Add(float64(len(synced)))
	e.m.rejected.Add(float64(len(rejected)))
	e.lastSync.Store(time.Now().UnixMicro())
	e.setErr(nil)
	return nil
}

// readAnswer reads the hub's 200 answer to a batch of rows: the store_seq
// of each event it stored (→ its hub seq), and of each it rejected (→ why).
// An answer that does not account for every row exactly once, or gives a
// status the edge does not know, is an error: nothing of it is recorded and
// the batch is sent again, so a garbled answer neither trims an event nor
// sets it aside as rejected.
func readAnswer(b []byte, rows []pendingRow) (synced map[int64]int64, rejected map[int64]string, err error) {
	var r intake.Response
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, nil, fmt.Errorf("hub answer does not decode: %w", err)
	}
	if len(r.Results) != len(rows) {
		return nil, nil, fmt.Errorf("hub answered %d results for %d events", len(r.Results), len(rows))
	}
	synced = make(map[int64]int64, len(rows))
	rejected = map[int64]string{}
	seen := make([]bool, len(rows))
	for _, res := range r.Results {
		if res.Index < 0 || res.Index >= len(rows) {
			return nil, nil, fmt.Errorf("hub answered for event index %d of %d", res.Index, len(rows))
		}
		if seen[res.Index] {
			return nil, nil, fmt.Errorf("hub answered twice for event index %d", res.Index)
		}
		seen[res.Index] = true
		seq := rows[res.Index].seq
		switch res.Status {
		case intake.StatusAccepted, intake.StatusDuplicate:
			synced[seq] = res.Seq
		case intake.StatusRejected:
			why := "rejected"
			if res.Error != nil {
				why = res.Error.Code + ": " + res.Error.Message
			}
			rejected[seq] = why
		default:
			return nil, nil, fmt.Errorf("hub answered status %q for event index %d", res.Status, res.Index)
		}
	}
	return synced, rejected, nil
}

// eventID reads the ID of an event's JSON, for logs.
func eventID(body []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &v)
	return v.ID
}

// recordSync records the hub's answer for a batch: synced (store_seq →
// hub seq) and rejected (store_seq → reason). A snapshot taken after the
// hub stored the batch but before this answer counted those events twice
// (in the snapshot, and as unsynced local events); the view is rebuilt then.
func (e *Edge) recordSync(ctx context.Context, synced map[int64]int64, rejected map[int64]string) error {
	e.viewMu.Lock()
	defer e.viewMu.Unlock()
	if err := e.out.markSynced(ctx, time.Now(), synced, rejected); err != nil {
		return err
	}
	_, asOf := e.view.position(inventory.Key{})
	for _, hubSeq := range synced {
		if hubSeq <= asOf {
			snap, err := e.out.loadSnapshot(ctx, e.cfg.Location)
			if err != nil {
				return err
			}
			return e.rebuildViewLocked(ctx, snap)
		}
	}
	return nil
}

const heartbeatEvery = 5 * time.Second

// minFlapBatch is the smallest batch a failing link shrinks the uplink to.
const minFlapBatch = 50

// compressAbove is the batch size from which the uplink gzips.
const compressAbove = 4 << 10

// gzipWriters are reused: a gzip writer allocates about a megabyte.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: cannot fail
	return zw
}}

// maybeHeartbeat reports the edge's state to the hub when idle, so the hub
// knows the store is online and its backlog is empty.
func (e *Edge) maybeHeartbeat(ctx context.Context) {
	if time.Since(time.UnixMicro(e.lastBeat.Load())) < heartbeatEvery {
		return
	}
	e.lastBeat.Store(time.Now().UnixMicro())
	n, oldest, err := e.out.backlog(ctx)
	if err != nil {
		return
	}
	b, _ := json.Marshal(intake.EdgeReport{ID: e.id, Backlog: n, OldestUnsyncedAt: oldest})
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, e.hubURL+"/v1/edge/status", bytes.NewReader(b))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	e.authorize(req)
	resp, err := e.client.Do(req)
	if err != nil {
		e.online.Store(false)
		e.setErr(err)
		return
	}
	_ = resp.Body.Close()
	e.online.Store(resp.StatusCode < 300)
}

// refreshSnapshot fetches the hub's view of this location and rebuilds the
// local view on it.
func (e *Edge) refreshSnapshot(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, e.cfg.Uplink.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, e.hubURL+"/v1/edge/snapshot", nil)
	if err != nil {
		return err
	}
	e.authorize(req)
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return &errHub{status: resp.StatusCode, msg: strings.TrimSpace(string(b))}
	}
	var snap inventory.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		return fmt.Errorf("snapshot does not decode: %w", err)
	}
	// A request sent before an outage may be answered only when the link
	// is back, with the outage's backlog now waiting: rebuilding the view
	// would decode all of it and hold back the drain. The next refresh
	// after the drain takes its place.
	if e.backlogLarge() {
		return nil
	}
	if err := e.out.saveSnapshot(ctx, &snap); err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	return e.rebuildView(ctx, &snap)
}

func (e *Edge) rebuildView(ctx context.Context, snap *inventory.Snapshot) error {
	e.viewMu.Lock()
	defer e.viewMu.Unlock()
	return e.rebuildViewLocked(ctx, snap)
}

func (e *Edge) rebuildViewLocked(ctx context.Context, snap *inventory.Snapshot) error {
	evs, err := e.out.unreflected(ctx, snap.AsOfSeq)
	if err != nil {
		return err
	}
	e.view.reset(snap, e.cfg.Location, evs, e.targets(ctx))
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// authorize adds the store's bearer token, when it has one (an edge may
// authenticate with its client certificate alone).
func (e *Edge) authorize(req *http.Request) {
	if tok := e.cfg.Hub.BearerToken(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
}

// traceBatch starts the span of one uplink batch and writes the batch's
// "traceparents": each event's trace context as the edge accepted it, so
// the hub continues every event's own trace. Only an edge with tracing on
// sends the field (a hub older than it would refuse an unknown field).
func (e *Edge) traceBatch(ctx context.Context, rows []pendingRow, raw *bytes.Buffer) (context.Context, trace.Span) {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = eventID(r.body)
	}
	// A batch of one live sale runs on in that sale's trace; a larger one
	// follows its first event's and links the others'.
	ctx, span := e.trace.StartForEvents(ctx, "tillsync.edge.uplink", ids, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("tillsync.edge_id", e.id)))
	raw.WriteString(`,"traceparents":[`)
	for i, id := range ids {
		if i > 0 {
			raw.WriteByte(',')
		}
		sc, _ := e.trace.EventContext(id)
		tp, _ := json.Marshal(obs.Traceparent(sc))
		raw.Write(tp)
	}
	raw.WriteByte(']')
	return ctx, span
}
