package mapping

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tillsync/tillsync/internal/mapping/gtin"
)

// Item is one sellable catalog item: one SKU, the barcodes that identify
// it, and what a human reads.
type Item struct {
	SKU         string   `json:"sku"`
	GTINs       []string `json:"gtins,omitempty"`
	Description string   `json:"description,omitempty"`
	Brand       string   `json:"brand,omitempty"`
	// Attributes are variant attributes such as size and colour.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Catalog is a set of items and the per-source mappings of POS codes to
// them. Build one with New, Add and Map, or read one with Load, ReadCSV or
// ReadJSON; a Catalog is not safe for concurrent change.
type Catalog struct {
	items  []Item
	bySKU  map[string]int
	byGTIN map[string]int // gtin.Key → item
	// maps are per-source mappings: source → POS code → SKU.
	maps map[string]map[string]string
}

// maxItems bounds a catalog so item numbers fit the indexes' int32.
const maxItems = math.MaxInt32

// itemID is an item's number in the indexes; Add keeps it below maxItems.
func itemID(i int) int32 {
	return int32(i) //nolint:gosec // G115: i < maxItems, see Catalog.Add
}

// New returns an empty catalog.
func New() *Catalog {
	return &Catalog{bySKU: map[string]int{}, byGTIN: map[string]int{}, maps: map[string]map[string]string{}}
}

// Len is the number of items.
func (c *Catalog) Len() int { return len(c.items) }

// Items returns the items in the order they were added.
func (c *Catalog) Items() []Item { return c.items }

// Item returns the item with sku.
func (c *Catalog) Item(sku string) (Item, bool) {
	i, ok := c.bySKU[sku]
	if !ok {
		return Item{}, false
	}
	return c.items[i], true
}

// ByGTIN returns the item a valid GTIN identifies, in any zero padding.
func (c *Catalog) ByGTIN(g string) (Item, bool) {
	i, ok := c.byGTIN[gtin.Key(g)]
	if !ok {
		return Item{}, false
	}
	return c.items[i], true
}

// Add adds an item. The SKU must be new and non-empty, every GTIN valid and
// not already another item's.
func (c *Catalog) Add(it Item) error {
	it.SKU = strings.TrimSpace(it.SKU)
	switch {
	case it.SKU == "":
		return errors.New("sku: empty")
	case len(it.SKU) > 128:
		return fmt.Errorf("sku %q: longer than 128 characters", it.SKU)
	}
	if _, dup := c.bySKU[it.SKU]; dup {
		return fmt.Errorf("sku %q: already in the catalog", it.SKU)
	}
	it.GTINs = append([]string(nil), it.GTINs...)
	for i, g := range it.GTINs {
		g = gtin.Clean(g)
		if err := gtin.Validate(g); err != nil {
			return fmt.Errorf("sku %q: gtins: %w", it.SKU, err)
		}
		if j, dup := c.byGTIN[gtin.Key(g)]; dup {
			return fmt.Errorf("sku %q: GTIN %s already identifies sku %q", it.SKU, g, c.items[j].SKU)
		}
		it.GTINs[i] = g
	}
	n := len(c.items)
	if n >= maxItems {
		return fmt.Errorf("sku %q: the catalog holds at most %d items", it.SKU, maxItems)
	}
	c.items = append(c.items, it)
	c.bySKU[it.SKU] = n
	for _, g := range it.GTINs {
		c.byGTIN[gtin.Key(g)] = n
	}
	return nil
}

// Map records that source's POS code code means sku. The sku must be in
// the catalog.
func (c *Catalog) Map(source, code, sku string) error {
	if _, ok := c.bySKU[sku]; !ok {
		return fmt.Errorf("mapping %s %q: sku %q is not in the catalog", source, code, sku)
	}
	if strings.TrimSpace(code) == "" {
		return fmt.Errorf("mapping %s → %q: empty code", source, sku)
	}
	m := c.maps[source]
	if m == nil {
		m = map[string]string{}
		c.maps[source] = m
	}
	if prev, ok := m[code]; ok && prev != sku {
		return fmt.Errorf("mapping %s %q: already maps to %q, not %q", source, code, prev, sku)
	}
	m[code] = sku
	return nil
}

// Mapped returns the SKU source's code is mapped to.
func (c *Catalog) Mapped(source, code string) (string, bool) {
	sku, ok := c.maps[source][code]
	return sku, ok
}

// Load reads a catalog file: CSV by extension .csv, JSON (an array of items
// or one item per line) otherwise.
func Load(path string) (*Catalog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	var c *Catalog
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		c, err = ReadCSV(f)
	} else {
		c, err = ReadJSON(f)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	return c, nil
}

// Column names ReadCSV accepts, case-insensitive; any other column is a
// variant attribute named by its header.
var (
	skuColumns   = []string{"sku", "item", "item_id", "itemid", "article"}
	gtinColumns  = []string{"gtin", "gtins", "upc", "upcs", "ean", "eans", "barcode", "barcodes"}
	descColumns  = []string{"description", "desc", "name", "title"}
	brandColumns = []string{"brand", "vendor", "manufacturer"}
)

// ReadCSV reads a catalog from CSV with a header row. It needs a SKU column;
// GTIN columns may hold several codes separated by "|", ";" or spaces; other
// columns (size, colour, …) become attributes. Errors name the line.
func ReadCSV(r io.Reader) (*Catalog, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("line 1: header: %w", err)
	}
	col := func(names []string) []int {
		var out []int
		for i, h := range head {
			h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
			for _, n := range names {
				if h == n {
					out = append(out, i)
				}
			}
		}
		return out
	}
	skuCol, gtinCols, descCol, brandCol := col(skuColumns), col(gtinColumns), col(descColumns), col(brandColumns)
	if len(skuCol) != 1 {
		return nil, fmt.Errorf("line 1: header %q: want exactly one SKU column (%s)", strings.Join(head, ","), strings.Join(skuColumns, ", "))
	}
	known := map[int]bool{skuCol[0]: true}
	for _, cs := range [][]int{gtinCols, descCol, brandCol} {
		for _, i := range cs {
			known[i] = true
		}
	}
	c := New()
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		if err != nil {
			return nil, err // csv.ParseError names the line and column
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(head) {
			return nil, fmt.Errorf("line %d: %d fields, the header has %d", line, len(rec), len(head))
		}
		it := Item{SKU: rec[skuCol[0]]}
		for _, i := range gtinCols {
			it.GTINs = append(it.GTINs, strings.FieldsFunc(rec[i], func(r rune) bool { return r == '|' || r == ';' || r == ' ' || r == ',' })...)
		}
		if len(descCol) > 0 {
			it.Description = strings.TrimSpace(rec[descCol[0]])
		}
		if len(brandCol) > 0 {
			it.Brand = strings.TrimSpace(rec[brandCol[0]])
		}
		for i, h := range head {
			if v := strings.TrimSpace(rec[i]); !known[i] && v != "" {
				if it.Attributes == nil {
					it.Attributes = map[string]string{}
				}
				it.Attributes[strings.ToLower(strings.TrimSpace(h))] = v
			}
		}
		if err := c.Add(it); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
}

// ReadJSON reads a catalog from a JSON array of items or from JSON lines,
// one item per line. Errors name the item (array) or line.
func ReadJSON(r io.Reader) (*Catalog, error) {
	br := bufio.NewReader(r)
	c := New()
	first, err := peekNonSpace(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		return nil, err
	}
	if first == '[' {
		var items []Item
		dec := json.NewDecoder(br)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&items); err != nil {
			return nil, fmt.Errorf("JSON array: %w", err)
		}
		for i, it := range items {
			if err := c.Add(it); err != nil {
				return nil, fmt.Errorf("item %d: %w", i+1, err)
			}
		}
		return c, nil
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var it Item
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&it); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if err := c.Add(it); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	return c, sc.Err()
}

