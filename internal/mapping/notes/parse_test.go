package notes_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/mapping/notes"
)

func setup(t *testing.T, c notes.Config) *notes.Parser {
	t.Helper()
	p, err := notes.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// want is the part of a Result a case checks; empty fields must be empty.
type want struct {
	reason, kind, value, currency, coupon, competitor, approver string
}

func check(t *testing.T, p *notes.Parser, note string, w want) notes.Result {
	t.Helper()
	r := p.Parse(note)
	got := want{r.ReasonCode, string(r.Kind), r.Value, r.Currency, r.CouponCode, r.Competitor, r.ApprovedBy}
	if got != w {
		t.Errorf("Parse(%q)\n got  %+v\n want %+v", note, got, w)
	}
	if r.Confidence < 0 || r.Confidence > 1 {
		t.Errorf("Parse(%q): confidence %v outside 0..1", note, r.Confidence)
	}
	return r
}

func TestAbbreviationsAndTypos(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{})
	for _, c := range []struct {
		note string
		w    want
	}{
		{"emp disc", want{reason: "EMPLOYEE"}},
		{"empl discnt 15%", want{reason: "EMPLOYEE", kind: "percent", value: "15"}},
		{"emplyee disc 10%", want{reason: "EMPLOYEE", kind: "percent", value: "10"}},           // typo: deletion
		{"mgr ovrd", want{reason: "MANAGER_OVERRIDE"}},                                         // abbreviations
		{"manger overide 10%", want{reason: "MANAGER_OVERRIDE", kind: "percent", value: "10"}}, // two typos
		{"mgr o/r 5 off", want{reason: "MANAGER_OVERRIDE", kind: "amount", value: "5"}},        // slash form
		{"dmgd", want{reason: "DAMAGED"}},
		{"dammaged 10%", want{reason: "DAMAGED", kind: "percent", value: "10"}}, // typo: insertion
		{"pm", want{reason: "PRICE_MATCH"}},
		{"p/m", want{reason: "PRICE_MATCH"}},
		{"senoir discount 5%", want{reason: "SENIOR", kind: "percent", value: "5"}}, // typo: transposition
		{"studnet discount 15%", want{reason: "STUDENT", kind: "percent", value: "15"}},
		{"clearnce 30% off", want{reason: "CLEARANCE", kind: "percent", value: "30"}},
		{"milatary discount 10%", want{reason: "MILITARY", kind: "percent", value: "10"}},
		{"coupn 20% off", want{reason: "COUPON", kind: "percent", value: "20"}},
		{"loyality card 5%", want{reason: "LOYALTY", kind: "percent", value: "5"}},
		{"gw 10%", want{reason: "GOODWILL", kind: "percent", value: "10"}},
		{"DMGD BOX 15% OFF", want{reason: "DAMAGED", kind: "percent", value: "15"}}, // upper case
		{"dscnt 10%", want{reason: "OTHER", kind: "percent", value: "10"}},
	} {
		check(t, p, c.note, c.w)
	}
}

