package mapping_test

import (
	"fmt"
	"strings"

	"github.com/tillsync/tillsync/internal/mapping"
)

func ExampleResolver_Suggest() {
	cat, err := mapping.ReadCSV(strings.NewReader(`sku,gtin,description,brand,size,colour
JKT1042-BLK-M,4006381333931,Kestrel Rain Jacket Black M,Kestrel,M,Black
JKT1042-BLK-L,4006381333948,Kestrel Rain Jacket Black L,Kestrel,L,Black
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	r := mapping.NewResolver(cat, mapping.Options{})
	for _, code := range []string{"]E04006381333931", "jkt1042 m black", "400638133394", "JKT1042-BLK-XL"} {
		s := r.Suggest(code, "", "store-01/square")
		if b, ok := s.Best(); ok {
			fmt.Printf("%-18q → %s  %-25s auto %v\n", code, b.SKU, b.Evidence, s.AutoApply)
		}
	}
	// Output:
	// "]E04006381333931" → JKT1042-BLK-M  gtin:scanner_affix        auto true
	// "jkt1042 m black"  → JKT1042-BLK-M  variant                   auto true
	// "400638133394"     → JKT1042-BLK-L  gtin:check_added          auto true
	// "JKT1042-BLK-XL"   → JKT1042-BLK-L  fuzzy:insertion:sku_attr  auto false
}

func ExampleResolver_Confirm() {
	cat := mapping.New()
	_ = cat.Add(mapping.Item{SKU: "GRC-204118", GTINs: []string{"042100005264"}, Description: "Meadowfield Whole Milk 1l"})
	r := mapping.NewResolver(cat, mapping.Options{})
	fmt.Println(r.Suggest("MILK-WH-1", "", "store-02").AutoApply)
	// A person in the inbox picks the SKU: the decision becomes a rule.
	if _, err := r.Confirm("store-02", "MILK-WH-1", "GRC-204118", "ana@store-02"); err != nil {
		fmt.Println(err)
	}
	s := r.Suggest("milk wh 1", "", "store-02")
	fmt.Println(s.AutoApply, s.Candidates[0].SKU, s.Candidates[0].Evidence)
	// Output:
	// false
	// true GRC-204118 rule
}
