package destination

import (
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/obs"
	"github.com/tillsync/tillsync/internal/store"
)

// Mode is how a destination posts.
type Mode string

// Posting modes.
const (
	// Detail posts one ERP record per POS document.
	Detail Mode = "detail"
	// Summary posts periodic totals per store and interval.
	Summary Mode = "summary"
)

// RetryPolicy bounds retries of one document: after Attempts tries or
// MaxAge since the first, it is parked as a dead letter.
type RetryPolicy struct {
	Attempts int
	MaxAge   time.Duration
	Backoff  Backoff
}

// ERPConfig configures one ERP destination.
type ERPConfig struct {
	Name      string
	Connector erp.Connector
	Governor  *Governor
	Mode      Mode
	// Interval and Grace shape summaries: a period's summary is posted
	// Grace after it ends, so late events still make it in.
	Interval time.Duration
	Grace    time.Duration
	// Types and Locations filter events (nil: all).
	Types     map[event.Type]bool
	Locations map[string]bool
	// Fields limits what each document carries to the optional fields the
	// destination's mapping names (zero: all).
	Fields erp.Fields
	Retry  RetryPolicy
	// Window is how many events are read ahead of the cursor.
	Window int
	// Timeout bounds one call to the ERP.
	Timeout time.Duration
	// Flush is how often progress (cursor, deliveries, dead letters) is
	// saved.
	Flush time.Duration
	// HoldMax is how long a document waits for the one it settles when the
	// log has them the wrong way round (a transfer received before the
	// offline store that shipped it synced; a void before its sale). After
	// it, the document is posted anyway and fails or succeeds on its own.
	HoldMax time.Duration
}

func (c *ERPConfig) defaults() {
	if c.Mode == "" {
		c.Mode = Detail
	}
	if c.Interval <= 0 {
		c.Interval = time.Hour
	}
	if c.Grace < 0 {
		c.Grace = 0
	}
	if c.Retry.Attempts <= 0 {
		c.Retry.Attempts = 8
	}
	if c.Retry.MaxAge <= 0 {
		c.Retry.MaxAge = 24 * time.Hour
	}
	if c.Retry.Backoff.Min <= 0 {
		c.Retry.Backoff = Backoff{Min: time.Second, Max: 5 * time.Minute}
	}
	if c.Window <= 0 {
		c.Window = 5000
	}
	if c.Timeout <= 0 {
		c.Timeout = 60 * time.Second
	}
	if c.Flush <= 0 {
		c.Flush = 200 * time.Millisecond
	}
	if c.HoldMax <= 0 {
		c.HoldMax = 2 * time.Hour
	}
}

// blockedRetry is how often a misconfigured destination tries again.
const blockedRetry = 30 * time.Second

// maxThrottles is how often one document may be refused for load before
// refusals count against its retry budget: an ERP that never has room is
// an outage, and must end in the dead-letter queue, not a silent stall.
const maxThrottles = 200

// ERPDestination delivers the log to one ERP through its own cursor.
// Documents of one thread (a sale and its void, an order and its
// fulfilment) are posted in log order; unrelated threads go in parallel, as
// far as the account's governor allows. A document that fails is retried
// with back-off; after its budget it is parked as a dead letter, and the
// rest of its thread waits behind it, while every other thread goes on.
type ERPDestination struct {
	cfg     ERPConfig
	store   *store.Store
	notify  *Notifier
	log     *slog.Logger
	metrics *Metrics
	trace   *obs.Tracing

	results chan result
	checks  chan error
	// Run's state.
	cursor   int64 // every event ≤ cursor is delivered, skipped or parked
	readPos  int64 // events ≤ readPos have been read
	order    []int64
	done     map[int64]bool
	open     int // entries of order not yet done
	threads  map[string]*thread
	runnable []*thread
	// resumed are threads whose head waited on the thread (for the
	// document before it, or for a retry); they go before runnable.
	resumed  []*thread
	delayed  delayHeap
	poisoned map[string]string // thread → the dead letter it waits behind
	sending  int
	paused   bool
	more     bool // the last fill stopped at a full window
	// held are events waiting for the document they settle, by thread.
	held map[string][]heldEvent
	// releaseAfter are threads whose predecessor was just queued.
	releaseAfter []string
	// blocked is why the ERP refuses tillsync itself (credentials, …),
	// until a post succeeds again.
	blocked string
	probeAt time.Time
	// status is a copy of the state for other goroutines.
	statusMu sync.Mutex
	status   Status
	sum      *summarizer
	progress store.Progress
	dirty    bool
}