func TestAmountForms(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{})
	for _, c := range []struct {
		note string
		w    want
	}{
		{"$5 off", want{reason: "OTHER", kind: "amount", value: "5.00", currency: "USD"}},
		{"5 off", want{reason: "OTHER", kind: "amount", value: "5"}},
		{"discount 5.00", want{reason: "OTHER", kind: "amount", value: "5.00"}},
		{"10% off", want{reason: "OTHER", kind: "percent", value: "10"}},
		{"20 pct off", want{reason: "OTHER", kind: "percent", value: "20"}},
		{"15 percent off", want{reason: "OTHER", kind: "percent", value: "15"}},
		{"12.5 per cent off", want{reason: "OTHER", kind: "percent", value: "12.5"}},
		{"10 p/c off", want{reason: "OTHER", kind: "percent", value: "10"}},
		{"-15%", want{reason: "OTHER", kind: "percent", value: "15"}},
		{"half off", want{reason: "OTHER", kind: "percent", value: "50"}},
		{"half price", want{reason: "OTHER", kind: "percent", value: "50"}},
		{"quarter off", want{reason: "OTHER", kind: "percent", value: "25"}},
		{"ten percent off", want{reason: "OTHER", kind: "percent", value: "10"}},
		{"twenty five percent off", want{reason: "OTHER", kind: "percent", value: "25"}},
		{"£2 off", want{reason: "OTHER", kind: "amount", value: "2.00", currency: "GBP"}},
		{"€3,50 Rabatt", want{reason: "OTHER", kind: "amount", value: "3.50", currency: "EUR"}}, // decimal comma
		{"mgr ovrd 1,299.00 to 999", want{reason: "MANAGER_OVERRIDE", kind: "fixed_price", value: "999"}},
		{"sold for 20", want{reason: "OTHER", kind: "fixed_price", value: "20"}},
		{"let it go for $30", want{reason: "OTHER", kind: "fixed_price", value: "30.00", currency: "USD"}},
		{"charged 9.99 instead", want{reason: "OTHER", kind: "fixed_price", value: "9.99"}},
		{"bogo", want{reason: "BUNDLE", kind: "percent", value: "100"}},
		{"bogo 50%", want{reason: "BUNDLE", kind: "percent", value: "50"}},
		{"buy one get one free", want{reason: "BUNDLE", kind: "percent", value: "100"}},
		{"buy 2 get 1 free", want{reason: "BUNDLE", kind: "percent", value: "100"}},
		{"multibuy 3 for 2", want{reason: "BUNDLE"}},
		{"team member disc 20", want{reason: "EMPLOYEE", kind: "percent", value: "20"}}, // bare number, percent reason
		{"emp disc $5", want{reason: "EMPLOYEE", kind: "amount", value: "5.00", currency: "USD"}},
		{"employee price 12.50", want{reason: "EMPLOYEE", kind: "fixed_price", value: "12.50"}},
		{"clearance price $7", want{reason: "CLEARANCE", kind: "fixed_price", value: "7.00", currency: "USD"}},
		{"markdown to 14.99", want{reason: "CLEARANCE", kind: "fixed_price", value: "14.99"}},
		{"weekly ad price 4.99", want{reason: "PROMOTION", kind: "fixed_price", value: "4.99"}},
	} {
		check(t, p, c.note, c.w)
	}
}

func TestDefaultCurrency(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{DefaultCurrency: "CAD"})
	check(t, p, "$5 off", want{reason: "OTHER", kind: "amount", value: "5.00", currency: "CAD"}) // "$" is the store's dollar
	check(t, p, "5 off", want{reason: "OTHER", kind: "amount", value: "5", currency: "CAD"})
	check(t, p, "£2 off", want{reason: "OTHER", kind: "amount", value: "2.00", currency: "GBP"})
	check(t, p, "10% off", want{reason: "OTHER", kind: "percent", value: "10"}) // a percentage has no currency
	jp := setup(t, notes.Config{DefaultCurrency: "JPY"})
	check(t, jp, "500 off", want{reason: "OTHER", kind: "amount", value: "500", currency: "JPY"})
	check(t, jp, "$5 off", want{reason: "OTHER", kind: "amount", value: "5.00", currency: "USD"})
}

