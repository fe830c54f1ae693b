package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/mapping/quarantine"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
	"github.com/tillsync/tillsync/internal/store"
)

// quarantineConfig is the NetSuite hub with a catalog, a rules file and
// an operator's API key.
func quarantineConfig(t *testing.T, dir, nsURL string) config.Hub {
	t.Helper()
	cat := filepath.Join(dir, "items.csv")
	if err := os.WriteFile(cat, []byte("sku,gtin,description\n"+
		"JKT-BLK-M,4006381333931,Jacket black M\nJKT-BLK-L,4006381333948,Jacket black L\nCAP-RED,,Cap red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := nsHubConfig(filepath.Join(dir, "hub.db"), nsURL, nssim.DefaultCredentials())
	cfg.Catalog = config.Catalog{File: cat, Rules: filepath.Join(dir, "rules.jsonl")}
	cfg.APIKeys = []config.APIKey{{Name: "otto", Role: "operator", KeySHA256: intake.HashToken(ottoKey)}}
	return cfg
}

func (h *liveHub) onHandAt(t *testing.T, sku string) event.Qty {
	t.Helper()
	k := inventory.Key{SKU: sku, Location: "s1"}
	ps, err := h.Store().PositionsByKey(context.Background(), []inventory.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	return ps[k].OnHand()
}

// TestQuarantineApproveReleasesToLedgerAndERPOnce: an unknown code is
// held (the POS is acked; the rest of its batch is stored), a repair the
// resolver is sure of is applied, the operator approves a suggestion
// through the API, and the held events reach the log, the ledger and
// NetSuite exactly once — through retries and a restart.
func TestQuarantineApproveReleasesToLedgerAndERPOnce(t *testing.T) {
	t.Parallel()
	sim := startNetSuite(t, erpsim.Options{})
	dir := t.TempDir()
	cfg := quarantineConfig(t, dir, sim.url)
	h := runHub(t, cfg)

	batch := []*event.Event{
		et.Receive("s1-rcv-0001", "s1", at(0), et.L("JKT-BLK-M", 10), et.L("JKT-M-BLK", 2)), // a variant spelt another way
		et.Sale("s1-sale-0002", "s1", at(1), et.L("JKT-BLK-XL", 1)),                         // not in the catalog
		et.Sale("s1-sale-0003", "s1", at(2), et.L("JKT-BLK-M", 1)),
		et.Sale("s1-sale-0004", "s1", at(3), et.L("CAP-RED", 1), et.L("JKT-BLK-XL", 2)),
	}
	r := h.post(t, tokS1, batch...)
	if r.Accepted != 4 || r.Quarantined != 2 || r.Duplicates != 0 || r.Rejected != 0 {
		t.Fatalf("first post: %+v", r)
	}
	for i, want := range []bool{false, true, false, true} {
		if res := r.Results[i]; res.Quarantined != want || (want && res.Seq != 0) || (!want && res.Seq == 0) {
			t.Errorf("result %d: %+v, quarantined want %v", i, res, want)
		}
	}
	if q := h.onHandAt(t, "JKT-BLK-M"); q != event.Units(11) {
		t.Fatalf("JKT-BLK-M on hand %s, want 11 (12 received, the repaired line included, 1 sold)", q)
	}
	// The POS did not see the answer and sends the batch again.
	if r := h.post(t, tokS1, batch...); r.Duplicates != 4 || r.Accepted != 0 {
		t.Fatalf("retry: %+v", r)
	}
	// The inbox shows the unknown code with its candidates.
	var x inbox.Exception
	eventually(t, 10*time.Second, "the mapping_unknown_sku exception", func() bool {
		page := decode[inbox.Page](t, h.do(t, http.MethodGet, "/v1/inbox?kind=mapping_unknown_sku", ottoKey, nil), http.StatusOK)
		if len(page.Exceptions) != 1 {
			return false
		}
		x = page.Exceptions[0]
		return true
	})
	var payload struct {
		SKU string `json:"sku"`
	}
	if len(x.Suggestions) > 0 {
		_ = json.Unmarshal(x.Suggestions[0].Payload, &payload)
	}
	if x.Key != "mapping_unknown_sku/pos/JKT-BLK-XL" || x.Subject != "JKT-BLK-XL" || x.Location != "s1" || payload.SKU != "JKT-BLK-L" ||
		x.Suggestions[0].Action != "approve" {
		t.Fatalf("exception %+v", x)
	}
	list := decode[hub.QuarantineList](t, h.do(t, http.MethodGet, "/v1/quarantine", ottoKey, nil), http.StatusOK)
	if !list.Enabled || list.Held != 2 || len(list.Events) != 2 || list.Events[0].ID != "s1-sale-0002" || list.Events[0].Zone != et.Zone ||
		len(list.Codes) != 1 || list.Codes[0].Waiting != 2 {
		t.Fatalf("GET /v1/quarantine: %+v", list)
	}
	if m := h.do(t, http.MethodGet, "/metrics", ottoKey, nil); !strings.Contains(string(m.body), "tillsync_quarantine_held_events 2") {
		t.Errorf("metrics do not show 2 held events")
	}
	h.caughtUp(t, 20*time.Second)
	if st := sim.stats(); st.Records["s1-sale-0002"] != 0 || st.Records["s1-sale-0003"] != 1 {
		t.Fatalf("NetSuite records before approval: %v", st.Records)
	}

	// The operator approves the first suggestion.
	done := decode[inbox.Exception](t, h.do(t, http.MethodPost, fmt.Sprintf("/v1/inbox/%d/actions", x.ID), ottoKey,
		hub.InboxActionRequest{Action: "approve", Suggestion: x.Suggestions[0].ID}), http.StatusOK)
	if done.State != inbox.Resolved {
		t.Fatalf("after approve: %s", done.State)
	}
	if q := h.onHandAt(t, "JKT-BLK-L"); q != event.Units(-3) {
		t.Fatalf("JKT-BLK-L on hand %s, want -3 (the two held sales)", q)
	}
	if q := h.onHandAt(t, "CAP-RED"); q != event.Units(-1) {
		t.Fatalf("CAP-RED on hand %s, want -1", q)
	}
	h.caughtUp(t, 20*time.Second)
	// The POS retries once more, after the release: duplicates.
	if r := h.post(t, tokS1, batch...); r.Duplicates != 4 {
		t.Fatalf("retry after release: %+v", r)
	}
	if n, _ := h.Store().CountEvents(context.Background()); n != 4 {
		t.Fatalf("log holds %d events, want 4", n)
	}
	h.stop()

	// Restart on the same database and rules: a later sale of the code goes
	// straight through by the rule; a sweep finds nothing to release again.
	h = runHub(t, cfg)
	r = h.post(t, tokS1, et.Sale("s1-sale-0005", "s1", at(5), et.L("jkt-blk-xl", 1)))
	if r.Accepted != 1 || r.Quarantined != 0 {
		t.Fatalf("after restart: %+v", r)
	}
	if r := h.post(t, tokS1, batch...); r.Duplicates != 4 {
		t.Fatalf("retry after restart: %+v", r)
	}
	if rel, err := h.Quarantine().Release(context.Background()); err != nil || len(rel.Events) != 0 {
		t.Fatalf("release after restart: %+v %v", rel, err)
	}
	// A code nothing in the catalog resembles: no suggestion to approve;
	// the operator maps it to a SKU of their choosing.
	if r := h.post(t, tokS1, et.Sale("s1-sale-0006", "s1", at(6), et.L("HOUSE-BRAND-7", 1))); r.Quarantined != 1 {
		t.Fatalf("post of an unknown code: %+v", r)
	}
	eventually(t, 10*time.Second, "the second exception", func() bool {
		page := decode[inbox.Page](t, h.do(t, http.MethodGet, "/v1/inbox?kind=mapping_unknown_sku&state=open", ottoKey, nil), http.StatusOK)
		return len(page.Exceptions) == 1 && page.Exceptions[0].Subject == "HOUSE-BRAND-7" && len(page.Exceptions[0].Suggestions) == 0
	})
	bad := h.do(t, http.MethodPost, "/v1/quarantine/rules", ottoKey, hub.MapRequest{Source: "pos", Code: "HOUSE-BRAND-7", SKU: "NOT-IN-CATALOG"})
	apiError(t, bad, http.StatusBadRequest, "invalid")
	if res := h.do(t, http.MethodPost, "/v1/quarantine/rules", "", hub.MapRequest{Source: "pos", Code: "HOUSE-BRAND-7", SKU: "CAP-RED"}); res.status != http.StatusUnauthorized {
		t.Fatalf("mapping without a key: %d", res.status)
	}
	mapped := decode[quarantine.Mapped](t, h.do(t, http.MethodPost, "/v1/quarantine/rules", ottoKey,
		hub.MapRequest{Source: "pos", Code: "HOUSE-BRAND-7", SKU: "CAP-RED"}), http.StatusOK)
	if mapped.Rule.SKU != "CAP-RED" || mapped.Rule.Who != "api:otto" || len(mapped.Released.Events) != 1 || mapped.Released.Events[0] != "s1-sale-0006" ||
		len(mapped.Released.Resolved) != 1 {
		t.Fatalf("mapped: %+v", mapped)
	}
	if q := h.onHandAt(t, "CAP-RED"); q != event.Units(-2) {
		t.Fatalf("CAP-RED on hand %s, want -2", q)
	}
	h.caughtUp(t, 20*time.Second)
	st := sim.stats()
	for _, id := range []string{"s1-rcv-0001", "s1-sale-0002", "s1-sale-0003", "s1-sale-0004", "s1-sale-0005", "s1-sale-0006"} {
		if st.Records[id] != 1 {
			t.Errorf("NetSuite has %s %d times, want once", id, st.Records[id])
		}
	}
	if st.Duplicates != 0 {
		t.Errorf("NetSuite saw %d duplicates", st.Duplicates)
	}
	if q := h.onHandAt(t, "JKT-BLK-L"); q != event.Units(-4) {
		t.Fatalf("JKT-BLK-L on hand %s, want -4", q)
	}
	rows, err := h.Store().QuarantineByID(context.Background(), []string{"s1-sale-0002", "s1-sale-0004"})
	if err != nil || rows["s1-sale-0002"].State != store.QuarantineReleased || rows["s1-sale-0004"].State != store.QuarantineReleased {
		t.Fatalf("quarantine rows %+v (%v)", rows, err)
	}
	if diffs, err := h.Store().CheckLedger(context.Background()); err != nil || len(diffs) > 0 {
		t.Fatalf("ledger differs from log: %v %v", err, diffs)
	}
}

// Without a catalog nothing is held and GET /v1/quarantine says so.
func TestQuarantineOffWithoutCatalog(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	if r := h.post(t, tokS1, et.Sale("s1-sale-1", "s1", at(0), et.L("ANYTHING-GOES", 1))); r.Accepted != 1 || r.Quarantined != 0 {
		t.Fatalf("post: %+v", r)
	}
	list := decode[hub.QuarantineList](t, h.do(t, http.MethodGet, "/v1/quarantine", "", nil), http.StatusOK)
	if list.Enabled || list.Held != 0 || list.Events == nil || h.Quarantine() != nil {
		t.Fatalf("GET /v1/quarantine without a catalog: %+v", list)
	}
}