type item struct {
	doc       erp.Document
	seqs      []int64
	thread    string
	attempts  int
	throttles int
	first     time.Time
	notBefore time.Time
	replay    bool // a dead letter asked to be re-delivered
	periodKey string
	part      int
}

type thread struct {
	key  string
	q    []*item
	busy bool
	// queued is set while the thread sits in runnable, resumed or delayed.
	queued bool
}

type result struct {
	batch []*item
	errs  []error
	// interrupted: Run's context ended during the call, so its failures
	// are a shutdown, not the ERP's answer.
	interrupted bool
}

// NewERPDestination returns a destination; Run starts it.
func NewERPDestination(cfg ERPConfig, st *store.Store, n *Notifier, m *Metrics, log *slog.Logger) *ERPDestination {
	cfg.defaults()
	return &ERPDestination{cfg: cfg, store: st, notify: n, metrics: m, log: log.With("destination", cfg.Name),
		results: make(chan result, 64), checks: make(chan error, 1)}
}

// Name returns the destination's name.
func (d *ERPDestination) Name() string { return d.cfg.Name }

// SetTracing makes every delivery a span continuing its events' traces
// (call before Run; nil: off).
func (d *ERPDestination) SetTracing(t *obs.Tracing) { d.trace = t }

func (d *ERPDestination) reset(ctx context.Context, cursor int64) error {
	d.cursor, d.readPos = cursor, cursor
	d.order, d.done, d.open = nil, map[int64]bool{}, 0
	d.threads, d.runnable, d.resumed, d.delayed = map[string]*thread{}, nil, nil, nil
	d.held = map[string][]heldEvent{}
	d.progress = store.Progress{Destination: d.cfg.Name, Cursor: cursor}
	parked, err := d.store.ParkedThreads(ctx, d.cfg.Name)
	if err != nil {
		return err
	}
	d.poisoned = parked
	if d.cfg.Mode == Summary {
		d.sum = newSummarizer(d)
	}
	return nil
}

