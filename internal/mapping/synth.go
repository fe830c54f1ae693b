package mapping

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/tillsync/tillsync/internal/mapping/gtin"
)

// Synthetic retail data for tests, evaluation and benchmarks: a catalog
// that looks like a mixed retailer's (apparel styles in colours and sizes,
// grocery in pack sizes, hardware with thread sizes and finishes; EAN-13
// and UPC-A barcodes from brand company prefixes with sequential item
// references and valid check digits, some UPC-A with a UPC-E form), and the
// codes tills really send for those items.

type brand struct {
	name   string
	prefix string // GS1 company prefix, with the country prefix
	upc    bool   // a US brand: UPC-A barcodes
	next   int
}

var (
	apparelBrands  = []string{"Kestrel", "Northwind", "Alder & Co", "Urban Loom", "Fjordline", "Greyhaven", "Saltmarsh", "Ironbark", "Meridian", "Tidewater", "Blue Ridge", "Copperleaf"}
	groceryBrands  = []string{"Meadowfield", "Harvest Lane", "Golden Acre", "Brookside", "Sunvale", "Old Mill", "Riverbend", "Hillcrest"}
	hardwareBrands = []string{"Stanfort", "Boltline", "ProGrip", "Keystone", "Hammerhead", "Tradesman"}
	apparelTypes   = []struct {
		code, name string
		sizes      []string
	}{
		{"TSH", "Crew Neck Tee", []string{"XS", "S", "M", "L", "XL", "XXL"}},
		{"TSH", "V-Neck Tee", []string{"S", "M", "L", "XL"}},
		{"POL", "Pique Polo", []string{"S", "M", "L", "XL", "XXL"}},
		{"JKT", "Rain Jacket", []string{"S", "M", "L", "XL"}},
		{"JKT", "Down Jacket", []string{"XS", "S", "M", "L", "XL"}},
		{"HOD", "Pullover Hoodie", []string{"S", "M", "L", "XL", "XXL"}},
		{"HOD", "Zip Hoodie", []string{"S", "M", "L", "XL"}},
		{"SWT", "Merino Sweater", []string{"S", "M", "L", "XL"}},
		{"PNT", "Chino Pant", []string{"28", "30", "32", "34", "36", "38"}},
		{"JNS", "Slim Jeans", []string{"28", "29", "30", "31", "32", "33", "34", "36"}},
		{"SHO", "Trail Runner", []string{"38", "39", "40", "41", "42", "43", "44", "45", "46"}},
		{"SHO", "Leather Sneaker", []string{"37", "38", "39", "40", "41", "42", "43", "44"}},
		{"SCK", "Hiking Sock", []string{"S", "M", "L"}},
		{"DRS", "Wrap Dress", []string{"XS", "S", "M", "L"}},
		{"SKT", "Pleated Skirt", []string{"XS", "S", "M", "L"}},
		{"CAP", "Baseball Cap", []string{"OS"}},
	}
	brandStems  = []string{"Nor", "Kes", "Al", "Ur", "Fjor", "Grey", "Salt", "Iron", "Mer", "Tide", "Ash", "Birch", "Cedar", "Elm", "Fen", "Glen", "Holt", "Lark", "Oak", "Rook", "Sedge", "Thorn", "Wren", "Yarrow", "Bram", "Cliff", "Dune", "Ember", "Frost", "Heath"}
	brandEnds   = []string{"wind", "trel", "der", "loom", "line", "haven", "marsh", "bark", "idian", "water", "ridge", "leaf", "ford", "wood", "field", "stone", "brook", "vale", "crest", "moor", "gate", "well", "bury", "wick"}
	adjectives  = []string{"Organic", "Classic", "Essential", "Heritage", "Lightweight", "Relaxed", "Slim Fit", "Recycled", "Premium", "Everyday", "Heavyweight", "Vintage"}
	colourNames = []struct{ code, name string }{
		{"BLK", "Black"}, {"WHT", "White"}, {"NVY", "Navy"}, {"RED", "Red"}, {"BLU", "Blue"}, {"GRN", "Green"},
		{"GRY", "Grey"}, {"BRN", "Brown"}, {"BGE", "Beige"}, {"PNK", "Pink"}, {"OLV", "Olive"}, {"KHK", "Khaki"},
		{"CHR", "Charcoal"}, {"BRG", "Burgundy"}, {"YLW", "Yellow"}, {"TEL", "Teal"},
	}
	groceryProducts = []struct {
		name  string
		sizes []string
	}{
		{"Whole Milk", []string{"500ML", "1L", "2L"}}, {"Semi Skimmed Milk", []string{"1L", "2L"}},
		{"Greek Yoghurt", []string{"150G", "500G"}}, {"Cheddar Cheese", []string{"200G", "400G"}},
		{"Salted Butter", []string{"250G"}}, {"Sourdough Loaf", []string{"800G"}}, {"Rolled Oats", []string{"500G", "1KG"}},
		{"Basmati Rice", []string{"1KG", "2KG"}}, {"Penne Pasta", []string{"500G"}}, {"Chopped Tomatoes", []string{"400G"}},
		{"Orange Juice", []string{"1L"}}, {"Sparkling Water", []string{"500ML", "1L"}}, {"Ground Coffee", []string{"250G"}},
		{"Green Tea", []string{"20PK", "40PK"}}, {"Dark Chocolate", []string{"100G"}}, {"Peanut Butter", []string{"340G"}},
		{"Olive Oil", []string{"500ML", "1L"}}, {"Honey", []string{"340G"}}, {"Cornflakes", []string{"500G"}},
		{"Baked Beans", []string{"415G"}}, {"Tomato Ketchup", []string{"460G"}}, {"Sea Salt Crisps", []string{"150G"}},
	}
	groceryFlavours = []string{"", "", "", "Organic", "Free Range", "Low Fat", "Wholegrain", "Smoked", "Lightly Salted", "Vanilla", "Strawberry", "Mature"}
	hardwareItems   = []struct {
		name  string
		sizes []string
		paint bool
	}{
		{"Hex Bolt Zinc", []string{"M5", "M6", "M8", "M10", "M12"}, false},
		{"Wood Screw", []string{"M3", "M4", "M5"}, false},
		{"Wall Plug", []string{"M6", "M8", "M10"}, false},
		{"Claw Hammer", []string{"16OZ", "20OZ"}, false},
		{"Masonry Drill Bit", []string{"6MM", "8MM", "10MM"}, false},
		{"Interior Paint Matt", []string{"1L", "5L"}, true},
		{"Exterior Gloss", []string{"750ML", "2L"}, true},
		{"Cable Ties", []string{"100PK", "200PK"}, false},
		{"Measuring Tape", []string{"5M", "8M"}, false},
		{"LED Bulb", []string{"5W", "9W"}, false},
	}
)

