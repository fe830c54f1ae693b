package shopifyadmin_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/sim/shopifyadmin"
)

const token = "shpat_test"

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type bundle struct {
	sim   *shopifyadmin.Server
	srv   *httptest.Server
	clock *clock
	loc   string
	item  string
}

func setup(t *testing.T, cfg shopifyadmin.Config) *bundle {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	if cfg.Token == "" {
		cfg.Token = token
	}
	cfg.Now = c.Now
	sim, err := shopifyadmin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	b := &bundle{sim: sim, srv: srv, clock: c, loc: sim.AddLocation()}
	b.item = sim.AddVariant("JKT", b.loc)
	return b
}

type answer struct {
	status int
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Extensions struct {
		Cost struct {
			RequestedQueryCost int                         `json:"requestedQueryCost"`
			ActualQueryCost    *int                        `json:"actualQueryCost"`
			ThrottleStatus     shopifyadmin.ThrottleStatus `json:"throttleStatus"`
		} `json:"cost"`
	} `json:"extensions"`
}

func (b *bundle) post(t *testing.T, version, tok, query string, vars map[string]any) answer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, b.srv.URL+"/admin/api/"+version+"/graphql.json", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("X-Shopify-Access-Token", tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode}
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func (a answer) code() string {
	if len(a.Errors) == 0 {
		return ""
	}
	c, _ := a.Errors[0].Extensions["code"].(string)
	return c
}

type payload struct {
	UserErrors []struct {
		Code  string   `json:"code"`
		Field []string `json:"field"`
	} `json:"userErrors"`
}

func (a answer) userErrors(t *testing.T, field string) []string {
	t.Helper()
	var p payload
	if err := json.Unmarshal(a.Data[field], &p); err != nil {
		t.Fatalf("payload %s: %v (%s)", field, err, a.Data[field])
	}
	var codes []string
	for _, ue := range p.UserErrors {
		codes = append(codes, ue.Code)
	}
	return codes
}

const setQ = `mutation S($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code field message } } }`
const setIdemQ = `mutation S($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) { inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) { userErrors { code field message } } }`
const adjustQ = `mutation A($input: InventoryAdjustQuantitiesInput!, $idempotencyKey: String!) { inventoryAdjustQuantities(input: $input) @idempotent(key: $idempotencyKey) { userErrors { code field message } } }`
const adjustNoKeyQ = `mutation A($input: InventoryAdjustQuantitiesInput!) { inventoryAdjustQuantities(input: $input) { userErrors { code field message } } }`

func setInput(quantities ...map[string]any) map[string]any {
	return map[string]any{"input": map[string]any{"name": "available", "reason": "correction",
		"referenceDocumentUri": "gid://tillsync/Event/1", "quantities": quantities}}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	for _, tok := range []string{"", "wrong"} {
		if a := b.post(t, "2026-10", tok, `query { shop { id } }`, nil); a.status != http.StatusUnauthorized {
			t.Errorf("token %q: status %d, want 401", tok, a.status)
		}
	}
	if a := b.post(t, "2026-10", token, `query { shop { id } }`, nil); a.status != http.StatusOK || a.Extensions.Cost.ThrottleStatus.RestoreRate != 100 {
		t.Errorf("good token: %d %+v", a.status, a.Extensions.Cost)
	}
	if s := b.sim.Stats(); s.Unauthorized != 2 || s.Requests != 3 {
		t.Errorf("stats %+v", s)
	}
}

