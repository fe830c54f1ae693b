package square

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
)

func fuzzMapper() *mapper {
	cfg := testConfig("https://connect.squareup.com")
	cfg.defaults()
	return newMapper(&cfg)
}

// checkEvents holds for whatever the mapper produces: Square-sourced,
// stable IDs within bounds, configured locations, and events that either
// validate or are refused with a validation error — never a panic.
func checkEvents(t *testing.T, m *mapper, evs []*event.Event) {
	t.Helper()
	for _, e := range evs {
		if !strings.HasPrefix(e.ID, "square:") || len(e.ID) > 128 || e.Source != Source || e.Body == nil || e.Body.Type() != e.Type {
			t.Fatalf("bad event %+v", e)
		}
		known := false
		for _, l := range m.cfg.Locations {
			known = known || l == e.Location
		}
		if !known {
			t.Fatalf("event %s at unconfigured location %q", e.ID, e.Location)
		}
		_ = e.Validate()
		if _, err := json.Marshal(e); err != nil {
			t.Fatalf("event %s does not encode: %v", e.ID, err)
		}
	}
}

// FuzzNotification feeds arbitrary bodies to the notification decoder and
// the mappers that need no API call. Corpus: testdata/fuzz/FuzzNotification.
func FuzzNotification(f *testing.F) {
	files, _ := filepath.Glob("testdata/webhooks/*.json")
	for _, p := range files {
		f.Add(readFileF(f, p))
	}
	m := fuzzMapper()
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := decodeNotification(body)
		if err != nil {
			return
		}
		switch n.Type {
		case typeInventoryCount:
			var cs []inventoryCount
			if n.object("inventory_counts", &cs) == nil {
				evs, err := m.counts(cs)
				if err == nil {
					checkEvents(t, m, evs)
				}
			}
		case typeRefundCreated, typeRefundUpdated:
			var rf refund
			if n.object("refund", &rf) == nil {
				if e, ignored, err := m.legacyRefund(&rf); err == nil && !ignored {
					checkEvents(t, m, []*event.Event{e})
				}
			}
		case typePaymentCreated, typePaymentUpdated:
			var p payment
			_ = n.object("payment", &p)
		default:
			var s orderSummary
			_ = n.object("order_updated", &s)
		}
	})
}

// FuzzOrder feeds arbitrary RetrieveOrder answers to the order mapper, as
// the sale itself and as the source of its returns. Corpus:
// testdata/fuzz/FuzzOrder.
func FuzzOrder(f *testing.F) {
	files, _ := filepath.Glob("testdata/orders/*.json")
	for _, p := range files {
		f.Add(readFileF(f, p))
	}
	m := fuzzMapper()
	f.Fuzz(func(t *testing.T, body []byte) {
		var resp struct {
			Order *order `json:"order"`
		}
		if decodeJSON(body, &resp) != nil || resp.Order == nil {
			return
		}
		for _, src := range []*order{nil, resp.Order} {
			res, err := m.order(resp.Order, src)
			if err != nil {
				continue
			}
			if !res.final && len(res.events) > 0 {
				t.Fatalf("events from an order that is not final: %+v", res)
			}
			checkEvents(t, m, res.events)
		}
	})
}

func readFileF(f *testing.F, path string) []byte {
	f.Helper()
	b, err := readFileErr(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