// GenerateCatalog returns a deterministic synthetic catalog of about n
// items (never more).
func GenerateCatalog(seed uint64, n int) *Catalog {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) //nolint:gosec // G404: synthetic data, repeatable by seed, not secrets
	c := New()
	var brands []*brand
	usedPrefix := map[string]bool{}
	newBrand := func(name string, us, upce bool) *brand {
		for {
			var p string
			switch {
			case us && upce:
				// Manufacturer codes ending 000/100/200 with item numbers
				// under 1000 have UPC-E forms.
				p = fmt.Sprintf("0%02d%d00", rng.IntN(100), rng.IntN(3))
			case us:
				p = fmt.Sprintf("0%05d", rng.IntN(100000))
			default:
				cc := []string{"40", "41", "42", "43", "50", "76", "87", "54"}[rng.IntN(8)]
				p = fmt.Sprintf("%s%05d", cc, rng.IntN(100000))
			}
			if !usedPrefix[p] {
				usedPrefix[p] = true
				b := &brand{name: name, prefix: p, upc: us, next: rng.IntN(200)}
				brands = append(brands, b)
				return b
			}
		}
	}
	// Large catalogs spread items over more brands and prefixes.
	scale := n/3000 + 1
	pick := func(names []string, upcShare float64, upce bool) *brand {
		idx := rng.IntN(len(names))
		name := names[idx]
		if k := rng.IntN(scale); k > 0 {
			// More brands in a larger catalog, with made-up names.
			name = brandStems[(k+idx)%len(brandStems)] + brandEnds[(k/len(brandStems)+idx*7)%len(brandEnds)]
		}
		for _, b := range brands {
			if b.name == name {
				return b
			}
		}
		return newBrand(name, rng.Float64() < upcShare, upce && rng.Float64() < 0.5)
	}
	nextGTIN := func(b *brand) string {
		for {
			var body string
			if b.upc {
				width := 11 - len(b.prefix)
				limit := 1
				for range width {
					limit *= 10
				}
				if strings.HasSuffix(b.prefix, "00") && b.next >= 1000 {
					// This brand's UPC-E range is used up: a second prefix.
					b.prefix = fmt.Sprintf("0%05d", rng.IntN(100000))
					b.next = 0
				}
				body = b.prefix + fmt.Sprintf("%0*d", width, b.next%limit)
			} else {
				body = b.prefix + fmt.Sprintf("%05d", b.next%100000)
			}
			b.next++
			g := body + string(gtin.CheckDigit(body))
			if _, dup := c.byGTIN[gtin.Key(g)]; !dup {
				return g
			}
		}
	}
	styles := map[string]bool{}
	skus := 0
	add := func(it Item) {
		if skus >= n {
			return
		}
		if err := c.Add(it); err == nil {
			skus++
		}
	}
	for skus < n {
		switch k := rng.IntN(10); {
		case k < 5: // apparel style in colours and sizes
			t := apparelTypes[rng.IntN(len(apparelTypes))]
			b := pick(apparelBrands, 0.3, false)
			var style string
			for {
				style = fmt.Sprintf("%s%04d", t.code, 1000+rng.IntN(9000))
				if !styles[style] {
					styles[style] = true
					break
				}
			}
			adj := adjectives[rng.IntN(len(adjectives))]
			cols := rng.Perm(len(colourNames))[:1+rng.IntN(4)]
			sz := t.sizes
			if len(sz) > 3 && rng.IntN(3) == 0 {
				sz = sz[:len(sz)-1]
			}
			for _, ci := range cols {
				col := colourNames[ci]
				for _, s := range sz {
					add(Item{
						SKU: style + "-" + col.code + "-" + s, GTINs: []string{nextGTIN(b)},
						Description: fmt.Sprintf("%s %s %s %s %s", b.name, adj, t.name, col.name, s),
						Brand:       b.name, Attributes: map[string]string{"size": s, "colour": col.name},
					})
				}
			}
		case k < 8: // grocery in pack sizes
			p := groceryProducts[rng.IntN(len(groceryProducts))]
			b := pick(groceryBrands, 0.5, true)
			fl := groceryFlavours[rng.IntN(len(groceryFlavours))]
			name := strings.TrimSpace(fl + " " + p.name)
			for _, s := range p.sizes {
				add(Item{
					SKU: fmt.Sprintf("GRC-%06d", rng.IntN(1000000)), GTINs: []string{nextGTIN(b)},
					Description: fmt.Sprintf("%s %s %s", b.name, name, strings.ToLower(s)),
					Brand:       b.name, Attributes: map[string]string{"size": s},
				})
			}
		default: // hardware with sizes, paints in colours
			h := hardwareItems[rng.IntN(len(hardwareItems))]
			b := pick(hardwareBrands, 0.2, false)
			base := fmt.Sprintf("HW-%05d", rng.IntN(100000))
			cols := []int{-1}
			if h.paint {
				cols = rng.Perm(len(colourNames))[:2+rng.IntN(3)]
			}
			for _, ci := range cols {
				for _, s := range h.sizes {
					sku, desc := base+"-"+s, fmt.Sprintf("%s %s %s", b.name, h.name, s)
					attrs := map[string]string{"size": s}
					if ci >= 0 {
						sku = base + "-" + colourNames[ci].code + "-" + s
						desc = fmt.Sprintf("%s %s %s %s", b.name, h.name, colourNames[ci].name, s)
						attrs["colour"] = colourNames[ci].name
					}
					add(Item{SKU: sku, GTINs: []string{nextGTIN(b)}, Description: desc, Brand: b.name, Attributes: attrs})
				}
			}
		}
	}
	return c
}

