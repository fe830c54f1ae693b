package mapping

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/mapping/gtin"
)

// setup returns a resolver over a small hand-made catalog, calibrated with
// the checked-in table.
func setup(t *testing.T) *Resolver {
	t.Helper()
	c := New()
	items := []Item{
		{SKU: "JKT1042-BLK-M", GTINs: []string{"4006381333931"}, Description: "Kestrel Rain Jacket Black M", Brand: "Kestrel", Attributes: map[string]string{"size": "M", "colour": "Black"}},
		{SKU: "JKT1042-BLK-L", GTINs: []string{"4006381333948"}, Description: "Kestrel Rain Jacket Black L", Brand: "Kestrel", Attributes: map[string]string{"size": "L", "colour": "Black"}},
		{SKU: "JKT1042-NVY-M", GTINs: []string{"4006381333955"}, Description: "Kestrel Rain Jacket Navy M", Brand: "Kestrel", Attributes: map[string]string{"size": "M", "colour": "Navy"}},
		{SKU: "GRC-204118", GTINs: []string{"042100005264"}, Description: "Meadowfield Whole Milk 1l", Brand: "Meadowfield", Attributes: map[string]string{"size": "1L"}},
		{SKU: "HW-30412-M8", GTINs: []string{"5012345678900"}, Description: "Stanfort Hex Bolt Zinc M8", Brand: "Stanfort", Attributes: map[string]string{"size": "M8"}},
		{SKU: "TSH5531-WHT-S", GTINs: []string{"036000291452"}, Description: "Northwind Organic Crew Neck Tee White S", Brand: "Northwind", Attributes: map[string]string{"size": "S", "colour": "White"}},
	}
	for _, it := range items {
		if err := c.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	return NewResolver(c, Options{})
}

func best(t *testing.T, s Suggestion) Candidate {
	t.Helper()
	b, ok := s.Best()
	if !ok {
		t.Fatalf("%q: no candidates", s.Code)
	}
	return b
}

// Each normalisation and pattern the issue names finds the right SKU, with
// the evidence that says how, and is applied automatically.
func TestSuggestRepairs(t *testing.T) {
	t.Parallel()
	r := setup(t)
	cases := []struct {
		name, code, desc, sku, evidence string
	}{
		{"GTIN-13 as is", "4006381333931", "", "JKT1042-BLK-M", "gtin:as_is"},
		{"GTIN-14 padding", "04006381333931", "", "JKT1042-BLK-M", "gtin:as_is"},
		{"leading zero dropped from UPC-A", "36000291452", "", "TSH5531-WHT-S", "gtin:as_is"},
		{"UPC-E", "04252614", "", "GRC-204118", "gtin:upc_e"},
		{"scanner AIM prefix", "]E04006381333931", "", "JKT1042-BLK-M", "gtin:scanner_affix"},
		{"scanner terminator", "4006381333931\r\n", "", "JKT1042-BLK-M", "gtin:as_is"},
		{"check digit missing", "400638133393", "", "JKT1042-BLK-M", "gtin:check_added"},
		{"OCR letters in a GTIN", "4OO6381333931", "", "JKT1042-BLK-M", "gtin:ocr_digits"},
		{"case", "jkt1042-blk-m", "", "JKT1042-BLK-M", "normalized"},
		{"whitespace and dashes", " JKT 1042_BLK M ", "", "JKT1042-BLK-M", "normalized"},
		{"variant reordered", "JKT1042-M-BLK", "", "JKT1042-BLK-M", "variant"},
		{"variant spelled out", "JKT1042-BLACK-MEDIUM", "", "JKT1042-BLK-M", "variant"},
		{"variant reordered, lower case, spaced", "jkt1042 m black", "", "JKT1042-BLK-M", "variant"},
		{"thread size variant", "HW-M8-30412", "", "HW-30412-M8", "variant"},
	}
	for _, c := range cases {
		s := r.Suggest(c.code, c.desc, "store-01")
		b := best(t, s)
		if b.SKU != c.sku || !strings.HasPrefix(b.Evidence, c.evidence) {
			t.Errorf("%s: %q → %s (%s), want %s (%s)", c.name, c.code, b.SKU, b.Evidence, c.sku, c.evidence)
		}
		if !s.AutoApply {
			t.Errorf("%s: %q → %s at %.3f not auto-applied", c.name, c.code, b.SKU, b.Confidence)
		}
	}
}

// Fuzzy code similarity: one keying or reading error finds the item, and
// says which kind of error it was.
func TestSuggestFuzzy(t *testing.T) {
	t.Parallel()
	r := setup(t)
	cases := []struct {
		name, code, sku, evidence string
	}{
		{"GTIN transposition", "4006381339331", "JKT1042-BLK-M", "fuzzy:transposition:gtin_badchk"},
		{"GTIN keypad neighbour", "4006381336931", "JKT1042-BLK-M", "fuzzy:keyboard:gtin_badchk"},
		{"SKU transposition", "HW-30142-M8", "HW-30412-M8", "fuzzy:transposition:sku"},
		{"SKU keyboard neighbour", "GRC-204119", "GRC-204118", "fuzzy:keyboard:sku"},
		{"SKU O for 0", "GRC-2O4118", "GRC-204118", "fuzzy:ocr:sku"},
		{"SKU S for 5", "TSH553I-WHT-S", "TSH5531-WHT-S", "fuzzy:ocr:sku"},
		{"SKU doubled key", "GRC-2041188", "GRC-204118", "fuzzy:repeat:sku"},
	}
	for _, c := range cases {
		s := r.Suggest(c.code, "", "store-01")
		b := best(t, s)
		if b.SKU != c.sku || !strings.HasPrefix(b.Evidence, c.evidence) {
			t.Errorf("%s: %q → %s (%s), want %s (%s…)", c.name, c.code, b.SKU, b.Evidence, c.sku, c.evidence)
		}
	}
}

// What must never be applied automatically: codes of items the catalog does
// not have, however close they look.
func TestSuggestUnknownNotApplied(t *testing.T) {
	t.Parallel()
	r := setup(t)
	body := "400638133399" // the brand's next item reference
	newGTIN := body + string(gtin.CheckDigit(body))
	for _, code := range []string{
		newGTIN,           // a valid GTIN not in the catalog
		"JKT1042-BLK-XL",  // a size the style is not stocked in
		"JKT1042-RED-M",   // a colour the style is not stocked in
		"GIFTCARD",        // an internal code
		"9780306406157",   // a book
		"JKT1042-BLK-XXL", // one insertion from nothing, a new size
	} {
		s := r.Suggest(code, "", "store-01")
		if s.AutoApply {
			t.Errorf("%q auto-applied as %s (%s, %.3f)", code, s.Candidates[0].SKU, s.Candidates[0].Evidence, s.Candidates[0].Confidence)
		}
	}
	s := r.Suggest("JKT1042-BLK-XL", "", "store-01")
	for _, c := range s.Candidates {
		if strings.HasPrefix(c.Evidence, "fuzzy") && !strings.Contains(c.Evidence, "sku_attr") {
			t.Errorf("JKT1042-BLK-XL → %s: a changed size is not flagged (%s)", c.SKU, c.Evidence)
		}
	}
}

// A description is enough when the code is useless, and it decides between
// codes that are equally close.
func TestSuggestDescription(t *testing.T) {
	t.Parallel()
	r := setup(t)
	s := r.Suggest("OPEN-ITEM", "MEADOWFLD WHOLE MLK 1L", "store-01")
	if b := best(t, s); b.SKU != "GRC-204118" || !strings.HasPrefix(b.Evidence, "desc:") {
		t.Errorf("description only → %s (%s), want GRC-204118 by description", b.SKU, b.Evidence)
	}
	s = r.Suggest("", "Kestrel Rain Jckt Navy M", "store-01")
	if b := best(t, s); b.SKU != "JKT1042-NVY-M" {
		t.Errorf("abbreviated description → %s, want JKT1042-NVY-M", b.SKU)
	}
	// JKT1042-BLK-M and -L are both one edit from JKT1042-BLK-N (N is next
	// to M, and to nothing of L); the description picks M.
	s = r.Suggest("JKT1042-BLK-N", "RAIN JACKET BLACK M", "store-01")
	if b := best(t, s); b.SKU != "JKT1042-BLK-M" || !strings.HasSuffix(b.Evidence, ":dH") {
		t.Errorf("fuzzy with description → %s (%s), want JKT1042-BLK-M with the description agreeing", b.SKU, b.Evidence)
	}
}

func TestConfidenceIsCalibratedOrder(t *testing.T) {
	t.Parallel()
	r := setup(t)
	s := r.Suggest("4006381339331", "", "x") // GTIN transposition
	f := r.Suggest("GRC-204119", "", "x")    // SKU keyboard slip
	e := r.Suggest("4006381333931", "", "x") // GTIN as is
	if !(best(t, e).Confidence > best(t, s).Confidence) {
		t.Errorf("an exact GTIN (%.3f) should be surer than a transposed one (%.3f)", best(t, e).Confidence, best(t, s).Confidence)
	}
	for _, sg := range []Suggestion{s, f, e} {
		for i := 1; i < len(sg.Candidates); i++ {
			if sg.Candidates[i].Confidence > sg.Candidates[i-1].Confidence {
				t.Errorf("%q: candidates not best first: %+v", sg.Code, sg.Candidates)
			}
		}
		for _, c := range sg.Candidates {
			if c.Confidence <= 0 || c.Confidence > 1 {
				t.Errorf("%q: confidence %v out of (0, 1]", sg.Code, c.Confidence)
			}
		}
	}
}

// A human's choice becomes a rule: the same code from the same source is
// then applied automatically, in any spelling, and a prefix the source adds
// is learned after consistent decisions.
func TestConfirmLearns(t *testing.T) {
	t.Parallel()
	r := setup(t)
	if s := r.Suggest("ZZ-99", "", "store-07/clover"); s.AutoApply {
		t.Fatal("an unrelated code was auto-applied before any decision")
	}
	if _, err := r.Confirm("store-07/clover", "ZZ-99", "HW-30412-M8", "ana"); err != nil {
		t.Fatal(err)
	}
	s := r.Suggest("zz 99", "", "store-07/clover")
	if b := best(t, s); !s.AutoApply || b.SKU != "HW-30412-M8" || b.Evidence != "rule" || !strings.Contains(b.Detail, "ana") {
		t.Errorf("after the decision: %+v", s)
	}
	if s := r.Suggest("ZZ-99", "", "store-08/square"); s.AutoApply {
		t.Error("a rule of one source applied to another")
	}
	if _, err := r.Confirm("x", "ZZ-99", "NOPE", "ana"); err == nil {
		t.Error("a decision for a SKU not in the catalog was accepted")
	}

	// The source prefixes its own "77" to catalog SKUs.
	src := "store-09/legacy"
	if _, err := r.Confirm(src, "77GRC-204118", "GRC-204118", "ana"); err != nil {
		t.Fatal(err)
	}
	s = r.Suggest("77JKT1042-BLK-M", "", src)
	if b := best(t, s); b.SKU != "JKT1042-BLK-M" || b.Evidence != "rule_affix" || s.AutoApply {
		t.Errorf("after one decision: %+v (one decision is not yet a pattern)", s)
	}
	if _, err := r.Confirm(src, "77HW-30412-M8", "HW-30412-M8", "bo"); err != nil {
		t.Fatal(err)
	}
	if s = r.Suggest("77JKT1042-BLK-M", "", src); !s.AutoApply || best(t, s).SKU != "JKT1042-BLK-M" {
		t.Errorf("after two consistent decisions: %+v", s)
	}
}

// Decisions in a rules file survive a restart: a new resolver learns from
// them.
func TestFileRulesSurviveRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rules.jsonl")
	fr, err := OpenFileRules(path)
	if err != nil {
		t.Fatal(err)
	}
	r := setup(t)
	r2 := NewResolver(r.Catalog(), Options{Rules: fr})
	if _, err := r2.Confirm("s", "OLD-CODE-1", "GRC-204118", "ana"); err != nil {
		t.Fatal(err)
	}
	if err := fr.Close(); err != nil {
		t.Fatal(err)
	}
	fr, err = OpenFileRules(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fr.Close() }()
	r3 := NewResolver(r.Catalog(), Options{Rules: fr})
	if s := r3.Suggest("old-code-1", "", "s"); !s.AutoApply || best(t, s).SKU != "GRC-204118" {
		t.Errorf("after restart: %+v", s)
	}
	if _, err := fr.Confirm("s", "", "GRC-204118", "ana"); err == nil {
		t.Error("a rule without a code was accepted")
	}
	if _, err := fr.Confirm("s", "X", "GRC-204118", ""); err == nil {
		t.Error("a rule without who decided was accepted")
	}
}

