package redact

import (
	"strings"
	"sync"
	"testing"
)

// testCards are the networks' published test numbers (Stripe, Braintree,
// Adyen test card lists) with the brand the IIN table must give them.
var testCards = []struct {
	pan   string
	brand brand
}{
	{"4111111111111111", brandVisa},
	{"4012888888881881", brandVisa},
	{"4242424242424242", brandVisa},
	{"4222222222222", brandVisa},       // 13 digits
	{"4111111111111111110", brandVisa}, // 19 digits
	{"5555555555554444", brandMastercard},
	{"5105105105105100", brandMastercard},
	{"2223003122003222", brandMastercard}, // 2-series
	{"2223000048400011", brandMastercard},
	{"378282246310005", brandAmex},
	{"371449635398431", brandAmex},
	{"6011111111111117", brandDiscover},
	{"6011000990139424", brandDiscover},
	{"6011981111111113", brandDiscover},
	{"6011000990139424009", brandDiscover}, // 19 digits
	{"6221261111117766", brandDiscover},    // 622126: Discover's UnionPay co-brand range
	{"3530111333300000", brandJCB},
	{"3566002020360505", brandJCB},
	{"3530111333300000001", brandJCB}, // 19 digits
	{"30569309025904", brandDiners},   // 14 digits
	{"38520000023237", brandDiners},
	{"36227206271667", brandDiners},
	{"3056930009020004", brandDiners}, // 16 digits
	{"6200000000000005", brandUnionPay},
	{"6243030000000001", brandUnionPay},
	{"6205500000000000004", brandUnionPay}, // 19 digits
	{"6759649826438453", brandMaestro},
	{"6304000000000000", brandMaestro},
}

// Look-alikes: Luhn-valid numbers in card ranges that are platform IDs.
const (
	shopifyOrderID = "625519802133508710" // 18 digits, Luhn-valid, UnionPay range
	shopifyLineID  = "650182746192048270" // 18 digits, Luhn-valid, Discover range
)

func setup(t *testing.T) (plain, masked *Redactor) {
	t.Helper()
	var err error
	if plain, err = New(Config{}); err != nil {
		t.Fatal(err)
	}
	if masked, err = New(Config{Mask: true}); err != nil {
		t.Fatal(err)
	}
	return plain, masked
}

// grouped writes a PAN the way it is printed: 4-6-5 (Amex), 4-6-4
// (Diners 14), fours otherwise.
func grouped(pan, sep string) string {
	var sizes []int
	switch len(pan) {
	case 15:
		sizes = []int{4, 6, 5}
	case 14:
		sizes = []int{4, 6, 4}
	default:
		for n := len(pan); n > 0; n -= 4 {
			sizes = append(sizes, min(4, n))
		}
	}
	var parts []string
	for _, n := range sizes {
		parts = append(parts, pan[:n])
		pan = pan[n:]
	}
	return strings.Join(parts, sep)
}

func TestTestCardsAreValid(t *testing.T) {
	t.Parallel()
	for _, c := range testCards {
		d := []byte(c.pan)
		if !luhn(d) {
			t.Errorf("%s: fails Luhn", c.pan)
		}
		if got := lookupIIN(d); got != c.brand {
			t.Errorf("%s: brand %q, want %q", c.pan, got, c.brand)
		}
	}
}

func TestTextRemovesTestCards(t *testing.T) {
	t.Parallel()
	plain, masked := setup(t)
	for _, c := range testCards {
		forms := map[string]string{
			"plain":  c.pan,
			"spaced": grouped(c.pan, " "),
			"dashed": grouped(c.pan, "-"),
		}
		for form, v := range forms {
			for _, tmpl := range []string{"%s", "paid with %s, thanks", "Karte: %s.", "(%s)", "ref=%s;", "\"%s\""} {
				in := strings.Replace(tmpl, "%s", v, 1)
				out, f := plain.Text(in)
				want := strings.Replace(tmpl, "%s", "[PAN]", 1)
				if out != want || f.Count(PAN) != 1 || f.Total() != 1 {
					t.Errorf("%s %s: Text(%q) = %q, %v; want %q, pan=1", c.pan, form, in, out, f, want)
				}
				mout, _ := masked.Text(in)
				keep := 6
				wantMask := c.pan[:keep] + strings.Repeat("*", len(c.pan)-keep-4) + c.pan[len(c.pan)-4:]
				if mwant := strings.Replace(tmpl, "%s", wantMask, 1); mout != mwant {
					t.Errorf("%s %s: masked Text(%q) = %q, want %q", c.pan, form, in, mout, mwant)
				}
				for _, r := range []*Redactor{plain, masked} {
					o1, _ := r.Text(in)
					if o2, f2 := r.Text(o1); o2 != o1 || f2.Total() != 0 {
						t.Errorf("%s %s: not idempotent: %q -> %q (%v)", c.pan, form, o1, o2, f2)
					}
				}
			}
		}
	}
}

