package rebalance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
	"github.com/tillsync/tillsync/internal/store"
)

// Observation is one SKU's sales at one location on one local day, the
// offline form of history (tillsync rebalance plan --input).
type Observation struct {
	SKU      string    `json:"sku"`
	Location string    `json:"location"`
	Date     string    `json:"date"` // YYYY-MM-DD, the store's local day
	Units    event.Qty `json:"units"`
	// Hours optionally splits Units by local hour (24 values).
	Hours    []event.Qty `json:"hours,omitempty"`
	Promo    bool        `json:"promo,omitempty"`
	Stockout bool        `json:"stockout,omitempty"`
}

// PositionInput is one SKU's ledger position at one location.
type PositionInput struct {
	SKU       string    `json:"sku"`
	Location  string    `json:"location"`
	OnHand    event.Qty `json:"on_hand"`
	Reserved  event.Qty `json:"reserved"`
	InTransit event.Qty `json:"in_transit"`
}

// Input is the offline planning input.
type Input struct {
	AsOf      time.Time         `json:"as_of,omitzero"`
	Config    *Config           `json:"config,omitempty"`
	Zones     map[string]string `json:"zones,omitempty"` // location → IANA zone
	Positions []PositionInput   `json:"positions"`
	History   []Observation     `json:"history"`
}

// Result is what tillsync rebalance plan prints.
type Result struct {
	AsOf      time.Time  `json:"as_of"`
	Locations int        `json:"locations"`
	Stats     Stats      `json:"stats"`
	Proposals []Proposal `json:"proposals"`
}

// seriesKey names one SKU at one location.
type seriesKey = inventory.Key

// dayAgg is one local day of a series.
type dayAgg struct {
	units    float64
	hours    [24]float64
	hasHours bool
	promo    float64 // units sold on promotion
	stockout bool
}

// history is sales per SKU, location and local day.
type history struct {
	days  map[seriesKey]map[string]*dayAgg
	zones map[string]*time.Location
}

func newHistory() *history {
	return &history{days: map[seriesKey]map[string]*dayAgg{}, zones: map[string]*time.Location{}}
}

func (h *history) day(k seriesKey, date string) *dayAgg {
	m := h.days[k]
	if m == nil {
		m = map[string]*dayAgg{}
		h.days[k] = m
	}
	d := m[date]
	if d == nil {
		d = &dayAgg{}
		m[date] = d
	}
	return d
}

func (h *history) zone(loc string) *time.Location {
	if z := h.zones[loc]; z != nil {
		return z
	}
	return time.UTC
}

// PlanInput plans from an offline input file.
func PlanInput(ctx context.Context, r io.Reader, name string, asOf time.Time, asOfGiven bool) (*Result, error) {
	var in Input
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("rebalance input %s: %w", name, err)
	}
	cfg := DefaultConfig()
	if in.Config != nil {
		cfg = *in.Config
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("rebalance input %s: config: %w", name, err)
		}
	}
	if !asOfGiven && !in.AsOf.IsZero() {
		asOf = in.AsOf.UTC()
	}
	h := newHistory()
	for loc, z := range in.Zones {
		l, err := event.LoadZone(z)
		if err != nil {
			return nil, fmt.Errorf("rebalance input %s: zones.%s: %w", name, loc, err)
		}
		h.zones[loc] = l
	}
	for i, o := range in.History {
		where := fmt.Sprintf("rebalance input %s: history[%d]", name, i)
		if o.SKU == "" || o.Location == "" {
			return nil, fmt.Errorf("%s: sku and location are required", where)
		}
		if _, err := time.Parse(time.DateOnly, o.Date); err != nil {
			return nil, fmt.Errorf("%s.date: %q is not YYYY-MM-DD", where, o.Date)
		}
		if o.Units < 0 || o.Units > event.Units(maxDaily) {
			return nil, fmt.Errorf("%s.units: %s is outside 0 … %d", where, o.Units, maxDaily)
		}
		if len(o.Hours) != 0 && len(o.Hours) != 24 {
			return nil, fmt.Errorf("%s.hours: want 24 values, got %d", where, len(o.Hours))
		}
		d := h.day(seriesKey{SKU: o.SKU, Location: o.Location}, o.Date)
		u := float64(o.Units) / event.QtyScale
		d.units += u
		if o.Promo {
			d.promo += u
		}
		d.stockout = d.stockout || o.Stockout
		for hr, q := range o.Hours {
			d.hours[hr] += float64(q) / event.QtyScale
			d.hasHours = true
		}
	}
	for i, p := range in.Positions {
		if p.SKU == "" || p.Location == "" {
			return nil, fmt.Errorf("rebalance input %s: positions[%d]: sku and location are required", name, i)
		}
		for f, q := range map[string]event.Qty{"on_hand": p.OnHand, "reserved": p.Reserved, "in_transit": p.InTransit} {
			if q < -event.Units(maxStock) || q > event.Units(maxStock) {
				return nil, fmt.Errorf("rebalance input %s: positions[%d].%s: %s is outside ±%d", name, i, f, q, maxStock)
			}
		}
	}
	return plan(ctx, &cfg, asOf, h, in.Positions)
}

