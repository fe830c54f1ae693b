package shopify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/store"
)

// Deps are what a destination works with.
type Deps struct {
	Store    *store.Store
	Notifier *destination.Notifier
	Client   *http.Client
	Metrics  *destination.Metrics
	Shopify  *Metrics
	Log      *slog.Logger
	// Governor is optional: destinations using the same app on the same
	// shop share Shopify's bucket and should share one.
	Governor *Governor
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Destination pushes one availability channel to one Shopify shop.
type Destination struct {
	cfg    Config
	store  *store.Store
	notify *destination.Notifier
	dm     *destination.Metrics
	m      *Metrics
	log    *slog.Logger
	client *client
	gov    *Governor
	now    func() time.Time

	// Owned by Run's goroutine.
	state    map[inventory.Key]*keyState
	settling map[inventory.Key]bool
	skus     map[string]skuEntry
	lane     *lane // set while a page is being pushed

	mu       sync.Mutex // guards stats and unmapped
	stats    Stats
	unmapped map[string]map[string]bool // kind → names
}

// keyState is what the destination knows of one SKU at one location.
type keyState struct {
	item, location string // Shopify GIDs
	// shopify is the available quantity Shopify holds, as last confirmed
	// (known) or as last believed before a compare refuted it (stale).
	shopify      int64
	known, stale bool
	// maybe is a value tillsync wrote whose answer was lost (uncertain):
	// Shopify may hold it rather than shopify.
	maybe     int64
	uncertain bool
	// ledger is the available-to-promise (whole units) the last confirmed
	// write reflected; based says there was one.
	ledger int64
	based  bool
	seq    int64
	// offset (≤ 0) is a decrease made in Shopify behind tillsync's back,
	// held on top of the ledger's value until settleAt.
	offset   int64
	settleAt time.Time
}

// target is what Shopify should hold for an available-to-promise: the
// ledger's value less any decrease made in Shopify that the ledger may not
// include yet, never negative.
func (s *keyState) target(atp int64) int64 { return max(0, min(atp, atp+s.offset)) }

// holds reports whether Shopify's known value already is the target. A
// negative value (Shopify oversold) stands for a target of 0: tillsync
// does not hide an oversell Shopify recorded.
func (s *keyState) holds(target int64) bool {
	return s.known && (s.shopify == target || (target == 0 && s.shopify < 0))
}

type skuEntry struct {
	item    string // "" when not found
	retryAt time.Time
}

// Stats are a destination's counters.
type Stats struct {
	// Quantities is quantities Shopify confirmed; Mutations the mutations
	// that carried them.
	Quantities int64 `json:"quantities"`
	Mutations  int64 `json:"mutations"`
	// Stale is quantities refused because Shopify's value had changed;
	// Reads is quantities read back (first contact and after Stale).
	Stale int64 `json:"stale"`
	Reads int64 `json:"reads"`
	// Settled is offsets released after SettleAfter.
	Settled int64 `json:"settled"`
	// Overtaken is changes of known keys written ahead of a page that
	// waited on reads or lookups.
	Overtaken int64 `json:"overtaken"`
	// Unmapped is distinct names that could not be pushed, by kind: sku
	// (no inventory item), location (no Shopify location), item (the
	// inventory item does not exist), level (not stocked at the location),
	// quantity (refused value).
	Unmapped map[string]int `json:"unmapped"`
}

// New returns a destination; Run starts it.
func New(cfg Config, deps Deps) (*Destination, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Notifier == nil || deps.Metrics == nil || deps.Shopify == nil {
		return nil, fmt.Errorf("shopify %s: store, notifier and metrics are required", cfg.Name)
	}
	if deps.Client == nil {
		deps.Client = http.DefaultClient
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	gov := deps.Governor
	if gov == nil {
		gov = NewGovernor(GovernorConfig{RestoreRate: cfg.RestoreRate, BucketSize: cfg.BucketSize, Reserve: cfg.Reserve, Now: deps.Now})
	}
	base := cfg.Endpoint
	if base == "" {
		base = "https://" + cfg.Shop
	}
	d := &Destination{
		cfg: cfg, store: deps.Store, notify: deps.Notifier, dm: deps.Metrics, m: deps.Shopify,
		log: deps.Log.With("destination", cfg.Name), gov: gov, now: deps.Now,
		state: map[inventory.Key]*keyState{}, settling: map[inventory.Key]bool{}, skus: map[string]skuEntry{},
		unmapped: map[string]map[string]bool{},
	}
	d.client = &client{
		name: cfg.Name, url: strings.TrimSuffix(base, "/") + "/admin/api/" + cfg.APIVersion + "/graphql.json",
		token: cfg.AccessToken, http: deps.Client, timeout: cfg.Timeout, gov: gov, m: deps.Shopify, scale: map[string]float64{},
	}
	return d, nil
}

// Name is the destination's name.
func (d *Destination) Name() string { return d.cfg.Name }

// Governor returns the destination's governor.
func (d *Destination) Governor() *Governor { return d.gov }

func (d *Destination) cursorName() string { return "shopify:" + d.cfg.Name }

// Stats returns the destination's counters.
func (d *Destination) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stats
	s.Unmapped = map[string]int{}
	for k, v := range d.unmapped {
		s.Unmapped[k] = len(v)
	}
	return s
}

// Check asks the shop for its ID: it fails fast (ErrUnauthorized,
// ErrForbidden, ErrNotFound) on a wrong domain, token or version, and gives
// the governor the bucket's real state.
func (d *Destination) Check(ctx context.Context) error {
	if err := d.client.do(ctx, request{op: "ping", query: pingQuery, cost: 1}, nil); err != nil {
		return fmt.Errorf("shopify %s: %w", d.cfg.Name, err)
	}
	return nil
}

// Run pushes changes until ctx ends. It returns an error only when retrying
// cannot help (ErrUnauthorized, ErrForbidden, ErrNotFound); the cursor
// stays where Shopify last confirmed.
func (d *Destination) Run(ctx context.Context) error {
	cursor, err := d.store.Cursor(ctx, d.cursorName())
	if err != nil {
		return err
	}
	failures := 0
	for ctx.Err() == nil {
		if err := d.settleDue(ctx); err != nil {
			return d.stopped(ctx, err)
		}
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
			// As in channel/webhook: nothing changed after the cursor, so
			// the events up to head need no push.
			next = max(next, head)
		}
		if next == cursor {
			d.dm.ObserveLag(ctx, d.store, d.cfg.Name, cursor)
			idle := 5 * time.Second
			if at, ok := d.nextSettle(); ok {
				idle = min(idle, max(at.Sub(d.now()), time.Millisecond))
			}
			t := time.NewTimer(idle)
			select {
			case <-ctx.Done():
			case <-wait:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		if err := d.push(ctx, rows, next); err != nil {
			return d.stopped(ctx, err)
		}
		if err := d.store.SetCursor(ctx, d.cursorName(), next); err != nil {
			d.log.Warn("save cursor", "err", err)
		}
		cursor = next
		d.dm.ObserveLag(ctx, d.store, d.cfg.Name, cursor)
	}
	return nil
}

// stopped turns a push error into Run's result: nil for a cancelled ctx
// (the cursor did not move), the error otherwise.
func (d *Destination) stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil //nolint:nilerr // a cancelled ctx is a clean stop: the cursor did not move
	}
	d.log.Error("shopify destination stopped; fix the configuration and restart", "err", err)
	return fmt.Errorf("shopify %s: %w", d.cfg.Name, err)
}