// Run delivers until ctx ends.
func (d *ERPDestination) Run(ctx context.Context) error {
	cursor, err := d.store.Cursor(ctx, d.cfg.Name)
	if err != nil {
		return err
	}
	if err := d.reset(ctx, cursor); err != nil {
		return err
	}
	d.log.Info("destination started", "cursor", cursor, "mode", d.cfg.Mode)
	flush := time.NewTicker(d.cfg.Flush)
	defer flush.Stop()
	control := time.NewTicker(time.Second)
	defer control.Stop()
	if err := d.control(ctx); err != nil {
		d.log.Warn("read destination state", "err", err)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	needFill := true
	for {
		wake := d.notify.Wait()
		if !d.paused {
			if needFill || (d.more && d.open < d.cfg.Window/2) {
				needFill = false
				if err := d.fill(ctx); err != nil && ctx.Err() == nil {
					d.log.Warn("read log", "err", err)
					needFill = true
				}
			}
			if d.sum != nil {
				d.sum.closeDue(time.Now())
			}
			if len(d.held) > 0 {
				d.releaseExpired(ctx, time.Now())
			}
			d.dispatch(ctx)
		}
		d.publishStatus()
		due := time.Hour
		if next, ok := d.nextDue(); ok {
			due = max(time.Until(next), time.Millisecond)
		}
		if d.sum != nil || d.blocked != "" || len(d.held) > 0 {
			due = min(due, time.Second) // periods close and probes start by the clock
		}
		timer.Reset(due)
		select {
		case <-ctx.Done():
			d.drain()
			d.save(context.WithoutCancel(ctx))
			return nil
		case r := <-d.results:
			d.handle(r)
			d.drainReady()
		case <-wake:
			needFill = true
		case <-timer.C:
		case <-flush.C:
			d.save(ctx)
		case err := <-d.checks:
			if c, _ := erp.Classify(err); c == erp.Misconfigured && d.blocked == "" {
				d.log.Error("the ERP account check failed: holding every document until the configuration is fixed", "err", err)
				d.setBlocked(err.Error())
				d.probeAt = time.Now() // the first document probes at once
			}
		case <-control.C:
			needFill = true
			if err := d.control(ctx); err != nil && ctx.Err() == nil {
				d.log.Warn("read destination state", "err", err)
			}
			d.metrics.ObserveLag(ctx, d.store, d.cfg.Name, d.cursor)
		}
	}
}

// drainReady handles results that are already waiting, so one wake-up
// absorbs a burst of completions.
func (d *ERPDestination) drainReady() {
	for {
		select {
		case r := <-d.results:
			d.handle(r)
		default:
			return
		}
	}
}

// drain waits for requests in flight at shutdown, so their outcome is
// recorded (a lost outcome would only mean a harmless redelivery).
func (d *ERPDestination) drain() {
	deadline := time.After(d.cfg.Timeout)
	for d.sending > 0 {
		select {
		case r := <-d.results:
			d.handle(r)
		case <-deadline:
			return
		}
	}
}

// control applies what operators asked: pause, resume, rewind, replay.
func (d *ERPDestination) control(ctx context.Context) error {
	st, err := d.store.GetDestinationState(ctx, d.cfg.Name)
	if err != nil {
		return err
	}
	if st.Paused != d.paused {
		d.paused = st.Paused
		d.log.Info("destination paused or resumed", "paused", d.paused)
	}
	if st.ReplayFrom >= 0 && d.sending == 0 {
		d.save(ctx)
		if err := d.store.SetCursor(ctx, d.cfg.Name, st.ReplayFrom); err != nil {
			return err
		}
		if err := d.store.RequestRewind(ctx, d.cfg.Name, -1); err != nil {
			return err
		}
		d.log.Info("destination rewound: re-delivering from the log", "from", st.ReplayFrom)
		if err := d.reset(ctx, st.ReplayFrom); err != nil {
			return err
		}
	}
	replays, err := d.store.DeadLetters(ctx, d.cfg.Name, store.DeadReplay, 1000)
	if err != nil {
		return err
	}
	for _, dl := range replays {
		var doc erp.Document
		if err := json.Unmarshal([]byte(dl.Document), &doc); err != nil {
			d.log.Error("dead letter does not decode; leaving it parked", "external_id", dl.ExternalID, "err", err)
			continue
		}
		if d.queuedForReplay(dl.ExternalID) {
			continue
		}
		if d.poisoned[dl.Thread] == dl.ExternalID {
			delete(d.poisoned, dl.Thread)
		}
		d.enqueue(&item{doc: doc, thread: dl.Thread, replay: true, first: time.Now()})
	}
	return nil
}

// queuedForReplay reports whether a dead letter is being replayed: queued,
// or already delivered or parked again with the row not yet saved (it still
// reads replay until the next flush).
func (d *ERPDestination) queuedForReplay(id string) bool {
	for _, x := range d.progress.Resolved {
		if x == id {
			return true
		}
	}
	for _, dl := range d.progress.Dead {
		if dl.ExternalID == id {
			return true
		}
	}
	for _, t := range d.threads {
		for _, it := range t.q {
			if it.replay && it.doc.ExternalID == id {
				return true
			}
		}
	}
	return false
}

// fill reads events after readPos until the window is full (more is then
// set: there may be events left to read) or the log ends.
func (d *ERPDestination) fill(ctx context.Context) error {
	d.more = true
	for d.open < d.cfg.Window {
		evs, err := d.store.EventsAfter(ctx, d.readPos, min(1000, d.cfg.Window))
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			d.more = false
			d.advance()
			return nil
		}
		var voidTargets []string
		var refs []inventory.DocRef
		for _, st := range evs {
			if v, ok := st.Event.Body.(*event.Void); ok {
				voidTargets = append(voidTargets, v.VoidedEventID)
			}
			if r, ok := settles(st.Event); ok {
				refs = append(refs, r)
			}
		}
		placed := map[inventory.DocRef]int64{}
		if len(refs) > 0 {
			if placed, err = d.store.PlacedSeqs(ctx, refs); err != nil {
				return err
			}
		}
		targets := map[string]*store.Stored{}
		if len(voidTargets) > 0 {
			if targets, err = d.store.EventsByID(ctx, voidTargets); err != nil {
				return err
			}
		}
		lookup := func(id string) *event.Event {
			if t := targets[id]; t != nil {
				return t.Event
			}
			return nil
		}
		var summarized map[string]bool
		if d.sum != nil {
			ids := make([]string, len(evs))
			for i, st := range evs {
				ids[i] = st.Event.ID
			}
			if summarized, err = d.store.Summarized(ctx, d.cfg.Name, ids); err != nil {
				return err
			}
		}
		for _, st := range evs {
			d.readPos = st.Seq
			if summarized[st.Event.ID] {
				d.skip(st.Seq) // already carried by a delivered summary
				continue
			}
			if d.waits(st, placed, targets) {
				continue
			}
			d.take(st, lookup)
			for len(d.releaseAfter) > 0 {
				t := d.releaseAfter[0]
				d.releaseAfter = d.releaseAfter[1:]
				d.release(ctx, t)
			}
		}
		d.advance()
	}
	return nil
}

