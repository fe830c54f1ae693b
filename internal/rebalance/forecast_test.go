package rebalance

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// poisson draws a Poisson variate (Knuth; fine for small means).
func poisson(r *rand.Rand, mu float64) float64 {
	if mu > 30 {
		return math.Max(0, math.Round(mu+math.Sqrt(mu)*r.NormFloat64()))
	}
	l, k, p := math.Exp(-mu), 0.0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

var weekShape = [7]float64{0.7, 0.8, 0.85, 0.9, 1.1, 1.5, 1.15} // Sunday first

func TestForecastLearnsWeeklySeasonality(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	const level = 20.0
	var days []Day
	for d := range 16 * 7 {
		wd := time.Weekday(d % 7)
		days = append(days, Day{Weekday: wd, Units: poisson(r, level*weekShape[wd])})
	}
	m := Fit(DefaultParams, days)
	if math.Abs(m.Level-level)/level > 0.1 {
		t.Errorf("level %.2f, want %.2f ± 10%%", m.Level, level)
	}
	for wd := range 7 {
		if got, want := m.DOW[wd], weekShape[wd]; math.Abs(got-want) > 0.15 {
			t.Errorf("weekday %v factor %.2f, want %.2f", time.Weekday(wd), got, want)
		}
	}
	if m.Phi > 2 {
		t.Errorf("dispersion %.2f on Poisson data, want near 1", m.Phi)
	}
}

func TestForecastMasksPromotionsAndStockouts(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	const level = 10.0
	var clean, flagged, unflagged []Day
	for d := range 12 * 7 {
		wd := time.Weekday(d % 7)
		units := poisson(r, level*weekShape[wd])
		day := Day{Weekday: wd, Units: units}
		clean = append(clean, day)
		switch {
		case d%7 == 3 && d > 20: // a promotion every Wednesday: triple sales
			day.Units = units * 3
			day.Promo = true
		case d%11 == 5 && d > 20: // a stockout: almost nothing sold
			day.Units = math.Floor(units / 5)
			day.Stockout = true
		}
		flagged = append(flagged, day)
		day.Promo, day.Stockout = false, false
		unflagged = append(unflagged, day)
	}
	base := Fit(DefaultParams, clean)
	masked := Fit(DefaultParams, flagged)
	naive := Fit(DefaultParams, unflagged)
	for wd := range 7 {
		b, m, n := base.Predict(time.Weekday(wd), false), masked.Predict(time.Weekday(wd), false), naive.Predict(time.Weekday(wd), false)
		if math.Abs(m-b)/b > 0.15 {
			t.Errorf("%v: masked baseline %.2f drifts from the clean one %.2f", time.Weekday(wd), m, b)
		}
		if wd == 3 && math.Abs(n-b) < math.Abs(m-b) {
			t.Errorf("Wednesday: unmasked %.2f should be biased further from %.2f than masked %.2f", n, b, m)
		}
	}
	if masked.PromoLift < 2.4 || masked.PromoLift > 3.6 {
		t.Errorf("promotion lift %.2f, want about 3", masked.PromoLift)
	}
}

func TestForecastCensoredDaysRaiseOnly(t *testing.T) {
	t.Parallel()
	var days []Day
	for d := range 28 {
		days = append(days, Day{Weekday: time.Weekday(d % 7), Units: 10})
	}
	m := Fit(DefaultParams, days)
	before := m.Level
	// Demand doubled but the store kept running out at 15 units.
	for d := range 14 {
		m.Observe(Day{Weekday: time.Weekday(d % 7), Units: 15, Stockout: true})
	}
	if m.Level <= before*1.2 {
		t.Errorf("level %.2f after censored days selling 15, was %.2f: should rise", m.Level, before)
	}
	m2 := Fit(DefaultParams, days)
	for d := range 14 {
		m2.Observe(Day{Weekday: time.Weekday(d % 7), Units: 1, Stockout: true})
	}
	if m2.Level != before {
		t.Errorf("stockout days selling little moved the level from %.2f to %.2f", before, m2.Level)
	}
}

func TestForecastHourOfDay(t *testing.T) {
	t.Parallel()
	var hours [24]float64
	for h := 9; h < 21; h++ {
		hours[h] = 1
	}
	hours[12], hours[17] = 3, 3 // lunch and evening peaks
	var days []Day
	for d := range 28 {
		h := hours
		var sum float64
		for _, v := range h {
			sum += v
		}
		days = append(days, Day{Weekday: time.Weekday(d % 7), Units: sum, Hours: &h})
	}
	m := Fit(DefaultParams, days)
	if m.Hour[3] > 0.01 || m.Hour[12] < 2.5*m.Hour[10] {
		t.Errorf("hour shares: 03h %.3f, 10h %.3f, 12h %.3f", m.Hour[3], m.Hour[10], m.Hour[12])
	}
	// From 11:00 to 13:00 on a Monday: hours 11 and 12 = (1+3)/16 of a day.
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) // a Monday
	got := m.Between(day.Add(11*time.Hour), day.Add(13*time.Hour), time.UTC, nil)
	want := m.Predict(time.Monday, false) * (m.Hour[11] + m.Hour[12])
	if math.Abs(got-want) > 1e-9 || got < 0.2*m.Predict(time.Monday, false) {
		t.Errorf("Between 11–13h = %.3f, want %.3f", got, want)
	}
	// A whole week equals the sum of the weekday predictions.
	week := m.Between(day, day.AddDate(0, 0, 7), time.UTC, nil)
	var sum float64
	for wd := range 7 {
		sum += m.Predict(time.Weekday(wd), false)
	}
	if math.Abs(week-sum) > 1e-6 {
		t.Errorf("a week = %.4f, want %.4f", week, sum)
	}
}

func TestDistTailAndLoss(t *testing.T) {
	t.Parallel()
	// Poisson(2): P(D > 0) = 1 − e^-2.
	d := Dist{Mean: 2, Phi: 1}
	if got, want := d.StockoutProb(0), 1-math.Exp(-2); math.Abs(got-want) > 1e-12 {
		t.Errorf("P(D>0) = %v, want %v", got, want)
	}
	for _, dist := range []Dist{{Mean: 3, Phi: 1}, {Mean: 3, Phi: 2.5}, {Mean: 40, Phi: 3}} {
		c := newCurve(dist)
		// L(0) is the mean; L(s) − L(s+1) = P(D > s); L falls to zero.
		if c.Loss(0) != dist.Mean {
			t.Errorf("%+v: L(0) = %v", dist, c.Loss(0))
		}
		for s := int64(0); s < 200; s++ {
			if diff := c.Loss(s) - c.Loss(s+1); math.Abs(diff-c.Risk(s)) > 1e-9 {
				t.Fatalf("%+v: L(%d)−L(%d) = %v, P(D>%d) = %v", dist, s, s+1, diff, s, c.Risk(s))
			}
		}
		if c.Loss(400) > 1e-6 {
			t.Errorf("%+v: L(400) = %v", dist, c.Loss(400))
		}
		// The variance matches Phi × mean: Σ (2t+1) P(D>t) = E[D²].
		tail := dist.Tail(600)
		var m2 float64
		for t2, p := range tail {
			m2 += float64(2*t2+1) * p
		}
		if v := m2 - dist.Mean*dist.Mean; math.Abs(v-dist.Phi*dist.Mean)/(dist.Phi*dist.Mean) > 0.01 {
			t.Errorf("%+v: variance %.3f, want %.3f", dist, v, dist.Phi*dist.Mean)
		}
	}
}