// Error kinds GenerateLabelled makes; "unknown:…" kinds are codes of items
// not in the catalog.
var errorWeights = []kindWeight{
	{"leading_zeros_dropped", 6}, {"leading_zeros_added", 5}, {"upc_e", 4}, {"scanner_prefix", 6},
	{"scanner_suffix", 3}, {"check_digit_missing", 6}, {"gtin_transposition", 6}, {"gtin_keyboard", 6},
	{"gtin_ocr", 4}, {"sku_case", 5}, {"sku_dashes", 5}, {"variant_reorder", 6}, {"variant_spelling", 4},
	{"variant_reorder_case", 3}, {"sku_transposition", 5}, {"sku_keyboard", 5}, {"sku_ocr", 4},
	{"sku_repeat", 3}, {"description_only", 6},
}

var unknownWeights = []kindWeight{
	{"unknown:new_gtin_same_brand", 5}, {"unknown:new_gtin", 2}, {"unknown:new_style", 4},
	{"unknown:new_variant", 4}, {"unknown:internal_code", 2},
}

var sources = []string{"store-01/lightspeed", "store-02/square", "store-03/lightspeed", "web/shopify", "store-04/clover"}

type kindWeight struct {
	kind   string
	weight int
}

func weighted(rng *rand.Rand, ws []kindWeight) string {
	total := 0
	for _, w := range ws {
		total += w.weight
	}
	x := rng.IntN(total)
	for _, w := range ws {
		if x < w.weight {
			return w.kind
		}
		x -= w.weight
	}
	return ws[len(ws)-1].kind
}

