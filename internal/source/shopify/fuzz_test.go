package shopify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

var fuzzTopics = []string{
	TopicOrdersCreate, TopicOrdersPaid, TopicOrdersCancelled, TopicRefundsCreate, TopicFulfillmentsCreate,
	TopicInventoryLevelsUpdate, TopicInventoryItemsUpdate, TopicProductsUpdate,
}

// FuzzPayload feeds arbitrary bodies to every topic's decoder and mapping:
// they must never panic, must map the same bytes to the same events, and
// whatever they map must either validate or be refused with a 400 — never
// reach the log invalid. The corpus is in testdata/fuzz/FuzzPayload plus the
// doc-shaped payloads in testdata/.
func FuzzPayload(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for i := range fuzzTopics {
			f.Add(uint8(i), b)
		}
	}
	cfg := testConfig()
	cfg.SKUs = map[string]string{"271878346596884015": "SCARF-RED"}
	h, err := New(cfg, Deps{Submit: newSink(), Now: func() time.Time { return testNow }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, topic uint8, body []byte) {
		d := &delivery{topic: fuzzTopics[int(topic)%len(fuzzTopics)], received: testNow, triggeredAt: testNow, body: body}
		m1, err1 := h.mapDelivery(context.Background(), d)
		m2, err2 := h.mapDelivery(context.Background(), d)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("mapping is not deterministic: %v vs %v", err1, err2)
		}
		if err1 != nil {
			return
		}
		if len(m1.events) != len(m2.events) {
			t.Fatalf("mapping is not deterministic: %d vs %d events", len(m1.events), len(m2.events))
		}
		for i, e := range m1.events {
			if e.Fingerprint() != m2.events[i].Fingerprint() || e.ID != m2.events[i].ID {
				t.Fatalf("event %d maps differently on a redelivery", i)
			}
			e.ReceivedAt = testNow
			if err := e.Validate(); err != nil {
				continue // answered 400 invalid_event by the handler
			}
			if _, _, err := e.Encode(); err != nil {
				t.Fatalf("valid event does not encode: %v", err)
			}
		}
	})
}

// FuzzMinor checks the money parser: no panics, and whatever it accepts
// formats back to the same value.
func FuzzMinor(f *testing.F) {
	for _, s := range []string{"12.99", "1000", "0.01", "-5.00", "1e3", "12.999", "", ".5", "92233720368547758.07"} {
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, s string, e uint8) {
		exp := int(e % 5)
		v, err := minor(s, exp)
		if err != nil {
			return
		}
		// Re-render with exactly exp decimals and parse again.
		neg := v < 0
		u := strconv.FormatInt(v, 10)
		if neg {
			u = u[1:]
		}
		for len(u) <= exp {
			u = "0" + u
		}
		text := u
		if exp > 0 {
			text = u[:len(u)-exp] + "." + u[len(u)-exp:]
		}
		if neg {
			text = "-" + text
		}
		back, err := minor(text, exp)
		if err != nil || back != v {
			t.Fatalf("minor(%q, %d) = %d, but %q parses to %d, %v", s, exp, v, text, back, err)
		}
		if bytes.ContainsAny([]byte(s), "eE+ ") {
			t.Fatalf("minor accepted %q", s)
		}
	})
}
