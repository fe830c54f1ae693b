package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func testTokenizer(t testing.TB) *Tokenizer {
	t.Helper()
	tok, err := NewTokenizer("v2", map[string][]byte{
		"v1": []byte("0123456789abcdef-old-key"),
		"v2": []byte("fedcba9876543210-new-key"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestJSONGolden(t *testing.T) {
	t.Parallel()
	in, err := os.ReadFile(filepath.Join("testdata", "shopify_order.json"))
	if err != nil {
		t.Fatal(err)
	}
	plain, masked := setup(t)
	pii, err := New(Config{Tokenizer: testTokenizer(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		r    *Redactor
		want string // findings
	}{
		{"plain", plain, "pan=3 track=1 cvv=2 pin=1"},
		{"masked", masked, "pan=3 track=1 cvv=2 pin=1"},
		{"pii", pii, "pan=3 track=1 cvv=2 pin=1 email=2 phone=3 personal=6"},
	} {
		out, f, err := c.r.JSON(in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if f.String() != c.want {
			t.Errorf("%s: findings %v, want %s", c.name, f, c.want)
		}
		if !json.Valid(out) {
			t.Errorf("%s: output is not valid JSON", c.name)
		}
		again, f2, err := c.r.JSON(out)
		if err != nil || !bytes.Equal(again, out) || f2.Total() != 0 {
			t.Errorf("%s: second pass changed the output (%v, %v)", c.name, f2, err)
		}
		golden := filepath.Join("testdata", "shopify_order."+c.name+".golden.json")
		if *update {
			if err := os.WriteFile(golden, out, 0o600); err != nil { //nolint:gosec // G703: the path is testdata/ and a constant name
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(out, want) {
			t.Errorf("%s: output differs from %s (run go test -update and review the diff):\n%s", c.name, golden, out)
		}
	}
}

func TestJSONRules(t *testing.T) {
	t.Parallel()
	plain, masked := setup(t)
	for _, c := range []struct {
		in, want   string
		maskedWant string // "" means want
	}{
		// PANs in strings, keys and numbers; a number PAN becomes a string.
		{`{"note":"card 4111 1111 1111 1111"}`, `{"note":"card [PAN]"}`, `{"note":"card 411111******1111"}`},
		{`{"n": 4111111111111111}`, `{"n": "[PAN]"}`, `{"n": "411111******1111"}`},
		{`[-4111111111111111, 4.111111111111111e15, 4111111111111111.000, 41111111111111110e-1]`,
			`["[PAN]", "[PAN]", "[PAN]", "[PAN]"]`, `["411111******1111", "411111******1111", "411111******1111", "411111******1111"]`},
		{`{"4111111111111111": 1}`, `{"[PAN]": 1}`, `{"411111******1111": 1}`},
		// Escapes are decoded before looking, and kept after.
		{`{"note":"card \u0034111111111111111 \"ok\"\n\u00e9"}`, `{"note":"card [PAN] \"ok\"\né"}`, `{"note":"card 411111******1111 \"ok\"\né"}`},
		// IDs in ID fields stay, the same numbers elsewhere do not.
		{`{"id": 625519802133508710, "order_id": "625519802133508710", "admin_graphql_api_id": "gid://shopify/Order/625519802133508710", "line_items": [{"id": 650182746192048270, "variant_id": "650182746192048270"}], "orderId": 625519802133508710}`, "", ""},
		{`{"note": "625519802133508710", "n": 650182746192048270}`, `{"note": "[PAN]", "n": "[PAN]"}`, `{"note": "625519********8710", "n": "650182********8270"}`},
		{`{"id": "card 4111111111111111"}`, `{"id": "card [PAN]"}`, `{"id": "card 411111******1111"}`},
		// Fields named for card data.
		{`{"card_number": "4111111111111112", "card": {"number": "4111 1111 1111 1112"}}`, `{"card_number": "[PAN]", "card": {"number": "[PAN]"}}`,
			`{"card_number": "411111******1112", "card": {"number": "411111******1112"}}`},
		{`{"last4": "4111111111111111", "card": {"last4": 4111111111111111}, "last_four": "4242"}`, `{"last4": "1111", "card": {"last4": "1111"}, "last_four": "4242"}`, ""},
		{`{"card_number": "411111******1111", "pan": "•••• 4242", "cc": "ops@example.com"}`, "", ""},
		{`{"cvv": "123", "CVC2": 1234, "card": {"securityCode": " 123 "}, "cvv_result_code": "M", "cvc_check": "pass", "cvv": "N/A"}`,
			`{"cvv": "[CVV]", "CVC2": "[CVV]", "card": {"securityCode": "[CVV]"}, "cvv_result_code": "M", "cvc_check": "pass", "cvv": "N/A"}`, ""},
		{`{"pin_block": "1234ABCD5678EF90", "PIN": 1234, "pin": true, "pinned": "1234"}`, `{"pin_block": "[PIN]", "PIN": "[PIN]", "pin": true, "pinned": "1234"}`, ""},
		{`{"track2": "4111111111111111=2812101", "track1_data": {"raw": "B4111111111111111^X^28"}, "track2": ""}`, `{"track2": "[TRACK]", "track1_data": {"raw": "[TRACK]"}, "track2": ""}`, ""},
		// Numbers keep their exact text.
		{`{"a": 12345678901234567890123, "b": 1.000000000000000000001, "c": -0.0e-0, "d": 1E+2}`, "", ""},
		// Look-alikes stay.
		{`{"barcode": "4006381333931", "ean": 5901234123457, "phone": "+4930123456786", "ts": 1732700100008, "qty": 123}`, "", ""},
	} {
		for i, r := range []*Redactor{plain, masked} {
			want := c.want
			if i == 1 && c.maskedWant != "" {
				want = c.maskedWant
			}
			if want == "" {
				want = c.in
			}
			out, _, err := r.JSON([]byte(c.in))
			if err != nil {
				t.Errorf("JSON(%s): %v", c.in, err)
				continue
			}
			if string(out) != want {
				t.Errorf("JSON(%s) (mask %v)\n got %s\nwant %s", c.in, i == 1, out, want)
			}
		}
	}
}

func TestJSONUnchangedIsSameSlice(t *testing.T) {
	t.Parallel()
	plain, _ := setup(t)
	in := []byte(`{"sku":"TR-42","qty":1}`)
	out, f, err := plain.JSON(in)
	if err != nil || &out[0] != &in[0] || f.Total() != 0 {
		t.Errorf("JSON without findings copied its input (%v, %v)", f, err)
	}
}

func TestJSONInvalid(t *testing.T) {
	t.Parallel()
	plain, _ := setup(t)
	for _, in := range []string{
		``, ` `, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `"abc`, `"a\x"`, `"\u12"`, "\"a\x01\"",
		`01`, `1.`, `1e`, `-`, `+1`, `tru`, `nul`, `{"a":1}}`, `{} {}`, `{'a':1}`, `[` + strings.Repeat("[", maxDepth+1),
	} {
		out, _, err := plain.JSON([]byte(in))
		var se *SyntaxError
		if !errors.As(err, &se) || out != nil {
			t.Errorf("JSON(%q) = %q, %v; want a SyntaxError", in, out, err)
		}
		if json.Valid([]byte(in)) {
			t.Errorf("test input %q is valid JSON", in)
		}
	}
}

func TestBytes(t *testing.T) {
	t.Parallel()
	plain, _ := setup(t)
	in := "{\"note\":\"4111111111111111\",\"n\":4111111111111111}\n" +
		"plain line with 5555 5555 5555 4444\n" +
		"{not json 4111111111111111}\n" +
		"[1, 6011111111111117]\n"
	want := "{\"note\":\"[PAN]\",\"n\":\"[PAN]\"}\n" +
		"plain line with [PAN]\n" +
		"{not json [PAN]}\n" +
		"[1, \"[PAN]\"]\n"
	out, f := plain.Bytes([]byte(in))
	if string(out) != want || f.Count(PAN) != 5 {
		t.Errorf("Bytes:\n%s\n%v\nwant\n%s", out, f, want)
	}
}