func neighbourList(m map[[2]byte]bool) map[byte][]byte {
	out := map[byte][]byte{}
	for p := range m {
		out[p[0]] = append(out[p[0]], p[1])
	}
	for k := range out {
		sort.Slice(out[k], func(i, j int) bool { return out[k][i] < out[k][j] })
	}
	return out
}

// GenerateLabelled returns n labelled codes as tills send them for items of
// cat, with errors drawn from the kinds real POS data shows, and a share
// unknownShare of codes of items that are not in the catalog.
func GenerateLabelled(cat *Catalog, seed uint64, n int, unknownShare float64) []Labelled {
	rng := rand.New(rand.NewPCG(seed, seed^0xd1b54a32d192ed03)) //nolint:gosec // G404: synthetic data, repeatable by seed, not secrets
	kb, oc := neighbourList(keyboardNeighbours), neighbourList(ocrPairs)
	items := cat.Items()
	out := make([]Labelled, 0, n)
	if len(items) == 0 {
		return out
	}
	for tries := 0; len(out) < n && tries < 100*n; tries++ {
		var l Labelled
		var ok bool
		if rng.Float64() < unknownShare {
			l, ok = unknownCode(rng, cat, kb)
		} else {
			// The kind of error first, so kinds follow errorWeights; then
			// an item it can happen to (UPC-E needs a compressible UPC-A).
			kind := weighted(rng, errorWeights)
			for range 100 {
				it := items[rng.IntN(len(items))]
				if l, ok = erroneousCode(rng, cat, it, kind, kb, oc); ok {
					break
				}
			}
		}
		if !ok {
			continue
		}
		l.Source = sources[rng.IntN(len(sources))]
		out = append(out, l)
	}
	return out
}

// receiptText is a description as a till prints it: upper case, words
// abbreviated, brand dropped, cut to the till's width.
func receiptText(rng *rand.Rand, it Item) string {
	words := strings.Fields(it.Description)
	if it.Brand != "" && rng.IntN(2) == 0 {
		words = strings.Fields(strings.TrimSpace(strings.TrimPrefix(it.Description, it.Brand)))
	}
	for i, w := range words {
		if len(w) > 4 && rng.IntN(4) == 0 {
			words[i] = abbreviate(w)
		}
	}
	s := strings.Join(words, " ")
	if rng.IntN(2) == 0 {
		s = strings.ToUpper(s)
	}
	if len(s) > 32 && rng.IntN(2) == 0 {
		s = s[:32]
	}
	return s
}

// abbreviate drops the inner vowels of a word: "Jacket" → "Jckt".
func abbreviate(w string) string {
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		if i > 0 && strings.IndexByte("aeiouAEIOU", w[i]) >= 0 {
			continue
		}
		b.WriteByte(w[i])
	}
	return b.String()
}

