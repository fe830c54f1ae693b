package config

import (
	"os"
)

// Catalog turns on SKU mapping at the hub's intake: every line code is
// resolved against the catalog, and an event with a code nothing resolves
// is held in the quarantine until a person maps it (docs/mapping.md).
// Without a file the hub stores codes as they arrive.
type Catalog struct {
	// File is the catalog, CSV or JSON.
	File string `yaml:"file"`
	// Mappings are per-source mappings, CSV with the header source,code,sku.
	Mappings string `yaml:"mappings"`
	// Rules is the file of people's decisions (JSON lines, created if
	// missing); without it decisions last until the hub restarts.
	Rules string `yaml:"rules"`
	// AutoApply is the confidence at or above which a repair is applied
	// without a person (0: the resolver's default, 0.97).
	AutoApply float64 `yaml:"auto_apply"`
}

// Enabled reports whether a catalog is configured.
func (c Catalog) Enabled() bool { return c.File != "" }

func (c *Hub) validateCatalog(p *Problems) {
	k := c.Catalog
	if !k.Enabled() {
		if k.Mappings != "" || k.Rules != "" || k.AutoApply != 0 {
			p.add("catalog.file", "is required when catalog.mappings, catalog.rules or catalog.auto_apply is set")
		}
		return
	}
	for _, f := range []struct{ name, path string }{{"catalog.file", k.File}, {"catalog.mappings", k.Mappings}} {
		if f.path == "" {
			continue
		}
		if st, err := os.Stat(f.path); err != nil {
			p.add(f.name, "%v", err)
		} else if st.IsDir() {
			p.add(f.name, "%s is a directory, not a file", f.path)
		}
	}
	if k.AutoApply < 0 || k.AutoApply > 1 {
		p.add("catalog.auto_apply", "is %g; use a confidence between 0 and 1 (0.97 is the default)", k.AutoApply)
	} else if k.AutoApply != 0 && k.AutoApply < 0.5 {
		p.add("catalog.auto_apply", "is %g; below 0.5 a repair is more often wrong than right", k.AutoApply)
	}
}
