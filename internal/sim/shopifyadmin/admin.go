package shopifyadmin

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config sets up a simulated shop.
type Config struct {
	// Token is the Admin API access token requests must carry in
	// X-Shopify-Access-Token.
	Token string
	// Plan sets the bucket (default Standard); RestoreRate and BucketSize
	// override it.
	Plan        Plan
	RestoreRate float64
	BucketSize  float64
	// MaxQueryCost is the most one query may request (default 1,000).
	MaxQueryCost float64
	// Latency is added to every request before it is answered, outside the
	// simulator's lock: the round trip to Shopify.
	Latency time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Change is one change of an available quantity.
type Change struct {
	Item     string    `json:"item"`
	Location string    `json:"location"`
	Quantity int64     `json:"quantity"`
	Delta    int64     `json:"delta"`
	By       string    `json:"by"` // "set", "adjust" (the API) or "other" (SetAvailable, AdjustAvailable)
	At       time.Time `json:"at"`
}

// Mutation describes a mutation about to run, for BeforeMutation hooks.
type Mutation struct {
	Field string // inventorySetQuantities or inventoryAdjustQuantities
	// Items and Locations are the inventory item and location of each
	// quantity or change in the input, in order.
	Items, Locations []string
}

// Stats is what GET /_sim/stats answers.
type Stats struct {
	Requests     int64 `json:"requests"`
	Unauthorized int64 `json:"unauthorized"`
	Throttled    int64 `json:"throttled"`
	// PointsUsed is the actual cost of every executed request.
	PointsUsed float64 `json:"points_used"`
	Mutations  int64   `json:"mutations"`
	Reads      int64   `json:"reads"`
	Lookups    int64   `json:"lookups"`
	// QuantitySets counts quantities written by inventorySetQuantities,
	// Adjustments changes applied by inventoryAdjustQuantities.
	QuantitySets int64 `json:"quantity_sets"`
	Adjustments  int64 `json:"adjustments"`
	// StaleCompares counts quantities refused as COMPARE_QUANTITY_STALE or
	// CHANGE_FROM_QUANTITY_STALE.
	StaleCompares int64 `json:"stale_compares"`
	UserErrors    int64 `json:"user_errors"`
	// Replays are mutations answered from an earlier request with the same
	// idempotency key.
	Replays     int64 `json:"replays"`
	OtherWrites int64 `json:"other_writes"`
	Injected    int64 `json:"injected_failures"`
	// Dropped is mutations executed whose answer DropNext discarded.
	Dropped int64 `json:"dropped_answers"`
	// MaxBatch is the most quantities one mutation carried.
	MaxBatch int `json:"max_batch"`
}

type variant struct{ id, sku, item string }

type levelKey struct{ item, location string }

type idemEntry struct {
	fingerprint string
	data        any
	failed      bool
}

// Server is a simulated shop's GraphQL Admin API.
type Server struct {
	cfg Config

	mu        sync.Mutex
	bucket    bucket
	nextID    int64
	variants  []variant
	items     map[string]bool
	locations map[string]bool
	levels    map[levelKey]int64
	idem      map[string]idemEntry
	failures  []int
	drops     int
	stats     Stats
	before    func(Mutation)
	onChange  func(Change)
}

// New returns a simulated shop with a full bucket and no products.
func New(cfg Config) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxQueryCost <= 0 {
		cfg.MaxQueryCost = 1000
	}
	rate, err := cfg.Plan.RestoreRate()
	if err != nil {
		return nil, err
	}
	if cfg.RestoreRate > 0 {
		rate = cfg.RestoreRate
	}
	size := rate * bucketSeconds
	if cfg.BucketSize > 0 {
		size = cfg.BucketSize
	}
	return &Server{
		cfg:    cfg,
		bucket: bucket{max: size, rate: rate, avail: size, at: cfg.Now()},
		nextID: 1000, items: map[string]bool{}, locations: map[string]bool{},
		levels: map[levelKey]int64{}, idem: map[string]idemEntry{},
	}, nil
}

func (s *Server) gid(kind string) string {
	s.nextID++
	return fmt.Sprintf("gid://shopify/%s/%d", kind, s.nextID)
}

// AddLocation creates a location and returns its GID.
func (s *Server) AddLocation() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.gid("Location")
	s.locations[id] = true
	return id
}