// lane lets later changes of keys whose Shopify value is known overtake a
// page that waits on reads or lookups: writing them is cheap (10 points per
// 250 quantities) and reading first contacts is not (about 3 points
// each), so a sale at a till need not wait behind a thousand first
// contacts. The cursor still moves only past confirmed pages; when it
// reaches the overtaking rows, their keys are unchanged and skipped.
type lane struct {
	after int64                  // the last seq the lane has read
	busy  map[inventory.Key]bool // keys of the page being pushed: not overtaken
}

// overtake pushes changes after the lane's position for keys already
// known, skipping keys of the current page.
func (d *Destination) overtake(ctx context.Context) error {
	l := d.lane
	if l == nil {
		return nil
	}
	d.lane = nil // no lane inside the lane
	defer func() { d.lane = l }()
	rows, next, err := d.store.PositionsChangedAfter(ctx, l.after, d.cfg.PageSize)
	if err != nil || len(rows) == 0 {
		return nil //nolint:nilerr // the lane is an optimisation: the main path reads these rows again
	}
	l.after = next
	var jobs []*job
	for _, r := range rows {
		st := d.state[r.Key]
		if l.busy[r.Key] || st == nil || !st.known || !d.cfg.Channel.Sells(r.Location) || d.cfg.Locations[r.Location] != st.location {
			continue
		}
		atp := units(d.cfg.Channel.ATP(r.Position))
		if !d.unchanged(st, atp) {
			jobs = append(jobs, &job{key: r.Key, st: st, atp: atp, seq: r.UpdatedSeq})
		}
	}
	if len(jobs) > 0 {
		d.count(func(s *Stats) { s.Overtaken += int64(len(jobs)) })
	}
	return d.write(ctx, jobs)
}