func TestTextKeepsLookAlikes(t *testing.T) {
	t.Parallel()
	plain, masked := setup(t)
	for _, in := range []string{
		// barcodes: GTIN-13 and GTIN-14, some of them Luhn-valid in card ranges
		"4006381333931", "EAN 5901234123457", "4000000000006", "GTIN 36123456789062",
		// phone numbers, E.164 and national
		"+4930123456789", "+4930123456786", "call +49 30 123456786", "+1 415 555 2671",
		"0049 30 1234567", "030 12345678", "(030) 123-4567", "+49 (0)30 1234 5678",
		// already masked
		"•••• 4242", "411111******1111", "XXXX-XXXX-XXXX-4242", "**** **** **** 4242",
		"4111 11** **** 1111", "************1111", "378282*****0005", "card ending in 4242",
		// times, amounts, quantities, references
		"2026-11-27T10:15:00.123456Z", "1732700100008", "20261127101500", "EUR 1299.00",
		"1.234.567,89", "qty 123", "3 x 129 at 1299", "order #1001", "receipt 0001-2026-000123",
		"SKU 1234-5678-9012", "discount code 1234", "room 101", "code 123",
		// IDs and hashes
		"3f2a9c1e-4b5d-4e8f-9a1b-2c3d4e5f6a7b",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"sha e3b0c44298fc4111111111111111ab9ffe3b0c44298fc1c149afbf4c8996fb92427ae",
		// SHA-256 fingerprints whose hex starts near a Luhn-valid run in a
		// card range: the hex string continues after the digits
		"be1ccbe502481936861207e0f42aba77bf2772db03c581d86bcabfdd2a99cbf2",
		"6289643395001322007a4b2d51af2ce4f6a178dfc8e9b47ef2d5420271247d9d",
		"c30350688750051ca4d7442079e1ac46495a70b5eab739f3e7365db9e249dc3c",
		// too long or not Luhn-valid
		"41111111111111111111", "4111111111111112", "4111 1111 1111 1112",
		// not a card grouping: 2-2-12 digits
		"12 34 411111111111",
		"pinned 1234", "1234 is the number",
	} {
		for _, r := range []*Redactor{plain, masked} {
			if out, f := r.Text(in); out != in || f.Total() != 0 {
				t.Errorf("Text(%q) = %q, %v; want it unchanged", in, out, f)
			}
		}
	}
}

func TestTextContext(t *testing.T) {
	t.Parallel()
	plain, _ := setup(t)
	for _, c := range []struct{ in, want string }{
		// A card keyword overrides a look-alike's excuse.
		{"card 4000000000006", "card [PAN]"},
		{"Visa: 4000000000006", "Visa: [PAN]"},
		{"4000000000006", "4000000000006"},
		{"card number +4930123456786", "card number +[PAN]"},
		// An unusual grouping needs a keyword.
		{"411 111 111 111 111 1", "411 111 111 111 111 1"},
		{"cc 411 111 111 111 111 1", "cc [PAN]"},
		{"cc 41 11 11 11 11 11 11 11", "cc 41 11 11 11 11 11 11 11"}, // more groups than any card has
		// Two cards, and a card next to a quantity.
		{"4111111111111111 5555555555554444", "[PAN] [PAN]"},
		{"4111111111111111 2", "[PAN] 2"},
		{"12 4111111111111111", "12 [PAN]"},
		{"**4111 1111 1111 1111**", "**[PAN]**"},
		{"<b>4111111111111111</b>", "<b>[PAN]</b>"},
		{"ORD4111111111111111", "ORD[PAN]"},
		// Context is not read across a finding: the GTIN keeps its excuse.
		{"card 4111111111111111, 4000000000006", "card [PAN], 4000000000006"},
	} {
		if out, _ := plain.Text(c.in); out != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, out, c.want)
		}
	}
}