func TestSourceMappings(t *testing.T) {
	t.Parallel()
	r := setup(t)
	c := r.Catalog()
	err := c.ReadMappings(strings.NewReader("source,code,sku\nstore-01,PLU-77,GRC-204118\n"))
	if err != nil {
		t.Fatal(err)
	}
	r = NewResolver(c, Options{})
	if s := r.Suggest("plu 77", "", "store-01"); !s.AutoApply || best(t, s).SKU != "GRC-204118" {
		t.Errorf("mapped code: %+v", s)
	}
	if s := r.Suggest("PLU-77", "", "store-02"); s.AutoApply {
		t.Errorf("another source's mapping applied: %+v", s)
	}
	err = c.ReadMappings(strings.NewReader("source,code,sku\nstore-01,PLU-78,NOPE\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("bad mapping: %v, want line 2 and the SKU named", err)
	}
}

func TestReadCatalogErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"bad check digit", "sku,gtin\nA,4006381333932\n", `line 2: sku "A": gtins: GTIN "4006381333932": check digit is 2, want 1`},
		{"duplicate SKU", "sku,gtin\nA,\nA,\n", `line 3: sku "A": already in the catalog`},
		{"GTIN of another SKU", "sku,upc\nA,036000291452\nB,0036000291452\n", `line 3: sku "B": GTIN 0036000291452 already identifies sku "A"`},
		{"no SKU column", "code,gtin\nA,1\n", "want exactly one SKU column"},
		{"short row", "sku,gtin,size\nA,036000291452\n", "line 2: 2 fields, the header has 3"},
		{"empty SKU", "sku,gtin\n,036000291452\n", "line 2: sku: empty"},
	}
	for _, c := range cases {
		_, err := ReadCSV(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	_, err := ReadJSON(strings.NewReader("{\"sku\":\"A\"}\n{\"sku\":\"B\",\"gtins\":[\"123\"]}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("JSON lines: %v, want line 2", err)
	}
	_, err = ReadJSON(strings.NewReader(`[{"sku":"A"},{"sku":"A"}]`))
	if err == nil || !strings.Contains(err.Error(), "item 2") {
		t.Errorf("JSON array: %v, want item 2", err)
	}
}

func TestReadCatalog(t *testing.T) {
	t.Parallel()
	c, err := ReadCSV(strings.NewReader("\ufeffSKU,UPC,EAN,Description,Brand,Size,Colour\nJKT-1,036000291452,4006381333931|5012345678900,Rain Jacket,Kestrel,M,Black\n"))
	if err != nil {
		t.Fatal(err)
	}
	it, ok := c.Item("JKT-1")
	if !ok || len(it.GTINs) != 3 || it.Brand != "Kestrel" || it.Attributes["size"] != "M" || it.Attributes["colour"] != "Black" {
		t.Fatalf("item: %+v", it)
	}
	if got, ok := c.ByGTIN("00036000291452"); !ok || got.SKU != "JKT-1" {
		t.Errorf("ByGTIN with padding: %+v %v", got, ok)
	}
	j, err := ReadJSON(strings.NewReader(`[{"sku":"A","gtins":["036000291452"],"description":"x","attributes":{"size":"M"}}]`))
	if err != nil || j.Len() != 1 {
		t.Fatalf("JSON array: %v", err)
	}
	var b strings.Builder
	if err := c.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	back, err := ReadCSV(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := back.Item("JKT-1"); got.Description != it.Description || len(got.GTINs) != 3 || got.Attributes["colour"] != "Black" {
		t.Errorf("round trip: %+v", got)
	}
}

type erpItems []Item

func (e erpItems) Items(context.Context) ([]Item, error) {
	if e == nil {
		return nil, errors.New("ERP down")
	}
	return e, nil
}

func TestImportFromERP(t *testing.T) {
	t.Parallel()
	c := New()
	if err := c.Add(Item{SKU: "A"}); err != nil {
		t.Fatal(err)
	}
	n, err := c.Import(context.Background(), erpItems{{SKU: "A"}, {SKU: "B", GTINs: []string{"036000291452"}}})
	if err != nil || n != 1 || c.Len() != 2 {
		t.Fatalf("import: %d %v, %d items", n, err, c.Len())
	}
	if _, err := c.Import(context.Background(), erpItems{{SKU: "C", GTINs: []string{"036000291453"}}}); err == nil || !strings.Contains(err.Error(), `"C"`) {
		t.Errorf("bad ERP item: %v, want the SKU named", err)
	}
	if _, err := c.Import(context.Background(), erpItems(nil)); err == nil {
		t.Error("ERP failure not reported")
	}
}

func TestVariantKeyAndEdits(t *testing.T) {
	t.Parallel()
	same := [][]string{
		{"JKT1042-BLK-M", "JKT1042-M-BLK", "jkt1042 black medium", "JKT1042_MD_BLK"},
		{"JNS2222-BLK-30", "JNS2222-30-BLACK"},
		{"GRC-1-500G", "GRC-1-0500G"},
	}
	for _, group := range same {
		k := variantKey(group[0])
		if k == "" {
			t.Fatalf("%s has no variant key", group[0])
		}
		for _, c := range group[1:] {
			if variantKey(c) != k {
				t.Errorf("variantKey(%s) = %s, want %s (as %s)", c, variantKey(c), k, group[0])
			}
		}
	}
	if variantKey("JKT1042-BLK-M") == variantKey("JKT1042-BLK-L") {
		t.Error("different sizes share a variant key")
	}
	edits := []struct{ got, want, kind string }{
		{"AB12", "BA12", editTransposition},
		{"A0", "AO", editOCR},
		{"A1", "AI", editOCR},
		{"A5", "AS", editOCR},
		{"A8", "AB", editOCR},
		{"AW", "AQ", editKeyboard},
		{"A4", "A5", editKeyboard},
		{"AP", "AZ", editSubstitution},
		{"ABB", "AB", editRepeat},
		{"AB", "ABB", editRepeat},
		{"AXB", "AB", editInsertion},
		{"AB", "AXB", editDeletion},
	}
	for _, e := range edits {
		if k, ok := singleEdit(e.got, e.want); !ok || k != e.kind {
			t.Errorf("singleEdit(%s, %s) = %s %v, want %s", e.got, e.want, k, ok, e.kind)
		}
	}
	for _, p := range [][2]string{{"AB", "AB"}, {"ABCD", "BADC"}, {"AB", "ABCD"}, {"ABC", "CBA"}} {
		if k, ok := singleEdit(p[0], p[1]); ok {
			t.Errorf("singleEdit(%s, %s) = %s, want more than one edit", p[0], p[1], k)
		}
	}
}

// The index finds exactly what a scan of every key with singleEdit finds.
func TestDeletionIndexMatchesScan(t *testing.T) {
	t.Parallel()
	keys := []string{"JKT1042BLKM", "JKT1042BLKL", "GRC204118", "GRC204119", "HW30412M8", "AAB", "ABA"}
	var x deletionIndex
	for i, k := range keys {
		x.add('s', k, int32(i))
	}
	x.build()
	for _, q := range []string{"JKT1042BLKN", "JKT1402BLKM", "GRC20411", "GRC2041188", "AB", "HW30412M8", "ZZZ"} {
		want := map[int32]bool{}
		for i, k := range keys {
			if _, ok := singleEdit(q, k); ok || q == k {
				want[int32(i)] = true
			}
		}
		got := map[int32]bool{}
		x.near('s', q, func(i int32) {
			if _, ok := singleEdit(q, keys[i]); ok || q == keys[i] {
				got[i] = true
			}
		})
		if len(got) != len(want) {
			t.Errorf("%s: index found %v, scan %v", q, got, want)
		}
		for i := range want {
			if !got[i] {
				t.Errorf("%s: index missed %s", q, keys[i])
			}
		}
	}
}