// job is one quantity to write.
type job struct {
	key    inventory.Key
	st     *keyState
	atp    int64
	seq    int64
	target int64
	delta  int64
	adjust bool
}

// units turns an available-to-promise into whole units, rounding down (a
// fraction of an item cannot be sold) and capping at Shopify's maximum.
func units(q event.Qty) int64 { return min(max(int64(q), 0)/event.QtyScale, maxQuantity) }

const maxQuantity = 1_000_000_000

// push writes a page of changed positions; next is the cursor after it.
func (d *Destination) push(ctx context.Context, rows []store.PositionRow, next int64) error {
	l := &lane{after: next, busy: make(map[inventory.Key]bool, len(rows))}
	for _, r := range rows {
		l.busy[r.Key] = true
	}
	d.lane = l
	defer func() { d.lane = nil }()
	type cand struct {
		row      store.PositionRow
		location string
	}
	var cands []cand
	var skus []string
	for _, r := range rows {
		if !d.cfg.Channel.Sells(r.Location) {
			continue
		}
		loc, ok := d.cfg.Locations[r.Location]
		if !ok {
			d.skip("location", r.Location)
			continue
		}
		cands = append(cands, cand{r, loc})
		skus = append(skus, r.SKU)
	}
	items, err := d.resolve(ctx, skus)
	if err != nil {
		return err
	}
	var jobs []*job
	for _, c := range cands {
		item := items[c.row.SKU]
		if item == "" {
			d.skip("sku", c.row.SKU)
			continue
		}
		st := d.state[c.row.Key]
		if st == nil || st.item != item || st.location != c.location {
			st = &keyState{item: item, location: c.location}
			d.state[c.row.Key] = st
		}
		atp := units(d.cfg.Channel.ATP(c.row.Position))
		if d.unchanged(st, atp) {
			continue
		}
		jobs = append(jobs, &job{key: c.row.Key, st: st, atp: atp, seq: c.row.UpdatedSeq})
	}
	return d.write(ctx, jobs)
}

// unchanged reports whether Shopify already reflects atp.
func (d *Destination) unchanged(st *keyState, atp int64) bool {
	if d.cfg.Mode == ModeAdjust && st.based && st.offset == 0 {
		return st.ledger == atp
	}
	return st.holds(st.target(atp))
}

