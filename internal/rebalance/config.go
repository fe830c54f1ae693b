package rebalance

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tillsync/tillsync/internal/event"
)

// Config is the rebalance settings file: the lanes between locations,
// what a lost sale costs, pack sizes, display minimums and the rules that
// approve proposals without an operator.
type Config struct {
	// Currency of margins and lane costs (ISO 4217).
	Currency string `yaml:"currency" json:"currency"`
	// ReviewDays: how often plans run (a transfer covers its destination
	// from arrival until the next plan's transfers can arrive).
	ReviewDays float64 `yaml:"review_days" json:"review_days"`
	// SourceDays: the cover a source keeps for itself.
	SourceDays float64 `yaml:"source_days" json:"source_days"`
	// HistoryDays of sales train the forecast.
	HistoryDays int `yaml:"history_days" json:"history_days"`
	// Locations to plan across; empty: every location in the ledger.
	Locations []string `yaml:"locations" json:"locations,omitempty"`
	// DefaultLane applies between every pair of locations without a lane
	// of their own; Lanes override it (directional).
	DefaultLane LaneConfig   `yaml:"default_lane" json:"default_lane"`
	Lanes       []LaneConfig `yaml:"lanes" json:"lanes,omitempty"`
	// Margin is a lost sale's cost per unit in minor units; PackSize and
	// MinDisplay the defaults for SKUs not listed.
	Margin     int64       `yaml:"margin" json:"margin"`
	PackSize   int64       `yaml:"pack_size" json:"pack_size"`
	MinDisplay int64       `yaml:"min_display" json:"min_display"`
	SKUs       []SKUConfig `yaml:"skus" json:"skus,omitempty"`
	// AutoApprove approves proposals within these limits without an
	// operator; zero limits approve nothing automatically.
	AutoApprove AutoApprove `yaml:"auto_approve" json:"auto_approve"`
}

// LaneConfig is one lane in the settings file.
type LaneConfig struct {
	From        string  `yaml:"from" json:"from,omitempty"`
	To          string  `yaml:"to" json:"to,omitempty"`
	LeadDays    float64 `yaml:"lead_time_days" json:"lead_time_days"`
	CostPerUnit int64   `yaml:"cost_per_unit" json:"cost_per_unit"`
	// Disabled forbids transfers on this lane.
	Disabled bool `yaml:"disabled" json:"disabled,omitempty"`
}

// SKUConfig overrides the defaults for one SKU.
type SKUConfig struct {
	SKU        string `yaml:"sku" json:"sku"`
	Margin     int64  `yaml:"margin" json:"margin,omitempty"`
	PackSize   int64  `yaml:"pack_size" json:"pack_size,omitempty"`
	MinDisplay int64  `yaml:"min_display" json:"min_display,omitempty"`
}

// AutoApprove are the limits under which a proposal needs no operator.
type AutoApprove struct {
	MaxUnits int64 `yaml:"max_units" json:"max_units"`
	MaxCost  int64 `yaml:"max_cost" json:"max_cost"`
	// MinStockoutProbability: only when the destination is at least this
	// likely to run out.
	MinStockoutProbability float64 `yaml:"min_stockout_probability" json:"min_stockout_probability"`
}

// DefaultConfig is used when no settings file is given.
func DefaultConfig() Config {
	return Config{
		Currency: "EUR", ReviewDays: DefaultSettings.ReviewDays, SourceDays: DefaultSettings.SourceDays,
		HistoryDays: 56, DefaultLane: LaneConfig{LeadDays: 2, CostPerUnit: 100},
		Margin: 500, PackSize: 1,
	}
}

// LoadConfig reads a settings file strictly over the defaults.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("rebalance config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("rebalance config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("rebalance config %s: %w", path, err)
	}
	return c, nil
}

