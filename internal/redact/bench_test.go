package redact

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
)

// The benchmarks report MB/s of input, and MB/cpu-s: bytes per second of
// CPU time the process used, which a busy machine does not distort. The
// target for JSON without findings is 50 MB/s per core; run with
//
//	go test -run '^$' -bench . -benchmem -cpu 1 ./internal/redact

// loop runs f b.N times (b.Loop) and reports MB per CPU-second.
func loop(b *testing.B, size int, f func()) {
	b.Helper()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	start := cpuTime()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(size*n)/cpu.Seconds()/1e6, "MB/cpu-s")
	}
}

func benchInput(b *testing.B, name string) []byte {
	b.Helper()
	in, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		b.Fatal(err)
	}
	return in
}

// batch returns an intake batch of n copies of a sale, as an edge uplinks
// them.
func batch(sale []byte, n int) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"events": [`)
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(sale)
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

func BenchmarkJSON(b *testing.B) {
	sale := benchInput(b, "sale_event.json")
	dirty := bytes.Replace(sale, []byte("handed over at 10:16."), []byte("card 4111 1111 1111 1111 cvv 123."), 1)
	cases := []struct {
		name     string
		in       []byte
		findings bool
	}{
		{"sale", sale, false},
		{"sale-findings", dirty, true},
		{"batch-100", batch(sale, 100), false},
		{"shopify-order-findings", benchInput(b, "shopify_order.json"), true},
	}
	plain, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := New(Config{Tokenizer: testTokenizer(b)})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		for _, r := range []struct {
			name string
			r    *Redactor
		}{{"", plain}, {"/pii", tok}} {
			b.Run(c.name+r.name, func(b *testing.B) {
				if _, f, err := r.r.JSON(c.in); err != nil || (f.PCI() > 0) != c.findings {
					b.Fatalf("findings %v, %v", f, err)
				}
				loop(b, len(c.in), func() { _, _, _ = r.r.JSON(c.in) })
			})
		}
	}
	// For scale: what validating the same bytes costs encoding/json.
	b.Run("sale/encoding-json-valid", func(b *testing.B) {
		loop(b, len(sale), func() { json.Valid(sale) })
	})
	b.Run("sale/encoding-json-decode-any", func(b *testing.B) {
		loop(b, len(sale), func() {
			dec := json.NewDecoder(bytes.NewReader(sale))
			dec.UseNumber()
			var v any
			_ = dec.Decode(&v)
		})
	})
}

func BenchmarkText(b *testing.B) {
	plain, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, in string }{
		{"note", "Customer asked for the receipt by e-mail; exchange allowed until 2027-01-15. Bag 3 of 3, handed over at 10:16."},
		{"note-findings", "Customer read her card: 4111 1111 1111 1111 exp 12/28 cvv 123; call back on +49 30 1234567."},
		{"log-line", `time=2026-11-27T10:15:42.123Z level=INFO msg="events stored" location=store-0042 events=37 seq=918273 took=1.8ms`},
	} {
		b.Run(c.name, func(b *testing.B) {
			loop(b, len(c.in), func() { _, _ = plain.Text(c.in) })
		})
	}
}

func BenchmarkEvent(b *testing.B) {
	plain, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	raw := benchInput(b, "sale_event.json")
	var e event.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		b.Fatal(err)
	}
	loop(b, len(raw), func() { _ = plain.Event(&e) })
}
