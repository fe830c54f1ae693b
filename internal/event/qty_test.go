package event_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
)

func TestParseQty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    event.Qty
		wantErr bool
	}{
		{in: "2", want: 2000},
		{in: "0", want: 0},
		{in: "-0", want: 0},
		{in: "-1.5", want: -1500},
		{in: "0.250", want: 250},
		{in: "0.25", want: 250},
		{in: "+3", want: 3000},
		{in: ".5", want: 500},
		{in: "-.001", want: -1},
		{in: "1.2340", want: 1234}, // trailing zeros beyond three places are exact
		{in: "007", want: 7000},
		{in: "9223372036854775.807", want: math.MaxInt64},
		{in: "-9223372036854775.807", want: -math.MaxInt64},
		{in: "9223372036854775", want: 9223372036854775000},

		{in: "1.2345", wantErr: true},
		{in: "0.0001", wantErr: true},
		{in: "1e3", wantErr: true},
		{in: "1E3", wantErr: true},
		{in: "", wantErr: true},
		{in: ".", wantErr: true},
		{in: "1.", wantErr: true},
		{in: "-", wantErr: true},
		{in: "+", wantErr: true},
		{in: "+-1", wantErr: true},
		{in: "--1", wantErr: true},
		{in: "abc", wantErr: true},
		{in: "1.2.3", wantErr: true},
		{in: " 1", wantErr: true},
		{in: "1 ", wantErr: true},
		{in: "1,5", wantErr: true},
		{in: "0x10", wantErr: true},
		{in: "9223372036854776", wantErr: true},      // whole part too large
		{in: "9223372036854775.808", wantErr: true},  // one thousandth past MaxInt64
		{in: "9223372036854775.999", wantErr: true},  // would wrap to a negative
		{in: "-9223372036854775.808", wantErr: true}, // MinInt64 is not a quantity
		{in: "99999999999999999999", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := event.ParseQty(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseQty(%q) = %d, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseQty(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseQty(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestQtyString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q    event.Qty
		want string
	}{
		{0, "0"},
		{event.Units(2), "2"},
		{-1500, "-1.5"},
		{250, "0.25"},
		{1, "0.001"},
		{-1, "-0.001"},
		{1010, "1.01"},
		{math.MaxInt64, "9223372036854775.807"},
		{-math.MaxInt64, "-9223372036854775.807"},
		{math.MinInt64, "-9223372036854775.808"},
	}
	for _, tt := range tests {
		if got := tt.q.String(); got != tt.want {
			t.Errorf("Qty(%d).String() = %q, want %q", int64(tt.q), got, tt.want)
		}
	}
}

// TestQtyStringParseRoundTrip checks String and ParseQty are inverses over
// values spread across the whole range.
func TestQtyStringParseRoundTrip(t *testing.T) {
	t.Parallel()
	vals := []event.Qty{0, 1, -1, 999, 1000, 1001, -999, 123456789, math.MaxInt64, -math.MaxInt64}
	for v := event.Qty(1); v < math.MaxInt64/7; v = v*7 + 3 {
		vals = append(vals, v, -v)
	}
	for _, q := range vals {
		s := q.String()
		got, err := event.ParseQty(s)
		if err != nil {
			t.Errorf("ParseQty(%q) of Qty(%d): %v", s, int64(q), err)
			continue
		}
		if got != q {
			t.Errorf("ParseQty(Qty(%d).String() = %q) = %d", int64(q), s, got)
		}
	}
}

func TestQtyJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want event.Qty
		out  string // MarshalJSON of the decoded value
	}{
		{in: `2`, want: 2000, out: `2`},
		{in: `-1.5`, want: -1500, out: `-1.5`},
		{in: `0.250`, want: 250, out: `0.25`},
		{in: `"0.250"`, want: 250, out: `0.25`},
		{in: `"+3"`, want: 3000, out: `3`},
		{in: `1.0`, want: 1000, out: `1`},
		{in: ` 7 `, want: 7000, out: `7`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			var l event.Line
			if err := json.Unmarshal([]byte(`{"sku":"A","quantity":`+tt.in+`}`), &l); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if l.Quantity != tt.want {
				t.Fatalf("decoded %d, want %d", l.Quantity, tt.want)
			}
			b, err := json.Marshal(l.Quantity)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if string(b) != tt.out {
				t.Errorf("encoded %s, want %s", b, tt.out)
			}
		})
	}
}

// TestQtyJSONInvalid checks that a bad quantity does not fail the decode but
// is reported by Validate at the field's full path.
func TestQtyJSONInvalid(t *testing.T) {
	t.Parallel()
	for _, q := range []string{`1.2345`, `1e3`, `"1e3"`, `""`, `"."`, `"1."`, `"abc"`, `true`, `null`, `{}`, `[]`,
		`"1 "`, `99999999999999999999`, `9223372036854775.999`} {
		t.Run(q, func(t *testing.T) {
			t.Parallel()
			raw := `{"id":"adj-1","type":"inventory_adjustment","location":"s1","source":"pos",
				"occurred_at":"2026-11-27T09:00:00Z","zone":"Europe/Berlin",
				"data":{"reason":"damaged","lines":[{"sku":"A","quantity":1},{"sku":"B","quantity":` + q + `}]}}`
			var e event.Event
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				t.Fatalf("decode: %v", err)
			}
			assertProblems(t, e.Validate(), problem{"data.lines[1].quantity", "decimal"})
		})
	}
}

func TestMulMinor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		q      event.Qty
		unit   int64
		want   int64
		wantOK bool
	}{
		{"whole units", event.Units(3), 1299, 3897, true},
		{"zero qty", 0, 1299, 0, true},
		{"zero price", event.Units(3), 0, 0, true},
		{"fraction below half", 250, 1001, 250, true}, // 250.25 → 250
		{"exactly half rounds up", 500, 1, 1, true},   // 0.5 → 1
		{"just below half", 499, 1, 0, true},          // 0.499 → 0
		{"half of odd", 1500, 1, 2, true},             // 1.5 → 2
		{"negative half away", -500, 1, -1, true},     // -0.5 → -1
		{"negative below half", -499, 1, 0, true},     // -0.499 → 0
		{"negative price half", 1500, -1, -2, true},   // -1.5 → -2
		{"both negative", -1500, -1, 2, true},         // 1.5 → 2
		{"weighed goods", 1234, 899, 1109, true},      // 1.234 kg × 8.99 = 11.09366
		{"weighed goods half", 125, 4, 1, true},       // 0.5 → 1
		{"weighed goods negative", -1234, 899, -1109, true},
		{"large fits", event.Units(1_000_000), 1_000_000, 1_000_000_000_000, true},
		{"max qty times one", math.MaxInt64, 1, math.MaxInt64/1000 + 1, true}, // 9223372036854775.807 → …776
		{"overflow", math.MaxInt64, 2, 0, false},
		{"overflow negative", math.MinInt64 / 2, 3, 0, false},
		{"overflow minus one times min", -1, math.MinInt64, 0, false},
		{"overflow min times minus one", math.MinInt64, -1, 0, false},
		{"overflow large both", event.Units(1 << 40), 1 << 30, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.q.MulMinor(tt.unit)
			if ok != tt.wantOK {
				t.Fatalf("Qty(%d).MulMinor(%d) ok = %v, want %v", int64(tt.q), tt.unit, ok, tt.wantOK)
			}
			if ok && got != tt.want {
				t.Errorf("Qty(%d).MulMinor(%d) = %d, want %d", int64(tt.q), tt.unit, got, tt.want)
			}
		})
	}
}