func swapAdjacent(rng *rand.Rand, s string, digitsOnly bool) (string, bool) {
	for range 20 {
		i := rng.IntN(len(s) - 1)
		if s[i] == s[i+1] || (digitsOnly && (s[i] < '0' || s[i] > '9' || s[i+1] < '0' || s[i+1] > '9')) {
			continue
		}
		b := []byte(s)
		b[i], b[i+1] = b[i+1], b[i]
		return string(b), true
	}
	return "", false
}

func substitute(rng *rand.Rand, s string, from map[byte][]byte, skipSep bool) (string, bool) {
	for range 30 {
		i := rng.IntN(len(s))
		if skipSep && isSep(s[i]) {
			continue
		}
		opts := from[s[i]]
		if len(opts) == 0 {
			continue
		}
		b := []byte(s)
		b[i] = opts[rng.IntN(len(opts))]
		return string(b), true
	}
	return "", false
}

func erroneousCode(rng *rand.Rand, cat *Catalog, it Item, kind string, kb, oc map[byte][]byte) (Labelled, bool) {
	l := Labelled{SKU: it.SKU, Error: kind}
	var g string
	if len(it.GTINs) > 0 {
		g = it.GTINs[0]
	}
	ok := true
	switch kind {
	case "leading_zeros_dropped":
		if !strings.HasPrefix(g, "0") {
			return l, false
		}
		l.Code = strings.TrimLeft(g, "0")
	case "leading_zeros_added":
		l.Code = gtin.ToGTIN14(g)
		if l.Code == g {
			l.Code = "0" + g
		}
		if rng.IntN(3) == 0 {
			l.Code = "00" + l.Code
		}
	case "upc_e":
		var e string
		e, ok = gtin.CompressUPCE(g)
		l.Code = e
		if ok && rng.IntN(3) == 0 {
			l.Code = e[1:7] // the six digits printed large
		}
	case "scanner_prefix":
		l.Code = []string{"]E0", "]E0", "]e0", "F", "]C1"}[rng.IntN(5)] + g
		if len(g) == 12 && rng.IntN(2) == 0 {
			l.Code = "A" + g
		}
	case "scanner_suffix":
		l.Code = g + []string{"\r", "\r\n", "\t", " "}[rng.IntN(4)]
	case "check_digit_missing":
		l.Code = g[:len(g)-1]
	case "gtin_transposition":
		l.Code, ok = swapAdjacent(rng, g, true)
	case "gtin_keyboard":
		l.Code, ok = substitute(rng, g, kb, false)
	case "gtin_ocr":
		l.Code, ok = substitute(rng, g, oc, false)
		if ok && gtin.Digits(l.Code) {
			ok = false
		}
	case "sku_case":
		l.Code = strings.ToLower(it.SKU)
	case "sku_dashes":
		switch rng.IntN(3) {
		case 0:
			l.Code = strings.ReplaceAll(it.SKU, "-", "")
		case 1:
			l.Code = strings.ReplaceAll(it.SKU, "-", " ")
		default:
			l.Code = strings.ReplaceAll(it.SKU, "-", "_")
		}
	case "variant_reorder", "variant_reorder_case":
		segs := strings.Split(it.SKU, "-")
		if len(segs) < 3 {
			return l, false
		}
		rest := append([]string(nil), segs[1:]...)
		for i := len(rest) - 1; i > 0; i-- {
			j := rng.IntN(i)
			rest[i], rest[j] = rest[j], rest[i]
		}
		l.Code = segs[0] + "-" + strings.Join(rest, "-")
		if kind == "variant_reorder_case" {
			l.Code = strings.ToLower(strings.ReplaceAll(l.Code, "-", " "))
		}
	case "variant_spelling":
		segs := strings.Split(it.SKU, "-")
		changed := false
		for i, s := range segs[1:] {
			for _, c := range colourNames {
				if c.code == s {
					segs[i+1] = strings.ToUpper(c.name)
					changed = true
				}
			}
			if long, ok := map[string]string{"S": "SM", "M": "MED", "L": "LG", "XXL": "2XL", "XL": "XLG"}[s]; ok {
				segs[i+1] = long
				changed = true
			}
		}
		if !changed {
			return l, false
		}
		l.Code = strings.Join(segs, "-")
	case "sku_transposition":
		l.Code, ok = swapAdjacent(rng, it.SKU, false)
	case "sku_keyboard":
		l.Code, ok = substitute(rng, it.SKU, kb, true)
	case "sku_ocr":
		l.Code, ok = substitute(rng, it.SKU, oc, true)
	case "sku_repeat":
		i := rng.IntN(len(it.SKU))
		l.Code = it.SKU[:i+1] + it.SKU[i:]
	case "description_only":
		l.Code = []string{"OPEN-ITEM", "DEPT-07", "MISC", fmt.Sprintf("%d", 1000+rng.IntN(9000)), ""}[rng.IntN(5)]
		l.Description = receiptText(rng, it)
		return l, true
	}
	if !ok || l.Code == "" || l.Code == it.SKU || l.Code == g {
		return l, false
	}
	// The typo may have made another item's code: then it is not an error
	// the resolver could see.
	if _, clash := cat.Item(l.Code); clash {
		return l, false
	}
	if other, clash := cat.ByGTIN(l.Code); clash && other.SKU != it.SKU && gtin.Valid(l.Code) {
		return l, false
	}
	if rng.IntN(10) < 4 {
		l.Description = receiptText(rng, it)
	}
	return l, true
}