// AddVariant creates a product variant with its inventory item, stocked at
// the locations with 0 available, and returns the inventory item's GID.
// SKUs need not be unique, as in Shopify.
func (s *Server) AddVariant(sku string, locations ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := variant{id: s.gid("ProductVariant"), sku: sku, item: s.gid("InventoryItem")}
	s.variants = append(s.variants, v)
	s.items[v.item] = true
	for _, l := range locations {
		s.levels[levelKey{v.item, l}] = 0
	}
	return v.item
}

// Available returns an item's available quantity at a location, and
// whether it is stocked there.
func (s *Server) Available(item, location string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.levels[levelKey{item, location}]
	return q, ok
}

// SetAvailable sets a level as another writer would (stocking the item at
// the location if it was not).
func (s *Server) SetAvailable(item, location string, qty int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := levelKey{item, location}
	s.applyLocked(k, qty, qty-s.levels[k], "other")
	s.stats.OtherWrites++
}

// AdjustAvailable changes a level by delta as another writer would — a sale
// on Shopify POS is AdjustAvailable(item, location, -1) — and returns the
// new quantity.
func (s *Server) AdjustAvailable(item, location string, delta int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := levelKey{item, location}
	q := s.levels[k] + delta
	s.applyLocked(k, q, delta, "other")
	s.stats.OtherWrites++
	return q
}

func (s *Server) applyLocked(k levelKey, qty, delta int64, by string) {
	s.levels[k] = qty
	if s.onChange != nil {
		s.onChange(Change{Item: k.item, Location: k.location, Quantity: qty, Delta: delta, By: by, At: s.cfg.Now()})
	}
}

// BeforeMutation sets a hook run for every mutation that passed
// authentication, before it is charged and executed, outside the
// simulator's lock: it may call SetAvailable or AdjustAvailable.
func (s *Server) BeforeMutation(fn func(Mutation)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.before = fn
}

// OnChange sets a hook called, under the simulator's lock, for every change
// of a level. It must not call the Server.
func (s *Server) OnChange(fn func(Change)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onChange = fn
}

// FailNext makes the next authenticated GraphQL requests fail with these
// HTTP statuses, one each, before they are charged or executed.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, statuses...)
}

// DropNext makes the next n mutations lose their answer: each is executed
// (and charged), then the connection answers 502 instead, as when a
// response is lost on the way back.
func (s *Server) DropNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops += n
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Snapshot returns the counters and the bucket at one instant.
func (s *Server) Snapshot() (Stats, ThrottleStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucket.refill(s.cfg.Now())
	return s.stats, s.throttleLocked()
}

// ThrottleStatus is the bucket as a response reports it.
type ThrottleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

// Bucket returns the bucket's state now.
func (s *Server) Bucket() ThrottleStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucket.refill(s.cfg.Now())
	return s.throttleLocked()
}

func (s *Server) throttleLocked() ThrottleStatus {
	return ThrottleStatus{MaximumAvailable: s.bucket.max, CurrentlyAvailable: math.Floor(s.bucket.avail), RestoreRate: s.bucket.rate}
}

// Wire shapes.

