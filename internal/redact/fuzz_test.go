package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

// The fuzz targets check four properties on any input: no panic; a second
// pass changes nothing and finds nothing (idempotence); valid JSON stays
// valid JSON; and no card number is left, as judged by leaks, an oracle
// written independently of the scanner. The seed corpus is in
// testdata/fuzz; run with
//
//	go test -run '^$' -fuzz FuzzText -fuzztime 60s ./internal/redact
//	go test -run '^$' -fuzz FuzzJSON -fuzztime 60s ./internal/redact

func fuzzRedactors(t testing.TB) []*Redactor {
	t.Helper()
	var rs []*Redactor
	for _, c := range []Config{
		{IDFields: []string{}},
		{IDFields: []string{}, Mask: true},
		{IDFields: []string{}, Mask: true, MaskBIN8: true, Tokenizer: testTokenizer(t)},
	} {
		r, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return rs
}

// leaks returns the card numbers left in s that the redactor promises to
// remove: every maximal run of 13–19 digits, and every 4-4-4-4 group
// written with spaces or dashes, that passes Luhn and the IIN table, except
// the documented look-alikes (a GTIN-13/14, at most 15 digits after '+', a
// number inside a long hex string, a grouped number right after mask
// characters).
func leaks(s string) []string {
	var out []string
	n := len(s)
	for i := 0; i < n; {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < n && isDigit(s[j]) {
			j++
		}
		if l := j - i; l >= 13 && l <= 19 && oraclePAN(s[i:j]) &&
			(l != 13 && l != 14 || !gtin([]byte(s[i:j]))) &&
			(i == 0 || s[i-1] != '+' || l > 15) && !oracleHex(s, i, j) {
			out = append(out, s[i:j])
		}
		i = j
	}
	for i := 0; i+19 <= n; i++ {
		if i > 0 && isDigit(s[i-1]) || i+19 < n && isDigit(s[i+19]) {
			continue
		}
		var d []byte
		ok := true
		for k := range 19 {
			c := s[i+k]
			if k%5 == 4 {
				ok = ok && (c == ' ' || c == '-')
			} else {
				ok = ok && isDigit(c)
				d = append(d, c)
			}
		}
		if !ok || !oraclePAN(string(d)) || oracleHex(s, i, i+19) {
			continue
		}
		p := i
		if p > 0 && s[p-1] == ' ' {
			p--
		}
		if p > 0 && s[p-1] == '*' || p >= 3 && s[p-3:p] == "•" {
			continue
		}
		out = append(out, s[i:i+19])
	}
	return out
}

func oraclePAN(d string) bool { return luhn([]byte(d)) && lookupIIN([]byte(d)) != brandNone }

// oracleHex: the first digit group of s[i:j] lies in a hex string of 24 or
// more characters that it is glued to by a hex letter on either side.
func oracleHex(s string, i, j int) bool {
	e := i
	for e < j && isDigit(s[e]) {
		e++
	}
	letter := func(k int) bool { return k >= 0 && k < len(s) && isHex(s[k]) && !isDigit(s[k]) }
	if !letter(i-1) && !letter(e) {
		return false
	}
	a, z := i, e
	for a > 0 && isHex(s[a-1]) {
		a--
	}
	for z < len(s) && isHex(s[z]) {
		z++
	}
	return z-a >= 24
}

func FuzzText(f *testing.F) {
	for _, s := range []string{
		"card 4111 1111 1111 1111 exp 12/25 cvv 123", "3782-822463-10005", "+4930123456786",
		"%B4111111111111111^DOE/JOHN^2512101?", "pin block 1234ABCD5678EF90", "jane@example.com +49 30 1234567",
		"•••• 4242 411111******1111", "card 4111111111111111, 4000000000006",
	} {
		f.Add(s)
	}
	rs := fuzzRedactors(f)
	f.Fuzz(func(t *testing.T, s string) {
		for i, r := range rs {
			out, _ := r.Text(s)
			again, f2 := r.Text(out)
			if again != out || f2.Total() != 0 {
				t.Fatalf("redactor %d: not idempotent:\n in  %q\n out %q\n 2nd %q (%v)", i, s, out, again, f2)
			}
			if l := leaks(out); len(l) > 0 {
				t.Fatalf("redactor %d: card numbers %q left in %q (input %q)", i, l, out, s)
			}
		}
	})
}

func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{"note":"card 4111 1111 1111 1111","n":4111111111111111,"id":625519802133508710}`,
		`[{"cvv":"123","pin_block":"1234ABCD5678EF90","track2":";4111111111111111=2512?"}]`,
		`{"email":"Jane@Example.com","customer":{"name":"Jane"},"k\u0034111111111111111":"\u0034111111111111111"}`,
		`{"last4":"4111111111111111","a":-4.111111111111111e15,"b":1.0e-5,"c":[true,false,null]}`,
	} {
		f.Add([]byte(s))
	}
	rs := fuzzRedactors(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		valid := json.Valid(b)
		for i, r := range rs {
			out, _, err := r.JSON(b)
			if valid != (err == nil) {
				t.Fatalf("redactor %d: json.Valid %v but JSON error %v for %q", i, valid, err, b)
			}
			if err != nil {
				continue
			}
			if !json.Valid(out) {
				t.Fatalf("redactor %d: output is not valid JSON:\n in  %q\n out %q", i, b, out)
			}
			again, f2, err := r.JSON(out)
			if err != nil || !bytes.Equal(again, out) || f2.Total() != 0 {
				t.Fatalf("redactor %d: not idempotent:\n in  %q\n out %q\n 2nd %q (%v, %v)", i, b, out, again, f2, err)
			}
			if l := jsonLeaks(t, out); len(l) > 0 {
				t.Fatalf("redactor %d: card numbers %q left in %q (input %q)", i, l, out, b)
			}
		}
	})
}

// jsonLeaks decodes a document and applies leaks to every key, string and
// number in it.
func jsonLeaks(t *testing.T, b []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decode redacted output: %v", err)
		}
		switch v := tok.(type) {
		case string:
			out = append(out, leaks(v)...)
		case json.Number:
			out = append(out, leaks(v.String())...)
			var buf [40]byte
			if d := intDigits(buf[:0], []byte(v.String())); len(d) > 0 {
				out = append(out, leaks(string(d))...)
			}
		}
	}
}

// FuzzTextAround puts a test card, plain or grouped, between fuzzed text:
// random bytes almost never form a Luhn-valid number, so this is where the
// context rules (keywords, masks, phones, tracks, tokens) get exercised.
func FuzzTextAround(f *testing.F) {
	for _, c := range []struct {
		before, after string
		card, form    uint8
	}{
		{"card ", " cvv 123", 0, 1}, {"+", "", 3, 0}, {"%B", "^DOE/J^2512101?", 0, 0}, {";", "=2512101?", 5, 0},
		{"**** ", "", 1, 1}, {"jane@x.co", "", 2, 0}, {"tel ", " 123", 4, 2}, {"deadbeefdeadbeefdeadbeef", "", 0, 0},
		{"411111******", " ", 7, 1}, {"pin ", "", 9, 0},
	} {
		f.Add(c.before, c.card, c.form, c.after)
	}
	rs := fuzzRedactors(f)
	f.Fuzz(func(t *testing.T, before string, card, form uint8, after string) {
		pan := testCards[int(card)%len(testCards)].pan
		switch form % 3 {
		case 1:
			pan = grouped(pan, " ")
		case 2:
			pan = grouped(pan, "-")
		}
		s := before + pan + after
		for i, r := range rs {
			out, _ := r.Text(s)
			again, f2 := r.Text(out)
			if again != out || f2.Total() != 0 {
				t.Fatalf("redactor %d: not idempotent:\n in  %q\n out %q\n 2nd %q (%v)", i, s, out, again, f2)
			}
			if l := leaks(out); len(l) > 0 {
				t.Fatalf("redactor %d: card numbers %q left in %q (input %q)", i, l, out, s)
			}
		}
	})
}

// FuzzJSONAround builds valid documents around a test card: under a fuzzed
// key (so every field rule gets its turn), inside fuzzed text, escaped by
// encoding/json, nested, or as a bare number.
func FuzzJSONAround(f *testing.F) {
	for _, c := range []struct {
		key, before, after string
		card, form         uint8
	}{
		{"note", "card ", " cvv 123", 0, 1}, {"cvv", "", "", 1, 3}, {"last4", "", "", 2, 0}, {"card_number", "x", "", 3, 2},
		{"email", "jane@example.com ", "", 4, 0}, {"pin_block", "", "", 5, 3}, {"track2", ";", "=2512101?", 0, 0},
		{"customer", "<b>", "</b>", 6, 1},
	} {
		f.Add(c.key, c.before, c.after, c.card, c.form)
	}
	rs := fuzzRedactors(f)
	f.Fuzz(func(t *testing.T, key, before, after string, card, form uint8) {
		pan := testCards[int(card)%len(testCards)].pan
		var doc []byte
		if form%4 == 3 {
			k, _ := json.Marshal(key)
			doc = []byte(`{` + string(k) + `: ` + pan + `, "a": [` + pan + `, -` + pan + `]}`)
		} else {
			if form%4 > 0 {
				pan = grouped(pan, [...]string{"", " ", "-"}[form%4])
			}
			v := before + pan + after
			var err error
			doc, err = json.Marshal(map[string]any{key: v, "list": []any{map[string]any{key: v}, v}, v: 1})
			if err != nil {
				t.Skip()
			}
		}
		for i, r := range rs {
			out, _, err := r.JSON(doc)
			if err != nil {
				t.Fatalf("redactor %d: %v for %s", i, err, doc)
			}
			if !json.Valid(out) {
				t.Fatalf("redactor %d: output is not valid JSON:\n in  %s\n out %s", i, doc, out)
			}
			again, f2, err := r.JSON(out)
			if err != nil || !bytes.Equal(again, out) || f2.Total() != 0 {
				t.Fatalf("redactor %d: not idempotent:\n in  %s\n out %s\n 2nd %s (%v, %v)", i, doc, out, again, f2, err)
			}
			if l := jsonLeaks(t, out); len(l) > 0 {
				t.Fatalf("redactor %d: card numbers %q left in %s (input %s)", i, l, out, doc)
			}
		}
	})
}
