package config

import (
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Close configures the end-of-day close (`tillsync close`, and the hub's
// automatic close) and the checks it runs: the completeness audit, cash
// and shrinkage.
type Close struct {
	// AfterHour, when set (0–23), makes the hub close each store's day by
	// itself once the store's local clock passes that hour of the day
	// (23: at 23:00 store time). Unset: only `tillsync close` closes.
	AfterHour *int `yaml:"after_hour"`
	// Wait is how long the completeness audit waits for its re-deliveries
	// to be confirmed before it raises erp_missing (default 30s).
	Wait time.Duration `yaml:"wait"`
	// Cash is the cash policy: floats and tolerance.
	Cash CashPolicy `yaml:"cash"`
	// Shrinkage tunes the peer scoring of cashiers, registers and stores.
	Shrinkage ShrinkagePolicy `yaml:"shrinkage"`
}

// CashPolicy is how drawers are checked.
type CashPolicy struct {
	// Tolerance is the largest drawer variance, either sign, in minor
	// units, that counts as balanced (default 0: every cent counts).
	Tolerance event.Amount `yaml:"tolerance"`
	// DefaultFloat is the opening float of a register not listed in
	// Floats, in minor units.
	DefaultFloat event.Amount `yaml:"default_float"`
	// Floats are opening floats by store and register, in minor units
	// ({s1: {r1: 15000}}). A drawer count's "float" attribute wins.
	Floats map[string]map[string]event.Amount `yaml:"floats"`
}

// ShrinkagePolicy tunes shrinkage scoring (zero values: the defaults).
type ShrinkagePolicy struct {
	// Threshold is the robust z-score above which a metric stands out
	// (default 3.5).
	Threshold float64 `yaml:"threshold"`
	// MinSales is the fewest sales for a cashier, register or store to be
	// scored (default 20).
	MinSales int `yaml:"min_sales"`
	// OverrideReasons are words in a discount reason that mark a manual
	// price override.
	OverrideReasons []string `yaml:"override_reasons"`
}

func (c *Hub) validateClose(p *Problems) {
	cl := c.Close
	if cl.AfterHour != nil && (*cl.AfterHour < 0 || *cl.AfterHour > 23) {
		p.add("close.after_hour", "is %d; give an hour of the store's day from 0 to 23", *cl.AfterHour)
	}
	if cl.Wait < 0 {
		p.add("close.wait", "is %s; it must not be negative", cl.Wait)
	}
	if cl.Cash.Tolerance < 0 || cl.Cash.DefaultFloat < 0 {
		p.add("close.cash", "tolerance and default_float must not be negative (minor units)")
	}
	for s, regs := range cl.Cash.Floats {
		for r, f := range regs {
			if f < 0 {
				p.add("close.cash.floats."+s+"."+r, "is %d; a float must not be negative", f)
			}
		}
	}
	if cl.Shrinkage.Threshold < 0 || cl.Shrinkage.MinSales < 0 {
		p.add("close.shrinkage", "threshold and min_sales must not be negative")
	}
}