// write brings Shopify to the jobs' targets: it reads what it does not
// know, writes in batches, and re-reads and rewrites what went stale, until
// every job is confirmed or rejected.
func (d *Destination) write(ctx context.Context, jobs []*job) error {
	for len(jobs) > 0 {
		if err := d.readUnknown(ctx, jobs); err != nil {
			return err
		}
		var sets, adjusts []*job
		for _, j := range jobs {
			if d.state[j.key] != j.st {
				continue // rejected
			}
			if d.cfg.Mode == ModeAdjust && j.st.based && j.st.offset == 0 {
				j.adjust, j.delta = true, j.atp-j.st.ledger
				if j.delta == 0 {
					continue
				}
				adjusts = append(adjusts, j)
				continue
			}
			j.adjust, j.target = false, j.st.target(j.atp)
			if j.st.holds(j.target) {
				// Shopify already holds it (a write whose answer was lost,
				// or a concurrent change that happened to agree).
				j.st.ledger, j.st.based, j.st.seq = j.atp, j.st.offset == 0, j.seq
				continue
			}
			sets = append(sets, j)
		}
		var again []*job
		for _, group := range [][]*job{adjusts, sets} {
			for b := range slices.Chunk(group, d.cfg.BatchSize) {
				retry, err := d.mutate(ctx, b)
				if err != nil {
					return err
				}
				again = append(again, retry...)
			}
		}
		jobs = again
	}
	return nil
}

// readUnknown reads Shopify's quantity for jobs whose value is not known:
// first contact, or refuted by a stale compare. It applies the resolution
// rule: a decrease in Shopify that tillsync did not make is kept on top of
// the ledger's value (offset) until it settles.
func (d *Destination) readUnknown(ctx context.Context, jobs []*job) error {
	var unknown []*job
	var stale []inventory.Key
	for _, j := range jobs {
		if !j.st.known && d.state[j.key] == j.st {
			unknown = append(unknown, j)
			if j.st.stale {
				stale = append(stale, j.key)
			}
		}
	}
	if len(stale) > 0 {
		// The ledger is the truth: recompute what a stale write was for
		// from the ledger as it is now, not as the page found it.
		if pos, err := d.store.PositionsByKey(ctx, stale); err != nil {
			d.log.Warn("re-read positions after a stale compare", "err", err)
		} else {
			for _, j := range unknown {
				if p, ok := pos[j.key]; ok && j.st.stale {
					j.atp = units(d.cfg.Channel.ATP(p))
				}
			}
		}
	}
	limit := readBatch
	for len(unknown) > 0 {
		if err := d.overtake(ctx); err != nil {
			return err
		}
		// Sized anew each time: the first answers may reveal a smaller
		// bucket than the plan suggested.
		b := unknown[:min(len(unknown), d.chunk(limit, costLevel, 0))]
		vars := map[string]any{}
		for i, j := range b {
			vars[fmt.Sprintf("item%d", i)] = j.st.item
			vars[fmt.Sprintf("location%d", i)] = j.st.location
		}
		var data map[string]*levelAnswer
		err := d.call(ctx, request{op: "read", query: readQuery(len(b)), vars: vars, cost: costLevel * float64(len(b))}, &data)
		if errors.Is(err, errTooCostly) && len(b) > 1 {
			limit = len(b) / 2
			continue
		}
		if err != nil {
			return err
		}
		unknown = unknown[len(b):]
		d.count(func(s *Stats) { s.Reads += int64(len(b)) })
		now := d.now()
		for i, j := range b {
			a := data[fmt.Sprintf("l%d", i)]
			switch {
			case a == nil:
				d.reject(j, "item", "the inventory item does not exist")
				continue
			case a.InventoryLevel == nil:
				d.reject(j, "level", "the inventory item is not stocked at the location")
				continue
			}
			var q int64
			for _, x := range a.InventoryLevel.Quantities {
				if x.Name == "available" {
					q = x.Quantity
				}
			}
			st := j.st
			moved := q - j.atp // first contact: as if Shopify had held the ledger's value
			if st.stale {
				moved = q - st.shopify
				if st.uncertain {
					// A write whose answer was lost may have applied: if
					// Shopify holds its value, nobody else moved it;
					// otherwise assume the larger decrease.
					moved = min(moved, q-st.maybe)
					if q == st.maybe {
						moved = 0
					}
				}
			}
			st.shopify, st.known, st.stale, st.uncertain = q, true, false, false
			if off := min(0, st.offset+moved); off != st.offset {
				st.offset = off
				d.hold(j.key, st, now)
			}
		}
	}
	return nil
}