// take turns one event into work, or marks it done when this destination
// posts nothing for it.
func (d *ERPDestination) take(st *store.Stored, lookup func(string) *event.Event) {
	e := st.Event
	if (d.cfg.Types != nil && !d.cfg.Types[e.Type]) || (d.cfg.Locations != nil && !d.cfg.Locations[e.Location]) {
		d.skip(st.Seq)
		return
	}
	doc, ok, err := erp.Detail(e, lookup)
	if err == nil && ok && d.sum != nil && d.sum.takes(doc) {
		d.track(st.Seq)
		d.sum.add(st, doc)
		return
	}
	if err != nil {
		// A void of an event the log does not hold can never be posted.
		d.track(st.Seq)
		d.park(&item{doc: erp.Document{ExternalID: e.ID, Kind: erp.CashRefund, EventIDs: []string{e.ID}}, seqs: []int64{st.Seq},
			thread: erp.Thread(e), first: time.Now()}, erp.Permanent, err.Error())
		return
	}
	if !ok {
		d.skip(st.Seq)
		return
	}
	d.track(st.Seq)
	thread := erp.Thread(e)
	d.enqueue(&item{doc: *doc, seqs: []int64{st.Seq}, thread: thread, first: time.Now()})
	if len(d.held[thread]) > 0 {
		d.releaseAfter = append(d.releaseAfter, thread)
	}
}

type heldEvent struct {
	st    *store.Stored
	since time.Time
}

// settles returns the order or transfer an event settles: a document the
// ERP must have before it can take this one.
func settles(e *event.Event) (inventory.DocRef, bool) {
	switch b := e.Body.(type) {
	case *event.TransferIn:
		return inventory.DocRef{Kind: inventory.DocTransfer, ID: b.TransferID}, true
	case *event.Fulfilment:
		return inventory.DocRef{Kind: inventory.DocOrder, ID: b.OrderID}, true
	case *event.OrderCancel:
		return inventory.DocRef{Kind: inventory.DocOrder, ID: b.OrderID}, true
	}
	return inventory.DocRef{}, false
}

