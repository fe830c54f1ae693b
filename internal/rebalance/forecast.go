package rebalance

import (
	"math"
	"time"
)

// Day is one local calendar day of sales of one SKU at one location.
type Day struct {
	// Weekday is the store's local weekday.
	Weekday time.Weekday
	// Units is what sold that day (whole and fractional units).
	Units float64
	// Hours, when known, splits Units by local hour of day.
	Hours *[24]float64
	// Promo marks a day on promotion: its sales train the promotion lift,
	// not the baseline.
	Promo bool
	// Stockout marks a day the location ran out: its sales are a lower
	// bound of demand, so they can only raise the estimate.
	Stockout bool
}

// Params tunes the demand model's smoothing.
type Params struct {
	// Alpha smooths the level, Gamma the day-of-week factors, Beta the
	// promotion lift; Delta the dispersion estimate.
	Alpha, Gamma, Beta, Delta float64
	// Init is how many unmasked days seed the level and weekday factors.
	Init int
	// PriorUnits is how many units of evidence the prior weekday profile
	// is worth: a slow seller's own weekday factors, from a handful of
	// sales, lean on the prior (the location's profile across all SKUs).
	PriorUnits float64
}

// DefaultParams suit daily retail sales.
var DefaultParams = Params{Alpha: 0.1, Gamma: 0.15, Beta: 0.3, Delta: 0.05, Init: 21, PriorUnits: 30}

// Model is a demand forecast for one SKU at one location: a level (units
// per average day) times a day-of-week factor times an hour-of-day share,
// with a separate lift for promotion days and an over-dispersion estimate
// for the demand distribution. It is an exponentially smoothed,
// multiplicative seasonal model (Holt-Winters without trend) in which
// promotion and stockout days are masked so they do not bias the baseline.
type Model struct {
	Level float64
	// DOW has mean 1 over the week, indexed by time.Weekday.
	DOW [7]float64
	// Hour are the shares of a day's demand by local hour; they sum to 1.
	Hour [24]float64
	// PromoLift multiplies the baseline on promotion days.
	PromoLift float64
	// Phi is the variance-to-mean ratio of daily demand (≥ 1).
	Phi float64
	// Days is how many days trained the model.
	Days int

	p       Params
	prior   [7]float64
	ready   bool
	hourSum [24]float64
	pending []Day // days held until Init of them seed the model
}

// NewModel returns an untrained model with a flat prior week.
func NewModel(p Params) *Model { return NewModelWithPrior(p, nil) }

// NewModelWithPrior returns an untrained model whose weekday factors start
// from, and are shrunk towards, a prior profile (mean 1, by time.Weekday),
// typically the location's profile over all its SKUs.
func NewModelWithPrior(p Params, prior *[7]float64) *Model {
	if p.Init < 1 {
		p.Init = 1
	}
	m := &Model{PromoLift: 1, Phi: 1, p: p}
	for i := range m.DOW {
		m.prior[i] = 1
		if prior != nil && prior[i] > 0 {
			m.prior[i] = prior[i]
		}
		m.DOW[i] = m.prior[i]
	}
	for h := range m.Hour {
		m.Hour[h] = 1.0 / 24
	}
	return m
}

// Fit trains a new model on a history of consecutive days, oldest first.
func Fit(p Params, days []Day) *Model {
	m := NewModel(p)
	for _, d := range days {
		m.Observe(d)
	}
	return m
}

// Predict is the expected demand of a whole day with this weekday.
func (m *Model) Predict(wd time.Weekday, promo bool) float64 {
	f := m.Level * m.DOW[wd]
	if promo {
		f *= m.PromoLift
	}
	return f
}

// Observe updates the model with the next day.
func (m *Model) Observe(d Day) {
	m.Days++
	if !m.ready {
		if m.Days <= m.p.Init*4 {
			m.seed(d)
			return
		}
		m.ready = true // too few unmasked days to seed: learn as it goes
		m.pending = nil
	}
	if d.Hours != nil && !d.Promo && !d.Stockout {
		m.addHours(d.Hours)
	}
	f := m.Predict(d.Weekday, false)
	a := d.Units
	switch {
	case d.Promo:
		if f > 0.05 && !d.Stockout || d.Stockout && f > 0.05 && a/f > m.PromoLift {
			m.PromoLift += m.p.Beta * (a/f - m.PromoLift)
			if m.PromoLift < 1 {
				m.PromoLift = 1
			}
		}
	case d.Stockout:
		// Censored: demand was at least a. Only an under-forecast teaches.
		if a > f {
			m.update(d.Weekday, a, f, false)
		}
	default:
		m.update(d.Weekday, a, f, true)
	}
}