// chunk is how many items of a given cost one query carries: about
// paceSeconds of restore (so changes of known keys can overtake between
// two queries, yet each query is worth its round trip), at most limit, and
// never more than the bucket holds (a query that costs more than the
// bucket could never run).
func (d *Destination) chunk(limit int, each, base float64) int {
	b := d.gov.Bucket()
	pace := max(int(b.RestoreRate*paceSeconds/each), minChunk)
	fit := int((b.MaximumAvailable - base) / each)
	return max(1, min(limit, pace, fit))
}

// hold (re)starts the settle clock of a key with an offset.
func (d *Destination) hold(k inventory.Key, st *keyState, now time.Time) {
	if st.offset == 0 || d.cfg.SettleAfter < 0 {
		st.settleAt = time.Time{}
		delete(d.settling, k)
		return
	}
	st.settleAt = now.Add(d.cfg.SettleAfter)
	d.settling[k] = true
}

// mutate sends one batch and returns the jobs to try again (stale ones
// after a re-read, and the rest of a batch a user error refused).
func (d *Destination) mutate(ctx context.Context, batch []*job) ([]*job, error) {
	adjust := batch[0].adjust
	newAPI := !versionBefore(d.cfg.APIVersion, "2026-01")
	entries := make([]map[string]any, len(batch))
	var seq int64
	for i, j := range batch {
		e := map[string]any{"inventoryItemId": j.st.item, "locationId": j.st.location}
		switch {
		case adjust:
			e["delta"] = j.delta
			if !versionBefore(d.cfg.APIVersion, "2026-04") {
				e["changeFromQuantity"] = nil // a delta commutes with concurrent changes: opt out explicitly
			}
		case newAPI:
			e["quantity"], e["changeFromQuantity"] = j.target, j.st.shopify
		default:
			e["quantity"], e["compareQuantity"] = j.target, j.st.shopify
		}
		entries[i] = e
		seq = max(seq, j.seq)
	}
	input := map[string]any{"name": "available", "reason": d.cfg.Reason,
		"referenceDocumentUri": fmt.Sprintf("gid://tillsync/Event/%d", seq)}
	field, r := "inventorySetQuantities", request{op: "set", query: setMutation(newAPI), cost: costMutation}
	if adjust {
		input["changes"] = entries
		field, r = "inventoryAdjustQuantities", request{op: "adjust", query: adjustMutation, cost: costMutation}
	} else {
		input["quantities"] = entries
	}
	r.vars = map[string]any{"input": input}
	for attempt := 0; ; attempt++ {
		if newAPI {
			if attempt == 0 || r.vars["idempotencyKey"] == nil {
				r.vars["idempotencyKey"] = newKey()
			}
		}
		var data map[string]mutationPayload
		uncertain, err := d.callTracked(ctx, r, &data)
		if err != nil {
			return nil, err
		}
		ues := data[field].UserErrors
		if len(ues) == 0 {
			d.confirm(batch)
			return nil, nil
		}
		retry, again, err := d.refused(ctx, batch, ues, attempt, uncertain)
		if err != nil || !again {
			return retry, err
		}
		if again && newAPI && !sameKey(ues) {
			r.vars["idempotencyKey"] = nil
		}
	}
}