// waits holds an event whose predecessor — the sale a void reverses, the
// transfer a receipt books in, the order a fulfilment ships — is not
// earlier in the log: an offline store synced late. The event waits (its
// position holds the cursor) until the predecessor is read and queued
// ahead of it in its thread, or HoldMax passes.
func (d *ERPDestination) waits(st *store.Stored, placed map[inventory.DocRef]int64, targets map[string]*store.Stored) bool {
	e := st.Event
	ok := true
	if v, isVoid := e.Body.(*event.Void); isVoid {
		t := targets[v.VoidedEventID]
		ok = t != nil && t.Seq < st.Seq
	} else if r, settling := settles(e); settling {
		seq, isPlaced := placed[r]
		ok = isPlaced && seq < st.Seq
	}
	if ok || (d.cfg.Types != nil && !d.cfg.Types[e.Type]) || (d.cfg.Locations != nil && !d.cfg.Locations[e.Location]) {
		return false
	}
	thread := erp.Thread(e)
	if t := d.threads[thread]; t != nil && len(t.q) > 0 {
		return false // its predecessor is already queued in this run
	}
	d.track(st.Seq)
	d.held[thread] = append(d.held[thread], heldEvent{st: st, since: time.Now()})
	d.log.Debug("holding until the document it settles arrives", "event_id", e.ID, "thread", thread)
	return true
}

// release queues a thread's held events after what was just queued, or
// (expired) on their own.
func (d *ERPDestination) release(ctx context.Context, thread string) {
	hs := d.held[thread]
	delete(d.held, thread)
	if len(hs) == 0 {
		return
	}
	var ids []string
	for _, h := range hs {
		if v, ok := h.st.Event.Body.(*event.Void); ok {
			ids = append(ids, v.VoidedEventID)
		}
	}
	targets := map[string]*store.Stored{}
	if len(ids) > 0 {
		var err error
		if targets, err = d.store.EventsByID(ctx, ids); err != nil {
			d.log.Warn("look up void targets", "err", err)
		}
	}
	lookup := func(id string) *event.Event {
		if t := targets[id]; t != nil {
			return t.Event
		}
		return nil
	}
	for _, h := range hs {
		d.open-- // take tracks it again
		d.order = removeSeq(d.order, h.st.Seq)
		d.take(h.st, lookup)
	}
	d.advance()
}

// releaseExpired posts events that waited HoldMax for their predecessor.
func (d *ERPDestination) releaseExpired(ctx context.Context, now time.Time) {
	for thread, hs := range d.held {
		if len(hs) > 0 && now.Sub(hs[0].since) >= d.cfg.HoldMax {
			d.log.Warn("the document this one settles never arrived; posting it anyway", "event_id", hs[0].st.Event.ID, "waited", now.Sub(hs[0].since))
			d.release(ctx, thread)
		}
	}
}

func removeSeq(order []int64, seq int64) []int64 {
	for i, s := range order {
		if s == seq {
			return append(order[:i], order[i+1:]...)
		}
	}
	return order
}

// track adds an unfinished event to the cursor's order.
func (d *ERPDestination) track(seq int64) {
	d.order = append(d.order, seq)
	d.open++
}

// skip adds an event this destination has nothing to do for.
func (d *ERPDestination) skip(seq int64) {
	d.order = append(d.order, seq)
	d.done[seq] = true
}

// finish marks events done.
func (d *ERPDestination) finish(seqs []int64) {
	for _, s := range seqs {
		if !d.done[s] {
			d.done[s] = true
			d.open--
		}
	}
}