func TestPriceMatchCompetitors(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{Competitors: []string{"Smith's Hardware"}})
	for _, c := range []struct {
		note string
		w    want
	}{
		{"price match walmart 24.99", want{reason: "PRICE_MATCH", kind: "fixed_price", value: "24.99", competitor: "Walmart"}},
		{"pm wal-mart 12.97", want{reason: "PRICE_MATCH", kind: "fixed_price", value: "12.97", competitor: "Walmart"}},
		{"pm walmrt 3.88", want{reason: "PRICE_MATCH", kind: "fixed_price", value: "3.88", competitor: "Walmart"}}, // typo
		{"Price matched Best Buy $299.99", want{reason: "PRICE_MATCH", kind: "fixed_price", value: "299.99", currency: "USD", competitor: "Best Buy"}},
		{"price match home depot $5 less", want{reason: "PRICE_MATCH", kind: "amount", value: "5.00", currency: "USD", competitor: "Home Depot"}},
		{"price match kohls 10% less", want{reason: "PRICE_MATCH", kind: "percent", value: "10", competitor: "Kohl's"}},
		{"price match best buy 499.99 was 549.99", want{reason: "PRICE_MATCH", kind: "fixed_price", value: "499.99", competitor: "Best Buy"}},
		{"price match amazon $18.99 (ours 24.99)", want{reason: "PRICE_MATCH", kind: "fixed_price", value: "18.99", currency: "USD", competitor: "Amazon"}},
		{"price match mediamarkt 79,99 €", want{reason: "PRICE_MATCH", kind: "fixed_price", value: "79.99", currency: "EUR", competitor: "MediaMarkt"}},
		{"pm smiths hardware 4.50", want{reason: "PRICE_MATCH", kind: "fixed_price", value: "4.50", competitor: "Smith's Hardware"}}, // configured
		{"matched targt ad 8.99", want{reason: "PRICE_MATCH", kind: "fixed_price", value: "8.99", competitor: "Target"}},
	} {
		check(t, p, c.note, c.w)
	}
}

func TestCouponCodes(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{})
	for _, c := range []struct {
		note string
		w    want
	}{
		{"coupon SAVE20", want{reason: "COUPON", coupon: "SAVE20"}},
		{"coupon BF2026-XYZ $15 off", want{reason: "COUPON", kind: "amount", value: "15.00", currency: "USD", coupon: "BF2026-XYZ"}},
		{"used code summer15 15%", want{reason: "COUPON", kind: "percent", value: "15", coupon: "SUMMER15"}}, // lower case after "code"
		{"coupon code FREESHIP", want{reason: "COUPON", coupon: "FREESHIP"}},                                 // letters only after "code"
		{"code SPRING-10", want{reason: "COUPON", coupon: "SPRING-10"}},                                      // "code" alone is a coupon
		{"mfr coupon $1", want{reason: "COUPON", kind: "amount", value: "1.00", currency: "USD"}},            // "$1" is no code
		{"EMP DISCOUNT 20% + COUPON SAVE10", want{reason: "EMPLOYEE", kind: "percent", value: "20", coupon: "SAVE10"}},
	} {
		check(t, p, c.note, c.w)
	}
}

func TestApprovers(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{})
	for _, c := range []struct {
		note, approver string
	}{
		{"staff discount 30% ok'd by Sam", "Sam"},
		{"dmgd box mgr ovrd 10 off okd by sam", "Sam"},
		{"override per mgr Tom 20%", "Tom"},
		{"senior 10% mgr Lisa approved", "Lisa"},
		{"damaged - approved by Maria R. - 20% off", "Maria R."},
		{"price override to 45 auth by Dave", "Dave"},
		{"override by mgr Anna -$4", "Anna"},
		{"mgr ovrd 5%", ""},
	} {
		if got := p.Parse(c.note).ApprovedBy; got != c.approver {
			t.Errorf("Parse(%q).ApprovedBy = %q, want %q", c.note, got, c.approver)
		}
	}
}

// Several facts in one note: the specific reason wins over a manager's
// approval, the value is the discount and not the receipt or the quantity.
func TestSeveralFacts(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{})
	check(t, p, "dmgd box mgr ovrd 10 off okd by Sam", want{reason: "DAMAGED", kind: "amount", value: "10", approver: "Sam"})
	check(t, p, "pm target $14.99 ok'd by Dan, receipt 4412", want{reason: "PRICE_MATCH", kind: "fixed_price", value: "14.99", currency: "USD", competitor: "Target", approver: "Dan"})
	check(t, p, "clearance 30% on 3 items, gift wrapped", want{reason: "CLEARANCE", kind: "percent", value: "30"})
	check(t, p, "cust complaint re: wait 15 mins, gave 10% goodwill", want{reason: "GOODWILL", kind: "percent", value: "10"})
	check(t, p, "promo not ringing, gave 10%", want{reason: "PROMOTION", kind: "percent", value: "10"})
	check(t, p, "final sale clearance 60%", want{reason: "CLEARANCE", kind: "percent", value: "60"})
}