// sameKey reports whether a refused request must be resent with its key
// (the first attempt is still running).
func sameKey(ues []userError) bool {
	for _, ue := range ues {
		if ue.Code == "IDEMPOTENCY_CONCURRENT_REQUEST" {
			return true
		}
	}
	return false
}

// confirm records a batch Shopify applied.
func (d *Destination) confirm(batch []*job) {
	mutation := "set"
	for _, j := range batch {
		st := j.st
		if j.adjust {
			mutation = "adjust"
			st.shopify += j.delta
		} else {
			st.shopify = j.target
		}
		st.known, st.stale, st.uncertain = true, false, false
		st.ledger, st.seq = j.atp, j.seq
		st.based = j.adjust || st.offset == 0
	}
	d.m.quantities.WithLabelValues(d.cfg.Name, mutation).Add(float64(len(batch)))
	d.dm.Deliveries.WithLabelValues(d.cfg.Name, "ok").Inc()
	d.count(func(s *Stats) { s.Quantities += int64(len(batch)); s.Mutations++ })
}

// Codes that refuse one quantity for good: the mapping or the value is
// wrong, and retrying cannot help.
var rejectCodes = map[string]string{
	"INVALID_INVENTORY_ITEM":       "item",
	"INVALID_LOCATION":             "level",
	"ITEM_NOT_STOCKED_AT_LOCATION": "level",
	"NON_MUTABLE_INVENTORY_ITEM":   "item",
	"INVALID_QUANTITY_NEGATIVE":    "quantity",
	"INVALID_QUANTITY_TOO_HIGH":    "quantity",
	"INVALID_QUANTITY_TOO_LOW":     "quantity",
}

// refused handles a mutation's user errors. Nothing of the batch was
// applied. It returns the jobs to retry in the next round (after a
// re-read), or again=true to resend the same batch now.
// uncertain says an earlier attempt of the same request got no answer and
// may have been applied.
func (d *Destination) refused(ctx context.Context, batch []*job, ues []userError, attempt int, uncertain bool) (retry []*job, again bool, err error) {
	bad := map[int]bool{}
	var general []userError
	stale := 0
	for _, ue := range ues {
		i, ok := ue.index()
		if !ok || i >= len(batch) {
			general = append(general, ue)
			continue
		}
		j := batch[i]
		switch {
		case ue.Code == "COMPARE_QUANTITY_STALE" || ue.Code == "CHANGE_FROM_QUANTITY_STALE":
			// Shopify's value changed behind tillsync's back: re-read it
			// and resolve, never overwrite blindly.
			j.st.known, j.st.stale = false, true
			j.st.maybe, j.st.uncertain = j.target, uncertain && !j.adjust
			stale++
		case rejectCodes[ue.Code] != "":
			d.reject(j, rejectCodes[ue.Code], ue.Code+": "+ue.Message)
			bad[i] = true
		default:
			general = append(general, ue)
		}
	}
	if stale > 0 {
		d.m.stale.WithLabelValues(d.cfg.Name).Add(float64(stale))
		d.count(func(s *Stats) { s.Stale += int64(stale) })
	}
	if len(general) > 0 {
		codes := make([]string, len(general))
		for i, ue := range general {
			codes[i] = ue.Code + " " + strings.Join(ue.Field, ".") + ": " + ue.Message
		}
		switch general[0].Code {
		case "IDEMPOTENCY_CONCURRENT_REQUEST", "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED", "IDEMPOTENCY_KEY_PARAMETER_MISMATCH":
			d.log.Info("idempotency refusal; resending", "errors", codes)
		default:
			d.log.Error("Shopify refused a batch; will retry", "errors", codes)
		}
		if !destination.Sleep(ctx, d.cfg.Backoff.Delay(attempt)) {
			return nil, false, ctx.Err()
		}
		if stale == 0 && len(bad) == 0 {
			return nil, true, nil
		}
	}
	for i, j := range batch {
		if !bad[i] {
			retry = append(retry, j)
		}
	}
	return retry, false, nil
}