// enqueue adds an item to its thread; a thread waiting behind a dead letter
// parks it at once.
func (d *ERPDestination) enqueue(it *item) {
	d.cfg.Fields.Apply(&it.doc)
	if x, ok := d.poisoned[it.thread]; ok && !it.replay {
		if x == it.doc.ExternalID {
			// The dead letter itself, read again after a rewind: it stays
			// parked as it was, with the ERP's error, until a replay.
			d.finish(it.seqs)
			return
		}
		d.park(it, erp.Permanent, "waiting behind dead letter "+x+" of the same document; replay that first")
		return
	}
	t := d.threads[it.thread]
	if t == nil {
		t = &thread{key: it.thread}
		d.threads[it.thread] = t
	}
	t.q = append(t.q, it)
	if len(t.q) == 1 && !t.busy {
		d.schedule(t, false)
	}
}

// schedule readies a thread's head to be sent, or delays it until its
// notBefore. A resumed head — one that waited on its thread, for the
// document before it or for a retry — goes before the heads read from the
// log since, which are newer: behind them, in a full window, it would wait
// for the whole window to be sent, and hold the cursor (and with it what
// a restart posts again) all that time.
func (d *ERPDestination) schedule(t *thread, resumed bool) {
	if t.queued || t.busy || len(t.q) == 0 {
		return
	}
	t.queued = true
	if nb := t.q[0].notBefore; time.Now().Before(nb) {
		heap.Push(&d.delayed, delayed{at: nb, t: t})
		return
	}
	if resumed {
		d.resumed = append(d.resumed, t)
		return
	}
	d.runnable = append(d.runnable, t)
}

func (d *ERPDestination) nextDue() (time.Time, bool) {
	if len(d.delayed) == 0 {
		return time.Time{}, false
	}
	return d.delayed[0].at, true
}

// dispatch sends ready heads, batched by kind, while the governor has room
// (senders beyond its ceiling would only queue in it).
func (d *ERPDestination) dispatch(ctx context.Context) {
	now := time.Now()
	for len(d.delayed) > 0 && !d.delayed[0].at.After(now) {
		x := heap.Pop(&d.delayed).(delayed)
		d.resumed = append(d.resumed, x.t)
	}
	if len(d.resumed) > 0 {
		d.runnable = append(d.resumed, d.runnable...)
		d.resumed = nil
	}
	limit := d.cfg.Governor.Stats().Ceiling + 2
	if d.blocked != "" {
		// While the ERP refuses tillsync, one probe at a time.
		if now.Before(d.probeAt) || d.sending > 0 {
			return
		}
		d.probeAt = now.Add(blockedRetry)
		limit = 1
	}
	maxBatch := max(d.cfg.Connector.MaxBatch(), 1)
	for len(d.runnable) > 0 && d.sending < limit {
		var batch []*item
		kind := d.runnable[0].q[0].doc.Kind
		rest := d.runnable[:0]
		for _, t := range d.runnable {
			if len(batch) < maxBatch && t.q[0].doc.Kind == kind {
				t.queued, t.busy = false, true
				batch = append(batch, t.q[0])
				continue
			}
			rest = append(rest, t)
		}
		d.runnable = rest
		d.send(ctx, batch)
	}
}

func (d *ERPDestination) send(ctx context.Context, batch []*item) {
	d.sending++
	lane := batch[0].doc.Lane()
	docs := make([]erp.Document, len(batch))
	for i, it := range batch {
		docs[i] = it.doc
	}
	go func() {
		permit, err := d.cfg.Governor.Acquire(ctx, lane)
		if err != nil {
			d.results <- result{batch: batch, errs: repeat(erp.Retryable(err), len(batch)), interrupted: true}
			return
		}
		cctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
		cctx, span := d.startSpan(cctx, docs)
		errs, callErr := d.cfg.Connector.Post(cctx, docs)
		endSpan(span, errs, callErr)
		cancel()
		if callErr == nil && len(errs) != len(docs) {
			callErr = erp.Retryable(fmt.Errorf("connector answered %d results for %d documents", len(errs), len(docs)))
		}
		if callErr != nil {
			errs = repeat(callErr, len(docs))
		}
		outcome, after := Done, time.Duration(0)
		for _, e := range errs {
			if e == nil {
				continue
			}
			switch c, ra := erp.Classify(e); c {
			case erp.RateLimited:
				outcome, after = Overloaded, max(after, ra)
			case erp.Retry:
				if outcome == Done && callErr != nil {
					outcome = Failed
				}
			}
		}
		permit.Release(outcome, after)
		d.results <- result{batch: batch, errs: errs, interrupted: ctx.Err() != nil}
	}()
}