// No discount is invented for notes that carry none, however many numbers,
// managers or money they mention.
func TestNoDiscount(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{})
	for _, note := range []string{
		"customer paid with two cards", "gift wrap", "called manager re: return", "hold for pickup at 5pm",
		"return, receipt #4412", "exchanged size 10 for size 11", "layaway payment $50", "price check aisle 5",
		"called mgr, no override needed", "split tender 20 cash rest card", "delivery scheduled 12/14",
		"price check: was 19.99 rang 19.99, ok", "special order #5521 deposit $100", "coupon expired, not accepted",
		"loyalty number not found", "cash back $20", "mgr on duty: Sam", "", "   ", "n/a",
	} {
		r := check(t, p, note, want{})
		if b, _ := json.Marshal(r); !strings.Contains(string(b), `"reason_code":null`) {
			t.Errorf("Parse(%q) JSON %s: want reason_code null", note, b)
		}
	}
}

// A card number typed into a note is removed before the parser reads it:
// it is not in the result, and it does not become a value or a code.
func TestCardNumberNeverReachesOutput(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{})
	for _, note := range []string{
		"emp disc 20% card 4111 1111 1111 1111",
		"coupon 4111111111111111",
		"pm walmart 24.99 cust card 5500-0055-5555-5559",
	} {
		r := p.Parse(note)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, pan := range []string{"4111", "5500", "5559"} {
			if strings.Contains(string(b), pan) {
				t.Errorf("Parse(%q) = %s: card digits %s leaked", note, b, pan)
			}
		}
	}
}

func TestConfidenceOrdersEvidence(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{})
	sure := p.Parse("emp disc 20%").Confidence
	vague := p.Parse("mgr 10 something 20").Confidence
	if sure < p.Threshold() {
		t.Errorf("emp disc 20%%: confidence %v below threshold %v", sure, p.Threshold())
	}
	if vague >= sure {
		t.Errorf("an ambiguous note (%v) is as confident as a sure one (%v)", vague, sure)
	}
	if c := p.Parse("gift wrap").Confidence; c < p.Threshold() {
		t.Errorf("gift wrap: no-discount confidence %v below threshold", c)
	}
}

func TestConfigExtendsTaxonomy(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{Reasons: []notes.ReasonConfig{
		{Code: "PRICE_ERROR", Words: []string{"mispriced", "wrong price"}, FixedByDefault: true},
		{Code: "EMPLOYEE", Words: []string{"crew"}},
	}})
	check(t, p, "mispriced on shelf 4.99", want{reason: "PRICE_ERROR", kind: "fixed_price", value: "4.99"})
	check(t, p, "wrong price tag, 10% off", want{reason: "PRICE_ERROR", kind: "percent", value: "10"})
	check(t, p, "misprised 3.50", want{reason: "PRICE_ERROR", kind: "fixed_price", value: "3.50"}) // typo of an operator word
	check(t, p, "crew 20", want{reason: "EMPLOYEE", kind: "percent", value: "20"})
	if !p.Known("PRICE_ERROR") || p.Known("NOPE") {
		t.Error("Known does not reflect the configured taxonomy")
	}

	for _, bad := range []notes.Config{
		{Reasons: []notes.ReasonConfig{{Code: "price error", Words: []string{"x"}}}},
		{Reasons: []notes.ReasonConfig{{Code: "NEW_ONE"}}},
		{DefaultCurrency: "XXX"},
		{Threshold: 1.5},
		{Competitors: []string{" "}},
	} {
		if _, err := notes.New(bad); err == nil {
			t.Errorf("New(%+v): want an error", bad)
		}
	}
}