// reject records a job Shopify cannot take; the destination forgets the
// key until it changes again (and, for an unknown item, the SKU's lookup).
func (d *Destination) reject(j *job, kind, why string) {
	delete(d.state, j.key)
	delete(d.settling, j.key)
	if kind == "item" {
		delete(d.skus, j.key.SKU)
	}
	d.skip(kind, j.key.SKU+"@"+j.key.Location, "reason", why)
}

// skip counts a change that is not pushed and logs its name the first time.
func (d *Destination) skip(kind, name string, args ...any) {
	d.m.skipped.WithLabelValues(d.cfg.Name, kind).Inc()
	d.mu.Lock()
	set := d.unmapped[kind]
	if set == nil {
		set = map[string]bool{}
		d.unmapped[kind] = set
	}
	first := !set[name]
	set[name] = true
	n := len(set)
	d.mu.Unlock()
	if first {
		d.m.unmapped.WithLabelValues(d.cfg.Name, kind).Set(float64(n))
		d.log.Warn("not pushed to Shopify: unmapped "+kind+" (logged once)", append([]any{kind, name}, args...)...)
	}
}

func (d *Destination) count(f func(*Stats)) {
	d.mu.Lock()
	f(&d.stats)
	d.mu.Unlock()
}

// call sends a request until Shopify answers, backing off after failures
// (5xx, network errors); permanent errors and a cancelled ctx end it.
func (d *Destination) call(ctx context.Context, r request, out any) error {
	_, err := d.callTracked(ctx, r, out)
	return err
}

// callTracked is call that also reports whether an attempt failed after
// the request may have reached Shopify (its outcome is unknown).
func (d *Destination) callTracked(ctx context.Context, r request, out any) (uncertain bool, err error) {
	for attempt := 0; ; attempt++ {
		err := d.client.do(ctx, r, out)
		if err == nil || permanent(err) || errors.Is(err, errTooCostly) || ctx.Err() != nil {
			return uncertain, err
		}
		uncertain = true
		d.dm.Deliveries.WithLabelValues(d.cfg.Name, "retry").Inc()
		wait := d.cfg.Backoff.Delay(attempt)
		d.log.Warn("Shopify request failed; will retry", "op", r.op, "attempt", attempt+1, "retry_in", wait, "err", err)
		if !destination.Sleep(ctx, wait) {
			return uncertain, ctx.Err()
		}
	}
}

// settleDue releases offsets whose SettleAfter has passed: Shopify gets the
// ledger's value, compare-and-set as always.
func (d *Destination) settleDue(ctx context.Context) error {
	now := d.now()
	var keys []inventory.Key
	for k := range d.settling {
		st := d.state[k]
		if st == nil || st.offset == 0 {
			delete(d.settling, k)
			continue
		}
		if !now.Before(st.settleAt) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	pos, err := d.store.PositionsByKey(ctx, keys)
	if err != nil {
		d.log.Warn("read positions to settle", "err", err)
		return nil
	}
	jobs := make([]*job, 0, len(keys))
	for _, k := range keys {
		st := d.state[k]
		st.offset, st.settleAt = 0, time.Time{}
		delete(d.settling, k)
		jobs = append(jobs, &job{key: k, st: st, atp: units(d.cfg.Channel.ATP(pos[k])), seq: st.seq})
	}
	d.count(func(s *Stats) { s.Settled += int64(len(keys)) })
	err = d.write(ctx, jobs)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// nextSettle returns the earliest pending settle time.
func (d *Destination) nextSettle() (time.Time, bool) {
	var at time.Time
	for k := range d.settling {
		if st := d.state[k]; st != nil && (at.IsZero() || st.settleAt.Before(at)) {
			at = st.settleAt
		}
	}
	return at, !at.IsZero()
}