func repeat(err error, n int) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

// handle records the outcome of one call.
func (d *ERPDestination) handle(r result) {
	d.sending--
	now := time.Now()
	for i, it := range r.batch {
		t := d.threads[it.thread]
		t.busy = false
		err := r.errs[i]
		if err == nil {
			if d.blocked != "" {
				d.log.Info("the ERP accepts postings again", "was", d.blocked)
				d.setBlocked("")
			}
			d.metrics.Deliveries.WithLabelValues(d.cfg.Name, "ok").Inc()
			d.delivered(it)
			d.pop(t)
			continue
		}
		class, after := erp.Classify(err)
		if class == erp.Retry && r.interrupted {
			// Stopped, not failed: no budget spent, nothing parked; the
			// document is posted again after a restart.
			d.schedule(t, true)
			continue
		}
		d.metrics.Deliveries.WithLabelValues(d.cfg.Name, class.String()).Inc()
		if class == erp.Misconfigured {
			// Nothing can succeed until an operator fixes the setup: hold
			// the document (no budget spent, nothing parked) and retry the
			// account now and then.
			if d.blocked != err.Error() {
				d.log.Error("the ERP refuses tillsync; holding every document until the configuration is fixed", "err", err)
				d.setBlocked(err.Error())
			}
			d.schedule(t, true)
			continue
		}
		if class == erp.RateLimited {
			it.throttles++
			if it.throttles < maxThrottles {
				if after <= 0 {
					// No Retry-After: back off as after a failure (without
					// spending the budget) rather than ask again at once.
					after = d.cfg.Retry.Backoff.Delay(it.throttles - 1)
				}
				it.notBefore = now.Add(after)
				d.schedule(t, true)
				continue
			}
			class = erp.Retry
		}
		if class == erp.Retry {
			it.attempts++
			if it.attempts < d.cfg.Retry.Attempts && now.Sub(it.first) < d.cfg.Retry.MaxAge {
				wait := d.cfg.Retry.Backoff.Delay(it.attempts - 1)
				if after > 0 {
					wait = min(after, d.cfg.Retry.Backoff.Max)
				}
				it.notBefore = now.Add(wait)
				d.log.Debug("will retry", "external_id", it.doc.ExternalID, "attempt", it.attempts, "in", wait, "err", err)
				d.schedule(t, true)
				continue
			}
		} else {
			it.attempts++
		}
		// Park it; the rest of its thread waits behind it, as dead letters
		// too, so a replay re-delivers them in order.
		rest := t.q[1:]
		t.q = nil
		delete(d.threads, t.key)
		d.park(it, class, err.Error())
		d.poisoned[it.thread] = it.doc.ExternalID
		for _, later := range rest {
			d.park(later, erp.Permanent, "waiting behind dead letter "+it.doc.ExternalID+" of the same document; replay that first")
		}
	}
	d.advance()
}

func (d *ERPDestination) pop(t *thread) {
	t.q = t.q[1:]
	if len(t.q) == 0 {
		delete(d.threads, t.key)
		return
	}
	d.schedule(t, true)
}

func (d *ERPDestination) delivered(it *item) {
	d.finish(it.seqs)
	seq := int64(0)
	for _, s := range it.seqs {
		seq = max(seq, s)
	}
	del := store.Delivered{ExternalID: it.doc.ExternalID, Kind: string(it.doc.Kind), Seq: seq, Events: len(it.doc.EventIDs)}
	if it.doc.Kind == erp.Summary {
		del.SummaryEvents, del.PeriodKey, del.Part = it.doc.EventIDs, it.periodKey, it.part
	}
	d.progress.Delivered = append(d.progress.Delivered, del)
	if it.replay {
		d.progress.Resolved = append(d.progress.Resolved, it.doc.ExternalID)
	}
	d.dirty = true
}