func TestTextSAD(t *testing.T) {
	t.Parallel()
	plain, masked := setup(t)
	for _, c := range []struct {
		in, want string
		kind     Kind
	}{
		{"cvv 123", "cvv [CVV]", CVV},
		{"CVV: 123", "CVV: [CVV]", CVV},
		{"cvv2=123", "cvv2=[CVV]", CVV},
		{"CVC 1234", "CVC [CVV]", CVV},
		{"cvv123", "cvv[CVV]", CVV},
		{"CVC/CVV: 123", "CVC/CVV: [CVV]", CVV},
		{"Security code is 123.", "Security code is [CVV].", CVV},
		{"card verification value: 123", "card verification value: [CVV]", CVV},
		{"csc:123", "csc:[CVV]", CVV},
		{"Amex CID 1234", "Amex CID [CVV]", CVV},
		{`{"cvv":"123"}`, `{"cvv":"[CVV]"}`, CVV},
		{"PIN 1234", "PIN [PIN]", PIN},
		{"pin block: 1234ABCD5678EF90", "pin block: [PIN]", PIN},
		{"pinblock=0412AC89ABCDEF67", "pinblock=[PIN]", PIN},
		{"EPB 1234567890123456", "EPB [PIN]", PIN},
		{"%B4111111111111111^DOE/JOHN^2512101000000000000000000?", "[TRACK]", Track},
		{"swipe %B4111111111111111^DOE/JOHN ^25121010000000000000? ok", "swipe [TRACK] ok", Track},
		{";4111111111111111=25121010000000000000?", "[TRACK]", Track},
		{"track2 4111111111111111=25121010000000000000", "track2 [TRACK]", Track},
		{"5413330089010434=2512201000000", "[TRACK]", Track},
		{"tag 57: 4111111111111111D25122010000000000F", "tag 57: [TRACK]", Track},
	} {
		for _, r := range []*Redactor{plain, masked} {
			out, f := r.Text(c.in)
			if out != c.want || f.Count(c.kind) != 1 || f.Total() != 1 {
				t.Errorf("Text(%q) = %q, %v; want %q, %s=1", c.in, out, f, c.want, c.kind)
			}
		}
	}
}

func TestFindings(t *testing.T) {
	t.Parallel()
	plain, _ := setup(t)
	_, f := plain.Text("card 4111 1111 1111 1111 cvv 123, track ;4111111111111111=25121010000000000000?")
	if f.Count(PAN) != 1 || f.Count(CVV) != 1 || f.Count(Track) != 1 || f.SAD() != 2 || f.PCI() != 3 || f.PII() != 0 {
		t.Errorf("findings = %v", f)
	}
	if got := f.String(); got != "pan=1 track=1 cvv=1" {
		t.Errorf("String() = %q", got)
	}
	if s := (Findings{}).String(); s != "none" {
		t.Errorf("empty String() = %q", s)
	}
	var g Findings
	g.Add(f)
	g.Add(f)
	if g.Total() != 6 {
		t.Errorf("Add: %v", g)
	}
}

func TestMaskBIN8(t *testing.T) {
	t.Parallel()
	r, err := New(Config{Mask: true, MaskBIN8: true})
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"4111111111111111":    "41111111****1111",
		"378282246310005":     "378282*****0005", // 15 digits: six
		"6205500000000000004": "62055000*******0004",
	} {
		if out, _ := r.Text(in); out != want {
			t.Errorf("Text(%q) = %q, want %q", in, out, want)
		}
	}
}

func TestSnake(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"orderId": "order_id", "OrderID": "order_id", "order-id": "order_id", "order_id": "order_id",
		"ID": "id", "PINBlock": "pin_block", "CVV2": "cvv2", "Track2Data": "track2_data",
		"adminGraphqlApiId": "admin_graphql_api_id", "cardNumber": "card_number", "address1": "address1",
		"Security Code": "security_code",
	} {
		if got := string(snake(nil, []byte(in))); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewRejectsBadPatterns(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "a*b", "*a*", "a.b.c", "x." + strings.Repeat("y", 70)} {
		if _, err := New(Config{IDFields: []string{p}}); err == nil {
			t.Errorf("pattern %q: no error", p)
		}
	}
}

// TestConcurrentUse shares one Redactor between goroutines, as the intake
// handlers do (run with -race).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	r, err := New(Config{Tokenizer: testTokenizer(t), Mask: true})
	if err != nil {
		t.Fatal(err)
	}
	const text = "card 4111 1111 1111 1111 for jane@example.com"
	want, _ := r.Text(text)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if out, _ := r.Text(text); out != want {
					t.Errorf("Text = %q, want %q", out, want)
					return
				}
				if _, f, err := r.JSON([]byte(`{"note":"4111111111111111","email":"a@b.co","n":5555555555554444}`)); err != nil || f.Total() != 3 {
					t.Errorf("JSON: %v, %v", f, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