// Validate names every field that is wrong and how to fix it.
func (c *Config) Validate() error {
	var p []string
	add := func(f string, a ...any) { p = append(p, fmt.Sprintf(f, a...)) }
	if _, ok := event.MinorUnits(c.Currency); !ok {
		add("currency: %q is not an ISO 4217 code", c.Currency)
	}
	if c.ReviewDays <= 0 || c.ReviewDays > 60 {
		add("review_days: %v must be between 0 and 60 (how often plans run, in days)", c.ReviewDays)
	}
	if c.SourceDays < 0 || c.SourceDays > 120 {
		add("source_days: %v must be between 0 and 120", c.SourceDays)
	}
	if c.HistoryDays < 14 || c.HistoryDays > 730 {
		add("history_days: %d must be between 14 and 730; 56 learns eight weeks", c.HistoryDays)
	}
	lane := func(where string, l LaneConfig) {
		if l.LeadDays < 0 || l.LeadDays > 120 {
			add("%s.lead_time_days: %v must be between 0 and 120", where, l.LeadDays)
		}
		if l.CostPerUnit < 0 {
			add("%s.cost_per_unit: must not be negative", where)
		}
	}
	lane("default_lane", c.DefaultLane)
	for i, l := range c.Lanes {
		w := fmt.Sprintf("lanes[%d]", i)
		if l.From == "" || l.To == "" || l.From == l.To {
			add("%s: from and to must name two different locations", w)
		}
		lane(w, l)
	}
	if c.Margin < 0 {
		add("margin: must not be negative")
	}
	if c.PackSize < 1 {
		add("pack_size: must be at least 1")
	}
	if c.MinDisplay < 0 {
		add("min_display: must not be negative")
	}
	seen := map[string]bool{}
	for i, s := range c.SKUs {
		w := fmt.Sprintf("skus[%d]", i)
		if s.SKU == "" {
			add("%s.sku: required", w)
		}
		if seen[s.SKU] {
			add("%s.sku: %q listed twice", w, s.SKU)
		}
		seen[s.SKU] = true
		if s.Margin < 0 || s.PackSize < 0 || s.MinDisplay < 0 {
			add("%s: margin, pack_size and min_display must not be negative", w)
		}
	}
	if len(p) > 0 {
		return fmt.Errorf("not valid:\n  - %s", strings.Join(p, "\n  - "))
	}
	return nil
}

// settings are the planner settings of a config.
func (c *Config) settings() Settings {
	s := DefaultSettings
	s.Currency, s.ReviewDays, s.SourceDays = c.Currency, c.ReviewDays, c.SourceDays
	return s
}

// network builds the lanes between locations.
func (c *Config) network(locations []string) (*Network, error) {
	net, err := NewNetwork(locations, Lane{LeadDays: c.DefaultLane.LeadDays, CostPerUnit: c.DefaultLane.CostPerUnit})
	if err != nil {
		return nil, err
	}
	if c.DefaultLane.Disabled {
		for _, a := range locations {
			for _, b := range locations {
				net.NoLane(a, b)
			}
		}
	}
	for i, l := range c.Lanes {
		if _, ok := net.Index(l.From); !ok {
			return nil, fmt.Errorf("rebalance config: lanes[%d].from: unknown location %q", i, l.From)
		}
		if _, ok := net.Index(l.To); !ok {
			return nil, fmt.Errorf("rebalance config: lanes[%d].to: unknown location %q", i, l.To)
		}
		if l.Disabled {
			net.NoLane(l.From, l.To)
			continue
		}
		if err := net.SetLane(l.From, l.To, Lane{LeadDays: l.LeadDays, CostPerUnit: l.CostPerUnit}); err != nil {
			return nil, err
		}
	}
	return net, nil
}

// sku returns the margin, pack size and display minimum of a SKU.
func (c *Config) sku(sku string) (margin, pack, display int64) {
	margin, pack, display = c.Margin, c.PackSize, c.MinDisplay
	for _, s := range c.SKUs {
		if s.SKU == sku {
			if s.Margin > 0 {
				margin = s.Margin
			}
			if s.PackSize > 0 {
				pack = s.PackSize
			}
			if s.MinDisplay > 0 {
				display = s.MinDisplay
			}
		}
	}
	return margin, pack, display
}