type gqlRequest struct {
	Query         string                     `json:"query"`
	OperationName string                     `json:"operationName"`
	Variables     map[string]json.RawMessage `json:"variables"`
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type costExt struct {
	RequestedQueryCost int            `json:"requestedQueryCost"`
	ActualQueryCost    *int           `json:"actualQueryCost"`
	ThrottleStatus     ThrottleStatus `json:"throttleStatus"`
}

type gqlResponse struct {
	Data       any         `json:"data,omitempty"`
	Errors     []gqlError  `json:"errors,omitempty"`
	Extensions extensionsT `json:"extensions"`
}

type extensionsT struct {
	Cost costExt `json:"cost"`
}

var pathRE = regexp.MustCompile(`^/admin/api/(\d{4}-\d{2}|unstable)/graphql\.json$`)

// ServeHTTP serves the GraphQL endpoint and GET /_sim/stats.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_sim/stats" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Stats())
		return
	}
	m := pathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.cfg.Latency > 0 {
		t := time.NewTimer(s.cfg.Latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	version := apiVersion(m[1])
	s.mu.Lock()
	s.stats.Requests++
	if r.Header.Get("X-Shopify-Access-Token") != s.cfg.Token || s.cfg.Token == "" {
		s.stats.Unauthorized++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`)
		return
	}
	if len(s.failures) > 0 {
		status := s.failures[0]
		s.failures = s.failures[1:]
		s.stats.Injected++
		s.mu.Unlock()
		http.Error(w, http.StatusText(status), status)
		return
	}
	s.mu.Unlock()

	var req gqlRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []gqlError{{Message: "invalid JSON body: " + err.Error()}}})
		return
	}
	op, err := classify(&req)
	if err != nil {
		s.mu.Lock()
		resp := gqlResponse{Errors: []gqlError{{Message: err.Error(), Extensions: map[string]any{"code": "UNSUPPORTED_BY_SIMULATOR"}}}}
		resp.Extensions.Cost = costExt{ThrottleStatus: s.throttleLocked()}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, resp)
		return
	}
	if op.mutation != nil {
		s.mu.Lock()
		hook := s.before
		s.mu.Unlock()
		if hook != nil {
			hook(*op.mutation)
		}
	}
	resp := s.execute(version, &req, op)
	if op.mutation != nil {
		s.mu.Lock()
		drop := s.drops > 0 && resp.Extensions.Cost.ActualQueryCost != nil
		if drop {
			s.drops--
			s.stats.Dropped++
		}
		s.mu.Unlock()
		if drop {
			http.Error(w, "answer lost (simulated)", http.StatusBadGateway)
			return
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) execute(version int, req *gqlRequest, op *operation) gqlResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	var resp gqlResponse
	requested := op.cost
	resp.Extensions.Cost.RequestedQueryCost = int(requested)
	if requested > s.cfg.MaxQueryCost {
		resp.Errors = []gqlError{{
			Message:    fmt.Sprintf("Query cost is %d, which exceeds the single query max cost limit (%d).", int(requested), int(s.cfg.MaxQueryCost)),
			Extensions: map[string]any{"code": "MAX_COST_EXCEEDED", "cost": int(requested), "maxCost": int(s.cfg.MaxQueryCost)},
		}}
		s.bucket.refill(s.cfg.Now())
		resp.Extensions.Cost.ThrottleStatus = s.throttleLocked()
		return resp
	}
	if !s.bucket.take(s.cfg.Now(), requested) {
		s.stats.Throttled++
		resp.Errors = []gqlError{{Message: "Throttled", Extensions: map[string]any{
			"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits",
		}}}
		resp.Extensions.Cost.ThrottleStatus = s.throttleLocked()
		return resp
	}
	data, errs, actual := op.run(s, version, req)
	actual = min(actual, requested)
	s.bucket.refund(requested - actual)
	s.stats.PointsUsed += actual
	a := int(actual)
	resp.Data, resp.Errors = data, errs
	resp.Extensions.Cost.ActualQueryCost = &a
	resp.Extensions.Cost.ThrottleStatus = s.throttleLocked()
	return resp
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiVersion turns "2026-04" into 202604 ("unstable" sorts last).
func apiVersion(v string) int {
	if v == "unstable" {
		return math.MaxInt32
	}
	y, _ := strconv.Atoi(v[:4])
	mo, _ := strconv.Atoi(v[5:])
	return y*100 + mo
}

// Versions at which the inventory mutations changed.
const (
	v202601 = 202601 // changeFromQuantity and @idempotent introduced
	v202604 = 202604 // changeFromQuantity required, compareQuantity removed, @idempotent required on adjust
)

var idemRE = regexp.MustCompile(`@idempotent\(\s*key:\s*(\$\w+|"[^"]*")\s*\)`)

// idempotencyKey returns the @idempotent key of a request, if any.
func idempotencyKey(req *gqlRequest) (string, bool, error) {
	m := idemRE.FindStringSubmatch(req.Query)
	if m == nil {
		if strings.Contains(req.Query, "@idempotent") {
			return "", false, fmt.Errorf("@idempotent needs a key argument")
		}
		return "", false, nil
	}
	if strings.HasPrefix(m[1], "$") {
		raw, ok := req.Variables[m[1][1:]]
		var key string
		if !ok || json.Unmarshal(raw, &key) != nil || key == "" {
			return "", false, fmt.Errorf("variable %s for @idempotent(key:) is missing or not a string", m[1])
		}
		return key, true, nil
	}
	return strings.Trim(m[1], `"`), true, nil
}
