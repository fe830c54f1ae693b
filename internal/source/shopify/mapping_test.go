package shopify

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestMappingGolden maps each doc-shaped payload in testdata/ and compares
// the canonical events with testdata/golden (go test -run Golden -update
// rewrites them).
func TestMappingGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		topic  string
		file   string
		before []req // deliveries that teach the handler first
		status string
	}{
		{name: "pos_sale", topic: TopicOrdersCreate, file: "orders_create_pos.json", status: "accepted"},
		{name: "pos_sale_transactions", topic: TopicOrdersCreate, file: "orders_create_pos_transactions.json", status: "accepted"},
		{name: "pos_sale_jpy", topic: TopicOrdersCreate, file: "orders_create_jpy.json", status: "accepted"},
		{name: "web_order", topic: TopicOrdersCreate, file: "orders_create_web.json", status: "accepted"},
		{name: "web_order_paid", topic: TopicOrdersPaid, file: "orders_paid.json", status: "ignored"},
		{name: "web_order_cancelled", topic: TopicOrdersCancelled, file: "orders_cancelled_web.json", status: "accepted"},
		{name: "refund_return", topic: TopicRefundsCreate, file: "refunds_create.json", status: "accepted"},
		{name: "refund_cancel", topic: TopicRefundsCreate, file: "refunds_create_cancel.json", status: "accepted"},
		{name: "fulfillment", topic: TopicFulfillmentsCreate, file: "fulfillments_create.json", status: "accepted",
			before: []req{{topic: TopicOrdersCreate, body: readTestdata(t, "orders_create_web.json")}}},
		{name: "inventory_level", topic: TopicInventoryLevelsUpdate, file: "inventory_levels_update.json", status: "accepted",
			before: []req{{topic: TopicInventoryItemsUpdate, body: readTestdata(t, "inventory_items_update.json")}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			for _, r := range c.before {
				if code, out := b.post(t, r); code != http.StatusOK {
					t.Fatalf("prelude %s: %d %v", r.topic, code, out)
				}
			}
			n := len(b.sink.events())
			code, out := b.post(t, req{topic: c.topic, body: readTestdata(t, c.file), eventID: "evt-" + c.name})
			if code != http.StatusOK || out["status"] != c.status {
				t.Fatalf("answer %d %v, want 200 %s", code, out, c.status)
			}
			got := b.sink.events()[n:]
			for _, e := range got {
				if err := e.Validate(); err != nil {
					t.Errorf("%s: %v", e.ID, err)
				}
			}
			golden(t, c.name, got)
		})
	}
}

func golden(t *testing.T, name string, events []*event.Event) {
	t.Helper()
	if events == nil {
		events = []*event.Event{}
	}
	got, err := json.MarshalIndent(events, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run with -update to accept):\n%s", name, path, diffLines(string(want), string(got)))
	}
}

// diffLines shows the first differing lines.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n  want " + a + "\n  got  " + b
		}
	}
	return "(no line differs)"
}