func TestSameValue(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		same bool
	}{{"5", "5.00", true}, {"05.50", "5.5", true}, {"5", "50", false}, {"", "0", false}, {"0.75", ".75", true}} {
		if got := notes.SameValue(c.a, c.b); got != c.same {
			t.Errorf("SameValue(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

// The target is 90 % exact on reason_code+kind+value and no discount
// invented for a note without one; the floors guard against regressions.
func TestLabelledSets(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{})
	for _, c := range []struct {
		file string
		min  float64
	}{
		{"testdata/notes_dev.jsonl", 0.95},   // tuned on
		{"testdata/notes_test.jsonl", 0.90},  // held out, written before the parser
		{"testdata/notes_fresh.jsonl", 0.95}, // blind at 76.4 %, then tuned on
		{"testdata/notes_blind.jsonl", 0.90}, // written after the last tuning, never tuned on
	} {
		f, err := os.Open(c.file)
		if err != nil {
			t.Fatal(err)
		}
		labels, err := notes.ReadLabels(f)
		_ = f.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		rep := notes.Evaluate(p, labels)
		if rep.Accuracy < c.min {
			t.Errorf("%s: exact %.3f, want >= %.2f", c.file, rep.Accuracy, c.min)
		}
		if rep.Invented != 0 {
			t.Errorf("%s: %d discounts invented on notes without one", c.file, rep.Invented)
		}
	}
}

func TestReadLabelsNamesTheLine(t *testing.T) {
	t.Parallel()
	_, err := notes.ReadLabels(strings.NewReader("{\"note\":\"x\",\"reason_code\":null}\n{\"note\":\"y\",\"reason_code\":\"OTHER\",\"kind\":\"pct\"}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err = %v, want one naming line 2", err)
	}
}

// Forms met in the third, blind set: pence and cents, a dash between
// spaces that is no minus sign, ordinals, multi-buy prices, refusals, and
// reason words that describe the customer rather than a discount.
func TestSeparatorsUnitsAndRefusals(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{})
	check(t, p, "dented tin 50p off", want{reason: "DAMAGED", kind: "amount", value: "0.50", currency: "GBP"})
	check(t, p, "mfr coupon 75 cents", want{reason: "COUPON", kind: "amount", value: "0.75", currency: "USD"})
	check(t, p, "PM - Target - $6.99", want{reason: "PRICE_MATCH", kind: "fixed_price", value: "6.99", currency: "USD", competitor: "Target"})
	check(t, p, "mgr ovr -$7.50", want{reason: "MANAGER_OVERRIDE", kind: "amount", value: "7.50", currency: "USD"})
	check(t, p, "BOGO FREE - 2nd item", want{reason: "BUNDLE", kind: "percent", value: "100"})
	check(t, p, "2 for $10 promo", want{reason: "PROMOTION"})
	check(t, p, "shop soiled 15%", want{reason: "DAMAGED", kind: "percent", value: "15"})
	check(t, p, "marked down 30%", want{reason: "CLEARANCE", kind: "percent", value: "30"})
	for _, note := range []string{
		"customer asked for 10% off, declined",
		"price matched? no - walmart out of stock",
		"senior customer needed help to car",
		"employee purchase - paid full price",
		"loyalty signup, no points yet",
		"gift card sold $50",
	} {
		check(t, p, note, want{})
	}
}

// A note whose words the rules do not know is not applied automatically,
// even when its value is clear: the reason may be in those words.
func TestUnknownWordsLowerConfidence(t *testing.T) {
	t.Parallel()
	p := setup(t, notes.Config{})
	if c := p.Parse("10% off").Confidence; c < p.Threshold() {
		t.Errorf("10%% off: confidence %v, want >= threshold", c)
	}
	r := p.Parse("friends and family 25%")
	if r.ReasonCode != "OTHER" || r.Value != "25" || r.Confidence >= p.Threshold() {
		t.Errorf("friends and family 25%%: %+v, want OTHER 25 below the threshold", r)
	}
}
