package shopify

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestMinorExact(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		exp  int
		want int64
	}{
		{"12.99", 2, 1299}, {"0.01", 2, 1}, {"10.0", 2, 1000}, {"10", 2, 1000}, {"199.00", 2, 19900},
		{"1000", 0, 1000}, {"1000.0", 0, 1000}, {"1000.00", 0, 1000}, {"0", 0, 0},
		{"1.234", 3, 1234}, {"-5.00", 2, -500}, {"0.10", 2, 10},
		{"92233720368547758.07", 2, 9223372036854775807},
		// 0.1 + 0.2 in float64 is 0.30000000000000004; here it is exact.
		{"0.3", 2, 30},
	} {
		got, err := minor(c.in, c.exp)
		if err != nil || got != c.want {
			t.Errorf("minor(%q, %d) = %d, %v; want %d", c.in, c.exp, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in  string
		exp int
	}{
		{"12.999", 2}, {"1000.5", 0}, {"1e3", 0}, {"12,99", 2}, {"", 2}, {".5", 2}, {"5.", 2},
		{"+1", 2}, {"--1", 2}, {" 1", 2}, {"1.2.3", 2}, {"NaN", 2}, {"Infinity", 0}, {"0x10", 0},
		{"92233720368547758.08", 2}, {"99999999999999999999", 0},
	} {
		if got, err := minor(c.in, c.exp); err == nil || !errors.Is(err, errDecimal) {
			t.Errorf("minor(%q, %d) = %d, %v; want a malformed decimal error", c.in, c.exp, got, err)
		}
	}
}

func TestBasisPoints(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"0.19": 1900, "0.0825": 825, "0.08875": 888, "0.1": 1000, "0": 0, "1": 10000, "0.07": 700} {
		if got, err := basisPoints(in); err != nil || got != want {
			t.Errorf("basisPoints(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-0.1", "1e-1", "abc", "0.1.2"} {
		if _, err := basisPoints(in); err == nil {
			t.Errorf("basisPoints(%q) accepted", in)
		}
	}
}

// TestIDsPast2to53 decodes IDs that float64 cannot hold exactly.
func TestIDsPast2to53(t *testing.T) {
	t.Parallel()
	const big = "9007199254740993" // 2^53 + 1: float64 rounds it to 2^53
	var v struct {
		A, B, C, D, E ID
	}
	in := `{"A": ` + big + `, "B": "5735166398293712345", "C": "gid://shopify/Order/820982911946154508", "D": null, "E": 9223372036854775807}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != big || v.B != "5735166398293712345" || v.C != "820982911946154508" || v.D != "" || v.E != "9223372036854775807" {
		t.Fatalf("decoded %+v", v)
	}
	out, err := json.Marshal(v)
	if err != nil || !strings.Contains(string(out), `"A":`+big) {
		t.Fatalf("round trip %s, %v", out, err)
	}
	for _, bad := range []string{`8.209829119461545e17`, `-1`, `1.0`, `"12a"`, `true`, `{}`, `123456789012345678901`} {
		var id ID
		if err := json.Unmarshal([]byte(bad), &id); err == nil {
			t.Errorf("ID %s accepted as %q", bad, id)
		}
	}
	// A payload's order and line IDs reach the canonical events digit for
	// digit.
	b := setup(t)
	if code, out := b.post(t, req{topic: TopicOrdersCreate, body: readTestdata(t, "orders_create_pos.json")}); code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	e := b.sink.events()[0]
	if e.ID != "shopify:tillsync-demo:order:5735166398293712345:create" || e.Attributes["shopify.order_id"] != "5735166398293712345" {
		t.Fatalf("event %s attrs %v", e.ID, e.Attributes)
	}
	if got := mustJSON(t, e.Body); !strings.Contains(got, `"line_id":"5688971493691234567"`) {
		t.Fatalf("line IDs changed: %s", got)
	}
}

func TestDecimalForms(t *testing.T) {
	t.Parallel()
	var v struct{ A, B, C, D Decimal }
	if err := json.Unmarshal([]byte(`{"A": "12.99", "B": 11.99, "C": null, "D": 0.19}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != "12.99" || v.B != "11.99" || v.C != "" || v.D != "0.19" {
		t.Fatalf("%+v", v)
	}
	var d Decimal
	for _, bad := range []string{`true`, `[]`, `{}`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("Decimal %s accepted", bad)
		}
	}
}