func unknownCode(rng *rand.Rand, cat *Catalog, kb map[byte][]byte) (Labelled, bool) {
	kind := weighted(rng, unknownWeights)
	l := Labelled{Error: kind}
	items := cat.Items()
	it := items[rng.IntN(len(items))]
	switch kind {
	case "unknown:new_gtin_same_brand":
		// The brand's next product: the same company prefix, an item
		// reference the catalog does not have yet.
		if len(it.GTINs) == 0 {
			return l, false
		}
		g := it.GTINs[0]
		body := []byte(g[:len(g)-1])
		i := len(body) - 1 - rng.IntN(3)
		body[i] = byte('0' + (int(body[i]-'0')+1+rng.IntN(9))%10)
		l.Code = string(body) + string(gtin.CheckDigit(string(body)))
	case "unknown:new_gtin":
		body := fmt.Sprintf("%02d%010d", 30+rng.IntN(60), rng.Int64N(1e10))
		l.Code = body + string(gtin.CheckDigit(body))
	case "unknown:new_style":
		segs := strings.Split(it.SKU, "-")
		if len(segs) < 2 {
			return l, false
		}
		var ok bool
		segs[0], ok = substitute(rng, segs[0], kb, false)
		if !ok {
			return l, false
		}
		l.Code = strings.Join(segs, "-")
		if rng.IntN(2) == 0 {
			l.Description = receiptText(rng, items[rng.IntN(len(items))])
		}
	case "unknown:new_variant":
		segs := strings.Split(it.SKU, "-")
		last := segs[len(segs)-1]
		var alt string
		switch {
		case sizes[last] != "":
			alt = []string{"XXS", "XS", "S", "M", "L", "XL", "XXL", "3XL"}[rng.IntN(8)]
		case colours[last] != "":
			alt = colourNames[rng.IntN(len(colourNames))].code
		case len(segs) >= 3:
			segs[len(segs)-2] = colourNames[rng.IntN(len(colourNames))].code
			alt = last
		default:
			return l, false
		}
		segs[len(segs)-1] = alt
		l.Code = strings.Join(segs, "-")
	case "unknown:internal_code":
		l.Code = []string{"GIFTCARD", "BAG-CHARGE", "DEPOSIT-RETURN", "SERVICE-FEE", "ALTERATION", "GIFT-WRAP"}[rng.IntN(6)]
		if rng.IntN(2) == 0 {
			l.Description = strings.ToUpper(strings.ReplaceAll(strings.ToLower(l.Code), "-", " "))
		}
	}
	if l.Code == "" {
		return l, false
	}
	if _, in := cat.Item(l.Code); in {
		return l, false
	}
	if gtin.Valid(l.Code) {
		if _, in := cat.ByGTIN(l.Code); in {
			return l, false
		}
	}
	if rng.IntN(4) == 0 {
		l.Code = strings.ToLower(l.Code)
	}
	return l, true
}