// PlanStore plans from a hub's database: positions from the ledger, sales
// history from the event log (sales, fulfilments, less voids), promotion
// days from discounted lines, and stockout days from replaying the ledger
// in log order and seeing on hand reach zero.
func PlanStore(ctx context.Context, st *store.Store, cfg Config, asOf time.Time) (*Result, error) {
	rows, err := st.AllPositions(ctx)
	if err != nil {
		return nil, err
	}
	positions := make([]PositionInput, 0, len(rows))
	for _, r := range rows {
		positions = append(positions, PositionInput{SKU: r.SKU, Location: r.Location, OnHand: r.OnHand(), Reserved: r.Reserved, InTransit: r.InTransit})
	}
	h := newHistory()
	from := asOf.AddDate(0, 0, -cfg.HistoryDays-1)
	led := inventory.NewMemory()
	sales := map[string][]event.SaleLine{} // sale ID → lines, for voids
	var after int64
	for {
		batch, err := st.EventsAfter(ctx, after, 5000)
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			break
		}
		for _, s := range batch {
			after = s.Seq
			e := s.Event
			if e.OccurredAt.After(asOf) {
				continue
			}
			loc := time.UTC
			if z, err := event.LoadZone(e.Zone); err == nil {
				loc = z
				h.zones[e.Location] = z
			}
			local := e.OccurredAt.In(loc)
			date := local.Format(time.DateOnly)
			inWindow := !e.OccurredAt.Before(from)
			if inWindow {
				h.addEvent(e, date, local.Hour(), sales)
			}
			ch, err := led.Apply([]inventory.Applied{{Seq: s.Seq, Event: e}})
			if err != nil {
				return nil, fmt.Errorf("rebalance: replay ledger: %w", err)
			}
			if inWindow {
				for k, p := range ch.Positions {
					if p.OnHand() <= 0 {
						h.day(k, date).stockout = true
					}
				}
			}
		}
	}
	return plan(ctx, &cfg, asOf, h, positions)
}

// addEvent adds an event's demand to its local day.
func (h *history) addEvent(e *event.Event, date string, hour int, sales map[string][]event.SaleLine) {
	add := func(sku string, q event.Qty, promo bool, sign float64) {
		d := h.day(seriesKey{SKU: sku, Location: e.Location}, date)
		u := sign * float64(q) / event.QtyScale
		d.units += u
		d.hours[hour] += u
		d.hasHours = true
		if promo {
			d.promo += u
		}
	}
	switch b := e.Body.(type) {
	case *event.Sale:
		if b.OrderID != "" {
			return // settles an online order: counted at its fulfilment
		}
		sales[e.ID] = b.Lines
		for _, l := range b.Lines {
			add(l.SKU, l.Quantity, len(l.Discounts) > 0, 1)
		}
	case *event.Fulfilment:
		for _, l := range b.Lines {
			add(l.SKU, l.Quantity, false, 1)
		}
	case *event.Void:
		for _, l := range sales[b.VoidedEventID] {
			add(l.SKU, l.Quantity, len(l.Discounts) > 0, -1)
		}
	}
}

