package closing

import (
	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile/cash"
	"github.com/tillsync/tillsync/internal/reconcile/completeness"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
	"github.com/tillsync/tillsync/internal/reconcile/shrinkage"
	"github.com/tillsync/tillsync/internal/store"
)

// FromConfig returns the closer a hub config describes: its stores and
// zones, its ERP destinations with their filters, and its close: section.
func FromConfig(cfg *config.Hub, st *store.Store, in exception.Inbox) *Closer {
	c := &Closer{Store: st, Inbox: in, Wait: cfg.Close.Wait,
		Shrinkage: shrinkage.Config{Threshold: cfg.Close.Shrinkage.Threshold, MinSales: cfg.Close.Shrinkage.MinSales,
			OverrideReasons: cfg.Close.Shrinkage.OverrideReasons}}
	for _, s := range cfg.Stores {
		c.Stores = append(c.Stores, Store{ID: s.ID, Zone: s.Zone})
	}
	for _, d := range cfg.Destinations {
		cd := completeness.Destination{Name: d.Name, Summary: d.Mode == "summary"}
		if len(d.Types) > 0 {
			cd.Types = map[event.Type]bool{}
			for _, t := range d.Types {
				cd.Types[event.Type(t)] = true
			}
		}
		if len(d.Locations) > 0 {
			cd.Locations = map[string]bool{}
			for _, l := range d.Locations {
				cd.Locations[l] = true
			}
		}
		c.Destinations = append(c.Destinations, cd)
	}
	policy := cfg.Close.Cash
	c.Cash = func(store string) cash.Config {
		return cash.Config{Floats: policy.Floats[store], DefaultFloat: policy.DefaultFloat, Tolerance: policy.Tolerance}
	}
	return c
}