func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if b != ' ' && b != '\n' && b != '\r' && b != '\t' && b != 0xef && b != 0xbb && b != 0xbf {
			return b, br.UnreadByte()
		}
	}
}

// ReadMappings reads per-source mappings from CSV with the header
// source,code,sku into c. Errors name the line.
func (c *Catalog) ReadMappings(r io.Reader) error {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("line 1: header: %w", err)
	}
	if len(head) != 3 || !strings.EqualFold(strings.TrimSpace(head[0]), "source") || !strings.EqualFold(strings.TrimSpace(head[1]), "code") || !strings.EqualFold(strings.TrimSpace(head[2]), "sku") {
		return fmt.Errorf("line 1: header %q: want source,code,sku", strings.Join(head, ","))
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		if err := c.Map(strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
}

// ItemSource is an ERP connector that can read the ERP's item list.
type ItemSource interface {
	Items(ctx context.Context) ([]Item, error)
}

// Import adds every item src lists that the catalog does not have yet, and
// returns how many it added. An item that conflicts with the catalog (a
// GTIN of another SKU, an invalid GTIN) stops the import with its SKU named.
func (c *Catalog) Import(ctx context.Context, src ItemSource) (int, error) {
	items, err := src.Items(ctx)
	if err != nil {
		return 0, fmt.Errorf("import items: %w", err)
	}
	added := 0
	for _, it := range items {
		if _, ok := c.bySKU[strings.TrimSpace(it.SKU)]; ok {
			continue
		}
		if err := c.Add(it); err != nil {
			return added, fmt.Errorf("import items: %w", err)
		}
		added++
	}
	return added, nil
}

// WriteCSV writes the catalog as CSV with columns sku, gtin, description,
// brand and one column per attribute name, sorted.
func (c *Catalog) WriteCSV(w io.Writer) error {
	names := map[string]bool{}
	for _, it := range c.items {
		for k := range it.Attributes {
			names[k] = true
		}
	}
	attrs := make([]string, 0, len(names))
	for k := range names {
		attrs = append(attrs, k)
	}
	sort.Strings(attrs)
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"sku", "gtin", "description", "brand"}, attrs...)); err != nil {
		return err
	}
	for _, it := range c.items {
		rec := []string{it.SKU, strings.Join(it.GTINs, "|"), it.Description, it.Brand}
		for _, a := range attrs {
			rec = append(rec, it.Attributes[a])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