func TestSetQuantitiesChangeFrom(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	other := b.sim.AddVariant("HAT", b.loc)
	ok := b.post(t, "2026-10", token, setIdemQ, map[string]any{"idempotencyKey": "k1", "input": setInput(
		map[string]any{"inventoryItemId": b.item, "locationId": b.loc, "quantity": 5, "changeFromQuantity": 0},
		map[string]any{"inventoryItemId": other, "locationId": b.loc, "quantity": 2, "changeFromQuantity": nil},
	)["input"]})
	if ues := ok.userErrors(t, "inventorySetQuantities"); len(ues) != 0 {
		t.Fatalf("user errors %v", ues)
	}
	if q, _ := b.sim.Available(b.item, b.loc); q != 5 {
		t.Errorf("JKT %d, want 5", q)
	}
	// Someone sells one in Shopify; a compare against 5 is now stale, and
	// the whole mutation is refused: HAT is not written either.
	b.sim.AdjustAvailable(b.item, b.loc, -1)
	stale := b.post(t, "2026-10", token, setIdemQ, map[string]any{"idempotencyKey": "k2", "input": setInput(
		map[string]any{"inventoryItemId": other, "locationId": b.loc, "quantity": 9, "changeFromQuantity": 2},
		map[string]any{"inventoryItemId": b.item, "locationId": b.loc, "quantity": 3, "changeFromQuantity": 5},
	)["input"]})
	var p payload
	_ = json.Unmarshal(stale.Data["inventorySetQuantities"], &p)
	if len(p.UserErrors) != 1 || p.UserErrors[0].Code != "CHANGE_FROM_QUANTITY_STALE" ||
		len(p.UserErrors[0].Field) != 4 || p.UserErrors[0].Field[2] != "1" {
		t.Fatalf("stale answer %+v", p)
	}
	if q, _ := b.sim.Available(other, b.loc); q != 2 {
		t.Errorf("HAT %d: a refused mutation changed it", q)
	}
	// The same key again with other parameters is refused; with the same
	// parameters it replays the (failed) first answer.
	if ues := b.post(t, "2026-10", token, setIdemQ, map[string]any{"idempotencyKey": "k1", "input": setInput(
		map[string]any{"inventoryItemId": b.item, "locationId": b.loc, "quantity": 7, "changeFromQuantity": 4},
	)["input"]}).userErrors(t, "inventorySetQuantities"); len(ues) != 1 || ues[0] != "IDEMPOTENCY_KEY_PARAMETER_MISMATCH" {
		t.Errorf("reused key: %v", ues)
	}
	s := b.sim.Stats()
	if s.StaleCompares != 1 || s.QuantitySets != 2 || s.MaxBatch != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestSetQuantitiesVersions(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	q := func(extra map[string]any) map[string]any {
		m := map[string]any{"inventoryItemId": b.item, "locationId": b.loc, "quantity": 4}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name, version, query string
		vars                 map[string]any
		topCode              string
		userCodes            []string
	}{
		{"old API compares with compareQuantity", "2025-10", setQ, setInput(q(map[string]any{"compareQuantity": 3})), "", []string{"COMPARE_QUANTITY_STALE"}},
		{"old API requires a compare", "2025-10", setQ, setInput(q(nil)), "", []string{"COMPARE_QUANTITY_REQUIRED"}},
		{"old API has no changeFromQuantity", "2025-10", setQ, setInput(q(map[string]any{"changeFromQuantity": 0})), "INVALID_VARIABLE", nil},
		{"old API has no @idempotent", "2025-10", setIdemQ, map[string]any{"idempotencyKey": "x", "input": setInput(q(map[string]any{"compareQuantity": 0}))["input"]}, "undefinedDirective", nil},
		{"2026-01 prefers changeFromQuantity", "2026-01", setQ, setInput(q(map[string]any{"compareQuantity": 0, "changeFromQuantity": 9})), "", []string{"CHANGE_FROM_QUANTITY_STALE"}},
		{"2026-04 removed compareQuantity", "2026-04", setQ, setInput(q(map[string]any{"compareQuantity": 0})), "INVALID_VARIABLE", nil},
		{"2026-04 requires changeFromQuantity", "2026-04", setQ, setInput(q(nil)), "INVALID_VARIABLE", nil},
		{"bad reason", "2026-10", setQ, map[string]any{"input": map[string]any{"name": "available", "reason": "because", "quantities": []any{q(map[string]any{"changeFromQuantity": 0})}}}, "", []string{"INVALID_REASON"}},
		{"unknown item", "2026-10", setQ, setInput(map[string]any{"inventoryItemId": "gid://shopify/InventoryItem/1", "locationId": b.loc, "quantity": 1, "changeFromQuantity": 0}), "", []string{"INVALID_INVENTORY_ITEM"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := b.post(t, tc.version, token, tc.query, tc.vars)
			if a.code() != tc.topCode {
				t.Fatalf("top-level code %q, want %q (%+v)", a.code(), tc.topCode, a.Errors)
			}
			if tc.topCode == "" {
				if got := a.userErrors(t, "inventorySetQuantities"); len(got) != len(tc.userCodes) || (len(got) > 0 && got[0] != tc.userCodes[0]) {
					t.Errorf("user errors %v, want %v", got, tc.userCodes)
				}
			}
		})
	}
	// ignoreCompareQuantity opts out before 2026-04.
	a := b.post(t, "2025-10", token, setQ, map[string]any{"input": map[string]any{"name": "available", "reason": "correction",
		"ignoreCompareQuantity": true, "quantities": []any{q(nil)}}})
	if ues := a.userErrors(t, "inventorySetQuantities"); len(ues) != 0 {
		t.Errorf("ignoreCompareQuantity: %v", ues)
	}
	if got, _ := b.sim.Available(b.item, b.loc); got != 4 {
		t.Errorf("available %d, want 4", got)
	}
}

func TestAdjustIdempotency(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	change := func(delta int) map[string]any {
		return map[string]any{"input": map[string]any{"name": "available", "reason": "correction", "changes": []any{
			map[string]any{"inventoryItemId": b.item, "locationId": b.loc, "delta": delta, "changeFromQuantity": nil},
		}}}
	}
	if a := b.post(t, "2026-10", token, adjustNoKeyQ, change(1)); a.code() != "IDEMPOTENCY_KEY_REQUIRED" {
		t.Errorf("adjust without a key on 2026-10: %+v", a.Errors)
	}
	vars := change(3)
	vars["idempotencyKey"] = "9d4f"
	for range 3 { // a retried request applies once
		if ues := b.post(t, "2026-10", token, adjustQ, vars).userErrors(t, "inventoryAdjustQuantities"); len(ues) != 0 {
			t.Fatalf("user errors %v", ues)
		}
	}
	if q, _ := b.sim.Available(b.item, b.loc); q != 3 {
		t.Errorf("available %d after three sends of one +3, want 3", q)
	}
	if s := b.sim.Stats(); s.Replays != 2 || s.Adjustments != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestThrottling(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{RestoreRate: 10, BucketSize: 25})
	vars := func() map[string]any {
		return setInput(map[string]any{"inventoryItemId": b.item, "locationId": b.loc, "quantity": 1, "changeFromQuantity": nil})
	}
	for i, want := range []float64{15, 5} {
		a := b.post(t, "2026-10", token, setQ, vars())
		if a.code() != "" || a.Extensions.Cost.ThrottleStatus.CurrentlyAvailable != want || a.Extensions.Cost.RequestedQueryCost != 10 {
			t.Fatalf("request %d: %+v %+v", i, a.Errors, a.Extensions.Cost)
		}
	}
	a := b.post(t, "2026-10", token, setQ, vars())
	if a.code() != "THROTTLED" || a.Extensions.Cost.ActualQueryCost != nil || a.Extensions.Cost.ThrottleStatus.CurrentlyAvailable != 5 {
		t.Fatalf("third request: %+v %+v", a.Errors, a.Extensions.Cost)
	}
	b.clock.Add(500 * time.Millisecond) // +5 points
	if a := b.post(t, "2026-10", token, setQ, vars()); a.code() != "" || a.Extensions.Cost.ThrottleStatus.CurrentlyAvailable != 0 {
		t.Fatalf("after restore: %+v %+v", a.Errors, a.Extensions.Cost)
	}
	if s := b.sim.Stats(); s.Throttled != 1 || s.PointsUsed != 30 || s.QuantitySets != 3 {
		t.Errorf("stats %+v", s)
	}
	// A query above the single-query limit is refused outright.
	b.clock.Add(time.Hour)
	many := map[string]any{}
	q := "query R("
	for i := range 400 {
		many["item"+strconv.Itoa(i)], many["location"+strconv.Itoa(i)] = b.item, b.loc
	}
	q += ") { inventoryItem( }"
	if a := b.post(t, "2026-10", token, q, many); a.code() != "MAX_COST_EXCEEDED" {
		t.Errorf("1,200-point query: %+v", a.Errors)
	}
}

func TestReadAndLookup(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	b.sim.SetAvailable(b.item, b.loc, 7)
	dup1, dup2 := b.sim.AddVariant("DUP", b.loc), b.sim.AddVariant("DUP", b.loc)
	other := b.sim.AddLocation()
	a := b.post(t, "2026-10", token, `query R($item0: ID!, $location0: ID!, $item1: ID!, $location1: ID!, $item2: ID!, $location2: ID!) { l0: inventoryItem(id: $item0) { id } }`,
		map[string]any{"item0": b.item, "location0": b.loc, "item1": b.item, "location1": other, "item2": "gid://shopify/InventoryItem/1", "location2": b.loc})
	if a.Extensions.Cost.RequestedQueryCost != 9 || *a.Extensions.Cost.ActualQueryCost != 6 {
		t.Errorf("read cost %+v, want 9 requested, 3+2+1 actual", a.Extensions.Cost)
	}
	if string(a.Data["l2"]) != "null" || string(a.Data["l1"]) != `{"id":"`+b.item+`","inventoryLevel":null}` {
		t.Errorf("read %s %s", a.Data["l1"], a.Data["l2"])
	}
	var l0 struct {
		InventoryLevel struct {
			Quantities []struct {
				Name     string
				Quantity int64
			}
		}
	}
	_ = json.Unmarshal(a.Data["l0"], &l0)
	if q := l0.InventoryLevel.Quantities; len(q) != 1 || q[0].Name != "available" || q[0].Quantity != 7 {
		t.Errorf("l0 %s", a.Data["l0"])
	}

	lk := b.post(t, "2026-10", token, `query V($query: String!, $first: Int!) { productVariants(first: $first, query: $query) { nodes { sku } } }`,
		map[string]any{"query": `sku:JKT OR sku:"DUP" OR sku:"NOPE"`, "first": 10})
	var pv struct {
		Nodes []struct {
			SKU           string
			InventoryItem struct{ ID string }
		}
	}
	_ = json.Unmarshal(lk.Data["productVariants"], &pv)
	if len(pv.Nodes) != 3 || pv.Nodes[0].InventoryItem.ID != b.item || pv.Nodes[1].InventoryItem.ID != dup1 || pv.Nodes[2].InventoryItem.ID != dup2 {
		t.Errorf("lookup %+v", pv)
	}
	if lk.Extensions.Cost.RequestedQueryCost != 22 || *lk.Extensions.Cost.ActualQueryCost != 8 {
		t.Errorf("lookup cost %+v", lk.Extensions.Cost)
	}
}

func TestBeforeMutationAndStatsEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	b.sim.SetAvailable(b.item, b.loc, 5)
	b.sim.BeforeMutation(func(m shopifyadmin.Mutation) {
		if m.Field == "inventorySetQuantities" && len(m.Items) == 1 && m.Items[0] == b.item {
			b.sim.AdjustAvailable(m.Items[0], m.Locations[0], -1) // a POS sale lands first
		}
	})
	var changes []shopifyadmin.Change
	b.sim.OnChange(func(c shopifyadmin.Change) { changes = append(changes, c) })
	a := b.post(t, "2026-10", token, setQ, setInput(map[string]any{"inventoryItemId": b.item, "locationId": b.loc, "quantity": 8, "changeFromQuantity": 5}))
	if ues := a.userErrors(t, "inventorySetQuantities"); len(ues) != 1 || ues[0] != "CHANGE_FROM_QUANTITY_STALE" {
		t.Errorf("user errors %v", ues)
	}
	if len(changes) != 1 || changes[0].By != "other" || changes[0].Quantity != 4 {
		t.Errorf("changes %+v", changes)
	}
	b.sim.FailNext(http.StatusBadGateway)
	if a := b.post(t, "2026-10", token, `query { shop { id } }`, nil); a.status != http.StatusBadGateway {
		t.Errorf("injected failure: %d", a.status)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, b.srv.URL+"/_sim/stats", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s shopifyadmin.Stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.StaleCompares != 1 || s.OtherWrites != 2 || s.Injected != 1 || s.Requests != 2 {
		t.Errorf("GET /_sim/stats %+v", s)
	}
}

func TestUnknownPlan(t *testing.T) {
	t.Parallel()
	if _, err := shopifyadmin.New(shopifyadmin.Config{Plan: "gold"}); err == nil {
		t.Error("unknown plan accepted")
	}
	s, err := shopifyadmin.New(shopifyadmin.Config{Plan: shopifyadmin.Plus})
	if err != nil {
		t.Fatal(err)
	}
	if b := s.Bucket(); b.RestoreRate != 1000 || b.MaximumAvailable != 20000 {
		t.Errorf("plus bucket %+v", b)
	}
}