func (m *Model) update(wd time.Weekday, a, f float64, dispersion bool) {
	s := math.Max(m.DOW[wd], 0.25)
	level := m.p.Alpha*(a/s) + (1-m.p.Alpha)*m.Level
	if level > 1e-9 {
		// A day's evidence on its weekday factor grows with its volume:
		// one sale of a slow seller says little about Fridays.
		x := level * s
		g := m.p.Gamma * x / (x + m.p.PriorUnits/7)
		m.DOW[wd] = g*(a/level) + (1-g)*m.DOW[wd]
	}
	m.Level = level
	m.normDOW()
	if dispersion {
		fd := math.Max(f, 0.2)
		r := (a - f) * (a - f) / fd
		m.Phi += m.p.Delta * (r - m.Phi)
	}
}

// seed holds days until enough unmasked ones exist to start the level and
// weekday factors from their means.
func (m *Model) seed(d Day) {
	m.pending = append(m.pending, d)
	n := 0
	for _, x := range m.pending {
		if !x.Promo && !x.Stockout {
			n++
		}
	}
	if n < m.p.Init {
		return
	}
	var sum float64
	var wsum, wn [7]float64
	for _, x := range m.pending {
		if x.Promo || x.Stockout {
			continue
		}
		sum += x.Units
		wsum[x.Weekday] += x.Units
		wn[x.Weekday]++
		if x.Hours != nil {
			m.addHours(x.Hours)
		}
	}
	m.Level = sum / float64(n)
	for w := range 7 {
		if m.Level > 0 {
			m.DOW[w] = (wsum[w] + m.p.PriorUnits*m.prior[w]) / (wn[w]*m.Level + m.p.PriorUnits)
		}
	}
	m.normDOW()
	// Dispersion and promotion lift from the seed days themselves.
	var r float64
	for _, x := range m.pending {
		f := m.Predict(x.Weekday, false)
		switch {
		case x.Promo && f > 0.05 && !x.Stockout:
			m.PromoLift += m.p.Beta * (x.Units/f - m.PromoLift)
		case !x.Promo && !x.Stockout:
			r += (x.Units - f) * (x.Units - f) / math.Max(f, 0.2)
		}
	}
	m.Phi = math.Max(1, r/float64(n))
	m.pending = nil
	m.ready = true
}

func (m *Model) normDOW() {
	var s float64
	for _, v := range m.DOW {
		s += v
	}
	if s <= 0 {
		return
	}
	for i := range m.DOW {
		m.DOW[i] *= 7 / s
	}
}

func (m *Model) addHours(h *[24]float64) {
	var tot float64
	for i, v := range h {
		m.hourSum[i] += v
		tot += m.hourSum[i]
	}
	if tot <= 0 {
		return
	}
	// A weak flat prior keeps unseen hours above zero.
	const prior = 0.05
	for i := range m.Hour {
		m.Hour[i] = (m.hourSum[i] + prior*tot/24) / (tot * (1 + prior))
	}
}

// Between is the expected demand from one instant to another, integrating
// the weekday factors and the hour-of-day shares in the store's zone;
// promo reports whether a local day is on promotion.
func (m *Model) Between(from, to time.Time, loc *time.Location, promo func(day time.Time) bool) float64 {
	if !to.After(from) {
		return 0
	}
	if loc == nil {
		loc = time.UTC
	}
	var sum float64
	t := from.In(loc)
	end := to.In(loc)
	for t.Before(end) {
		next := t.Truncate(time.Hour)
		if next.Location() != loc {
			next = next.In(loc)
		}
		next = next.Add(time.Hour)
		if next.After(end) {
			next = end
		}
		frac := next.Sub(t).Hours()
		y, mo, d := t.Date()
		day := time.Date(y, mo, d, 0, 0, 0, 0, loc)
		sum += m.Predict(t.Weekday(), promo != nil && promo(day)) * m.Hour[t.Hour()] * frac
		t = next
	}
	return sum
}

// Dist is the demand distribution over a window with the given mean.
func (m *Model) Dist(mean float64) Dist { return Dist{Mean: mean, Phi: math.Max(1, m.Phi)} }
