package mapping

import (
	"strings"
	"testing"
)

func FuzzReadCSV(f *testing.F) {
	f.Add("sku,gtin,description,size\nA,036000291452,x,M\n")
	f.Add("sku,upc\n\"A,B\",4006381333931|036000291452\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ReadCSV(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, it := range c.Items() {
			if got, ok := c.Item(it.SKU); !ok || got.SKU != it.SKU {
				t.Fatalf("item %q not found by its SKU", it.SKU)
			}
		}
	})
}

func FuzzSuggest(f *testing.F) {
	cat := GenerateCatalog(1, 300)
	r := NewResolver(cat, Options{})
	f.Add("]E04006381333931", "RAIN JKT BLK M")
	f.Add("jkt1042 m black", "")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, code, desc string) {
		s := r.Suggest(code, desc, "fuzz")
		for i, c := range s.Candidates {
			if _, ok := cat.Item(c.SKU); !ok {
				t.Fatalf("candidate %q not in the catalog", c.SKU)
			}
			if c.Confidence < 0 || c.Confidence > 1 || (i > 0 && c.Confidence > s.Candidates[i-1].Confidence) {
				t.Fatalf("confidences %+v", s.Candidates)
			}
		}
	})
}