// plan fits the models, builds the SKU inputs and plans them.
func plan(ctx context.Context, cfg *Config, asOf time.Time, h *history, positions []PositionInput) (*Result, error) {
	locSet := map[string]bool{}
	locs := append([]string(nil), cfg.Locations...)
	for _, l := range locs {
		locSet[l] = true
	}
	restricted := len(locs) > 0
	if !restricted {
		for _, p := range positions {
			if !locSet[p.Location] {
				locSet[p.Location] = true
				locs = append(locs, p.Location)
			}
		}
		for k := range h.days {
			if !locSet[k.Location] {
				locSet[k.Location] = true
				locs = append(locs, k.Location)
			}
		}
		sort.Strings(locs)
	}
	res := &Result{AsOf: asOf, Locations: len(locs), Proposals: []Proposal{}}
	if len(locs) < 2 {
		return res, nil
	}
	net, err := cfg.network(locs)
	if err != nil {
		return nil, err
	}
	set := cfg.settings()
	horizon := int(math.Ceil(set.ReviewDays+set.SourceDays)) + 14
	// Each location's weekday profile across SKUs is the prior of its
	// slow sellers.
	priors := map[string]*[7]float64{}
	for k, days := range h.days {
		p := priors[k.Location]
		if p == nil {
			p = &[7]float64{}
			priors[k.Location] = p
		}
		for date, d := range days {
			t, _ := time.Parse(time.DateOnly, date)
			if d.promo == 0 && !d.stockout {
				p[t.Weekday()] += d.units
			}
		}
	}
	for _, p := range priors {
		var sum float64
		for _, v := range p {
			sum += v
		}
		for i := range p {
			if sum > 0 {
				p[i] *= 7 / sum
			} else {
				p[i] = 1
			}
		}
	}
	type siteData struct {
		pos   PositionInput
		model *Model
	}
	bySKU := map[string]map[string]*siteData{}
	get := func(sku, loc string) *siteData {
		m := bySKU[sku]
		if m == nil {
			m = map[string]*siteData{}
			bySKU[sku] = m
		}
		s := m[loc]
		if s == nil {
			s = &siteData{pos: PositionInput{SKU: sku, Location: loc}}
			m[loc] = s
		}
		return s
	}
	for _, p := range positions {
		if locSet[p.Location] {
			get(p.SKU, p.Location).pos = p
		}
	}
	for k, days := range h.days {
		if !locSet[k.Location] {
			continue
		}
		zone := h.zone(k.Location)
		today := asOf.In(zone)
		start := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, zone).AddDate(0, 0, -cfg.HistoryDays)
		m := NewModelWithPrior(DefaultParams, priors[k.Location])
		for i := range cfg.HistoryDays {
			day := start.AddDate(0, 0, i)
			obs := Day{Weekday: day.Weekday()}
			if d := days[day.Format(time.DateOnly)]; d != nil {
				obs.Units = math.Max(0, d.units)
				obs.Promo = d.promo > d.units/2
				obs.Stockout = d.stockout
				if d.hasHours {
					hrs := d.hours
					obs.Hours = &hrs
				}
			}
			m.Observe(obs)
		}
		get(k.SKU, k.Location).model = m
	}
	skus := make([]string, 0, len(bySKU))
	for s := range bySKU {
		skus = append(skus, s)
	}
	sort.Strings(skus)
	props, stats, err := PlanChain(ctx, net, set, asOf, len(skus), func(i int, in *SKUInput) error {
		sku := skus[i]
		margin, pack, display := cfg.sku(sku)
		in.SKU, in.Margin, in.PackSize = sku, margin, pack
		for _, loc := range locs {
			sd := bySKU[sku][loc]
			li, _ := net.Index(loc)
			site := Site{Loc: li, MinDisplay: display, Phi: 1, Daily: make([]float64, horizon)}
			if sd != nil {
				site.OnHand = int64(sd.pos.OnHand) / event.QtyScale
				site.Reserved = int64(sd.pos.Reserved) / event.QtyScale
				site.InTransit = int64(sd.pos.InTransit) / event.QtyScale
				if sd.model != nil {
					zone := h.zone(loc)
					for d := range horizon {
						from := asOf.Add(time.Duration(d) * 24 * time.Hour)
						site.Daily[d] = sd.model.Between(from, from.Add(24*time.Hour), zone, nil)
					}
					site.Phi = sd.model.Phi
				}
			}
			in.Sites = append(in.Sites, site)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Stats, res.Proposals = stats, props
	if res.Proposals == nil {
		res.Proposals = []Proposal{}
	}
	return res, nil
}