// park records a dead letter and finishes the item's events.
func (d *ERPDestination) park(it *item, class erp.Class, msg string) {
	d.finish(it.seqs)
	doc, _ := json.Marshal(it.doc)
	seq := int64(0)
	for _, s := range it.seqs {
		seq = max(seq, s)
	}
	now := time.Now().UTC()
	first := it.first
	if first.IsZero() {
		first = now
	}
	d.progress.Dead = append(d.progress.Dead, store.DeadLetter{Destination: d.cfg.Name, ExternalID: it.doc.ExternalID,
		Thread: it.thread, Seq: seq, Kind: string(it.doc.Kind), Attempts: max(it.attempts, 1), Class: class.String(), Error: msg,
		FirstFailed: first, LastFailed: now, Document: string(doc), PeriodKey: it.periodKey, Part: it.part})
	d.metrics.Deliveries.WithLabelValues(d.cfg.Name, "dead_letter").Inc()
	d.log.Warn("parked as a dead letter", "external_id", it.doc.ExternalID, "event_id", strings.Join(it.doc.EventIDs, ","), "class", class.String(), "err", msg)
	d.dirty = true
}

// advance moves the cursor over every finished event at its front.
func (d *ERPDestination) advance() {
	i := 0
	for i < len(d.order) && d.done[d.order[i]] {
		delete(d.done, d.order[i])
		d.cursor = d.order[i]
		i++
	}
	d.order = d.order[i:]
	if len(d.order) == 0 && d.cursor < d.readPos {
		d.cursor = d.readPos
	}
	if d.cursor != d.progress.Cursor {
		d.progress.Cursor = d.cursor
		d.dirty = true
	}
}

func (d *ERPDestination) save(ctx context.Context) {
	if !d.dirty {
		return
	}
	if err := d.store.SaveProgress(ctx, d.progress); err != nil {
		d.log.Warn("save progress; will retry", "err", err)
		return
	}
	d.progress = store.Progress{Destination: d.cfg.Name, Cursor: d.cursor}
	d.dirty = false
}

type delayed struct {
	at time.Time
	t  *thread
}

type delayHeap []delayed

func (h delayHeap) Len() int           { return len(h) }
func (h delayHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h delayHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *delayHeap) Push(x any)        { *h = append(*h, x.(delayed)) }
func (h *delayHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (d *ERPDestination) setBlocked(why string) {
	d.statusMu.Lock()
	d.blocked = why
	d.statusMu.Unlock()
}

// Status is a destination's state for the API and the dashboard.
type Status struct {
	Name    string `json:"name"`
	Mode    Mode   `json:"mode"`
	Cursor  int64  `json:"cursor"`
	Paused  bool   `json:"paused"`
	Blocked string `json:"blocked,omitempty"`
	Sending int    `json:"requests_in_flight"`
	Open    int    `json:"documents_open"`
}

// Status returns the destination's current state.
func (d *ERPDestination) Status() Status {
	d.statusMu.Lock()
	defer d.statusMu.Unlock()
	return d.status
}

func (d *ERPDestination) publishStatus() {
	d.statusMu.Lock()
	d.status = Status{Name: d.cfg.Name, Mode: d.cfg.Mode, Cursor: d.cursor, Paused: d.paused, Blocked: d.blocked,
		Sending: d.sending, Open: d.open}
	d.statusMu.Unlock()
}

// NoteCheck tells the destination that its account's start-up check
// failed, so a misconfiguration (credentials, permissions) shows as blocked
// before the first document fails.
func (d *ERPDestination) NoteCheck(err error) {
	if err == nil {
		return
	}
	select {
	case d.checks <- err:
	default:
	}
}
