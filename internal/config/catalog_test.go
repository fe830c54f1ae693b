package config_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/config"
)

func TestCatalogSection(t *testing.T) {
	t.Parallel()
	cat := writeFile(t, "items.csv", "sku,gtin\nMUG-RED,\n")
	c, err := config.LoadHub(writeFile(t, "hub.yaml", "catalog:\n  file: "+cat+"\n  rules: rules.jsonl\n  auto_apply: 0.99\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Catalog.Enabled() || c.Catalog.File != cat || c.Catalog.Rules != "rules.jsonl" || c.Catalog.AutoApply != 0.99 {
		t.Errorf("catalog = %+v", c.Catalog)
	}
	if d, _ := config.LoadHub(writeFile(t, "hub.yaml", "")); d.Catalog.Enabled() {
		t.Error("no catalog section should mean no SKU mapping")
	}
	missing := filepath.Join(t.TempDir(), "nope.csv")
	for yaml, want := range map[string]string{
		"catalog:\n  file: " + missing + "\n":                          "catalog.file: stat " + missing,
		"catalog:\n  file: " + cat + "\n  auto_apply: 1.5\n":           "catalog.auto_apply: is 1.5",
		"catalog:\n  rules: r.jsonl\n":                                 "catalog.file: is required",
		"catalog:\n  file: " + cat + "\n  mappings: " + missing + "\n": "catalog.mappings: stat " + missing,
	} {
		_, err := config.LoadHub(writeFile(t, "hub.yaml", yaml))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to name %q", yaml, err, want)
		}
	}
}
