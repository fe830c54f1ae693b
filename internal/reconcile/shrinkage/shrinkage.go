// Package shrinkage scores cashiers, registers and stores for the signs of
// internal theft and sloppiness over a period — voids, refunds without a
// receipt, discounts, manual price overrides, cash shortages — against
// their peers in the same period, with robust z-scores (median and median
// absolute deviation, so the outlier being looked for cannot hide itself
// by inflating the spread). A subject far above its peers on a metric is a
// business anomaly: Report raises it with the values, the peer median and
// the events behind it.
//
// The canonical events carry no catalogue price, so a manual price
// override is a line discount whose free-text reason names one ("price
// override", "manual price", …; configurable), or a line sold below the
// list price when a list-price lookup is configured.
package shrinkage

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile/cash"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
)

// Level is what a subject is.
type Level string

// Levels, each scored against its own kind.
const (
	Cashier  Level = "cashier"
	Register Level = "register"
	Store    Level = "store"
)

// Metric names.
const (
	VoidRate          = "void_rate"
	NoReceiptRate     = "no_receipt_refund_rate"
	NoReceiptShare    = "no_receipt_refund_value_share"
	DiscountRate      = "discount_rate"
	OverrideRate      = "override_rate"
	CashShortageShare = "cash_shortage_share"
)

// Metrics lists the metrics in report order.
var Metrics = []string{VoidRate, NoReceiptRate, NoReceiptShare, DiscountRate, OverrideRate, CashShortageShare}

// Subject is a cashier, register or store. Cashiers and registers are
// named within their store.
type Subject struct {
	Level Level  `json:"level"`
	Store string `json:"store"`
	ID    string `json:"id"`
}

func (s Subject) String() string {
	if s.Level == Store {
		return "store " + s.Store
	}
	return fmt.Sprintf("%s %s at %s", s.Level, s.ID, s.Store)
}

// Activity is what a subject did in the period. Money is in Currency, the
// currency of its first sale; documents in another currency count in the
// rates by number but not by value.
type Activity struct {
	Currency         string       `json:"currency"`
	Sales            int          `json:"sales"`
	SalesValue       event.Amount `json:"sales_value"`
	Lines            int          `json:"lines"`
	GrossValue       event.Amount `json:"gross_value"`
	DiscountValue    event.Amount `json:"discount_value"`
	Overrides        int          `json:"overrides"`
	Voids            int          `json:"voids"`
	VoidValue        event.Amount `json:"void_value"`
	NoReceiptRefunds int          `json:"no_receipt_refunds"`
	NoReceiptValue   event.Amount `json:"no_receipt_value"`
	CashShortage     event.Amount `json:"cash_shortage"`
	Shifts           int          `json:"shifts"`
	// ShortShifts are the shifts short by more than the cash tolerance.
	ShortShifts int `json:"short_shifts"`
	// Events are the events behind each metric.
	Events map[string][]string `json:"events"`
}

// counted returns how many events lie behind a metric and out of how
// many chances (sales, lines, shifts): what the chance test compares.
func (a *Activity) counted(metric string) (events, exposure int) {
	switch metric {
	case VoidRate:
		return a.Voids, a.Sales
	case NoReceiptRate, NoReceiptShare:
		return a.NoReceiptRefunds, a.Sales
	case DiscountRate:
		return len(a.Events[DiscountRate]), a.Sales
	case OverrideRate:
		return a.Overrides, a.Lines
	case CashShortageShare:
		return a.ShortShifts, a.Shifts
	}
	return 0, 0
}

// Rate returns a metric's value: a dimensionless ratio.
func (a *Activity) Rate(metric string) float64 {
	switch metric {
	case VoidRate:
		return ratio(int64(a.Voids), int64(a.Sales))
	case NoReceiptRate:
		return ratio(int64(a.NoReceiptRefunds), int64(a.Sales))
	case NoReceiptShare:
		return ratio(int64(a.NoReceiptValue), int64(a.SalesValue))
	case DiscountRate:
		return ratio(int64(a.DiscountValue), int64(a.GrossValue))
	case OverrideRate:
		return ratio(int64(a.Overrides), int64(a.Lines))
	case CashShortageShare:
		return ratio(int64(a.CashShortage), int64(a.SalesValue))
	}
	return 0
}

func ratio(n, d int64) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func (a *Activity) note(metric, id string) {
	if a.Events == nil {
		a.Events = map[string][]string{}
	}
	ids := a.Events[metric]
	if len(ids) > 0 && ids[len(ids)-1] == id {
		return // another line of the same document
	}
	a.Events[metric] = append(ids, id)
}

// Config tunes scoring.
type Config struct {
	// Threshold is the robust z-score above which a metric is anomalous
	// (default 3.5, Iglewicz and Hoaglin's cut-off).
	Threshold float64
	// MinSales is the fewest sales a subject needs to be scored and to
	// count as a peer (default 20): a rate over three sales says nothing.
	MinSales int
	// MinPeers is the fewest scored subjects of a level for any of them to
	// be judged (default 5).
	MinPeers int
	// MinEvents is the fewest events behind a metric for it to be
	// flagged (default 3): one void is never an anomaly.
	MinEvents int
	// Alpha is the chance test's family-wise level (default 0.001): a
	// metric is flagged only if its count of events (voids, refunds,
	// discounted sales, overrides, short shifts) would be less likely than
	// Alpha/peers were the subject doing what its peers do on average
	// (Poisson upper tail at the peers' pooled rate times the subject's
	// sales, lines or shifts; Bonferroni over the peers scored). Peers'
	// rates are compared robustly; chance keeps a few rare events in a
	// quiet week from looking like a pattern.
	Alpha float64
	// CashTolerance is the shortage per shift below which a shift does not
	// count as short for the chance test (default 5.00 in minor units:
	// 500).
	CashTolerance event.Amount
	// OverrideReasons are words in a discount reason that mark a manual
	// price override (default: override, manual price, price change,
	// price adjust, price match).
	OverrideReasons []string
	// ListPrice, when set, returns a SKU's list price in a currency: a
	// line sold below it without a discount explaining it is an override.
	ListPrice func(sku, currency string) (event.Amount, bool)
}

func (c *Config) defaults() {
	if c.Threshold <= 0 {
		c.Threshold = 3.5
	}
	if c.MinSales <= 0 {
		c.MinSales = 20
	}
	if c.MinPeers <= 0 {
		c.MinPeers = 5
	}
	if c.MinEvents <= 0 {
		c.MinEvents = 3
	}
	if c.Alpha <= 0 {
		c.Alpha = 0.001
	}
	if c.CashTolerance <= 0 {
		c.CashTolerance = 500
	}
	if c.OverrideReasons == nil {
		c.OverrideReasons = []string{"override", "manual price", "price change", "price adjust", "price match"}
	}
}

// Score is one metric of one subject against its peers.
type Score struct {
	Metric     string  `json:"metric"`
	Value      float64 `json:"value"`
	PeerMedian float64 `json:"peer_median"`
	// MAD is the peers' median absolute deviation.
	MAD float64 `json:"mad"`
	Z   float64 `json:"z"`
	// Events is how many events lie behind the value, out of Exposure
	// chances; Chance is the probability of at least that many at the
	// peers' pooled rate.
	Events   int     `json:"events"`
	Exposure int     `json:"exposure"`
	Chance   float64 `json:"chance"`
}

// Scored is one subject's activity and scores.
type Scored struct {
	Subject  Subject  `json:"subject"`
	Activity Activity `json:"activity"`
	Scores   []Score  `json:"scores"`
}

// Anomaly is a subject far above its peers on at least one metric.
type Anomaly struct {
	Subject Subject `json:"subject"`
	Period  string  `json:"period"`
	// Flagged are the metrics above the threshold, highest z first.
	Flagged  []Score  `json:"flagged"`
	Activity Activity `json:"activity"`
	// Peers is how many subjects of its level were scored.
	Peers int `json:"peers"`
}

// Result is the scoring of one period.
type Result struct {
	Period    string    `json:"period"`
	Scored    []Scored  `json:"scored"`
	Anomalies []Anomaly `json:"anomalies"`
}

// Evaluate scores every cashier, register and store with activity in
// events (one period's events of every store to compare) and the period's
// counted cash shifts. target looks up the event a void reverses when it
// is not among events.
func Evaluate(period string, events []*event.Event, shifts []cash.Shift, target func(id string) *event.Event, cfg Config) Result {
	cfg.defaults()
	acts := collect(events, shifts, target, cfg)
	res := Result{Period: period}
	for _, level := range []Level{Cashier, Register, Store} {
		var subs []Subject
		for s, a := range acts {
			if s.Level == level && a.Sales >= cfg.MinSales {
				subs = append(subs, s)
			}
		}
		sort.Slice(subs, func(i, j int) bool { return subs[i].String() < subs[j].String() })
		scored := make([]Scored, len(subs))
		for i, s := range subs {
			scored[i] = Scored{Subject: s, Activity: *acts[s]}
		}
		if len(subs) >= cfg.MinPeers {
			for _, m := range Metrics {
				xs := make([]float64, len(subs))
				for i := range subs {
					xs[i] = scored[i].Activity.Rate(m)
				}
				med, mad, zs := RobustZ(xs)
				var events, exposure int
				for i := range subs {
					n, e := scored[i].Activity.counted(m)
					events, exposure = events+n, exposure+e
				}
				pooled := ratio(int64(events), int64(exposure))
				for i := range subs {
					n, e := scored[i].Activity.counted(m)
					scored[i].Scores = append(scored[i].Scores, Score{Metric: m, Value: xs[i], PeerMedian: med, MAD: mad, Z: zs[i],
						Events: n, Exposure: e, Chance: PoissonTail(n, pooled*float64(e))})
				}
			}
		}
		for _, s := range scored {
			var flagged []Score
			for _, sc := range s.Scores {
				if sc.Z > cfg.Threshold && sc.Events >= cfg.MinEvents && sc.Chance < cfg.Alpha/float64(len(subs)) {
					flagged = append(flagged, sc)
				}
			}
			if len(flagged) > 0 {
				sort.Slice(flagged, func(i, j int) bool { return flagged[i].Z > flagged[j].Z })
				res.Anomalies = append(res.Anomalies, Anomaly{Subject: s.Subject, Period: period, Flagged: flagged,
					Activity: s.Activity, Peers: len(subs)})
			}
		}
		res.Scored = append(res.Scored, scored...)
	}
	return res
}

// PoissonTail returns P(X ≥ k) for X Poisson with mean lambda.
func PoissonTail(k int, lambda float64) float64 {
	if k <= 0 {
		return 1
	}
	if lambda <= 0 {
		return 0
	}
	// 1 − P(X < k), summing terms in log space.
	term := math.Exp(-lambda) // P(X = 0)
	below := term
	for i := 1; i < k; i++ {
		term *= lambda / float64(i)
		below += term
	}
	return math.Max(0, 1-below)
}

// RobustZ returns the median of xs, their median absolute deviation and
// each value's robust z-score 0.6745·(x − median)/MAD. When more than half
// the values are equal (MAD 0) it falls back to the mean absolute
// deviation, (x − median)/(1.2533·MeanAD); when every value is equal all
// scores are 0.
func RobustZ(xs []float64) (median, mad float64, z []float64) {
	z = make([]float64, len(xs))
	if len(xs) == 0 {
		return 0, 0, z
	}
	median = medianOf(xs)
	dev := make([]float64, len(xs))
	var sum float64
	for i, x := range xs {
		dev[i] = math.Abs(x - median)
		sum += dev[i]
	}
	mad = medianOf(dev)
	meanAD := sum / float64(len(xs))
	for i, x := range xs {
		switch {
		case mad > 0:
			z[i] = 0.6745 * (x - median) / mad
		case meanAD > 0:
			z[i] = (x - median) / (1.253314 * meanAD)
		}
	}
	return median, mad, z
}

func medianOf(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// collect adds up each subject's activity.
func collect(events []*event.Event, shifts []cash.Shift, target func(string) *event.Event, cfg Config) map[Subject]*Activity {
	lookup := cash.Lookup(events, target)
	acts := map[Subject]*Activity{}
	each := func(store, register, cashier, currency string, f func(a *Activity, sameCurrency bool)) {
		subs := []Subject{{Level: Store, Store: store, ID: store}}
		if register != "" {
			subs = append(subs, Subject{Level: Register, Store: store, ID: register})
		}
		if cashier != "" {
			subs = append(subs, Subject{Level: Cashier, Store: store, ID: cashier})
		}
		for _, s := range subs {
			a := acts[s]
			if a == nil {
				a = &Activity{}
				acts[s] = a
			}
			if a.Currency == "" {
				a.Currency = currency
			}
			f(a, currency == "" || currency == a.Currency)
		}
	}
	for _, e := range events {
		switch b := e.Body.(type) {
		case *event.Sale:
			total := tenders(b.Tenders)
			each(e.Location, b.Register, b.Cashier, b.Currency, func(a *Activity, same bool) {
				a.Sales++
				if same {
					a.SalesValue += total
				}
				for _, l := range b.Lines {
					a.Lines++
					gross, disc := lineAmounts(l)
					if same {
						a.GrossValue += gross
						a.DiscountValue += disc
					}
					if disc > 0 {
						a.note(DiscountRate, e.ID)
					}
					if overridden(l, b.Currency, cfg) {
						a.Overrides++
						a.note(OverrideRate, e.ID)
					}
				}
			})
		case *event.Return:
			if b.OriginalEventID != "" || b.OriginalReceipt != "" {
				continue
			}
			total := tenders(b.Tenders)
			each(e.Location, b.Register, b.Cashier, b.Currency, func(a *Activity, same bool) {
				a.NoReceiptRefunds++
				if same {
					a.NoReceiptValue += total
				}
				a.note(NoReceiptRate, e.ID)
			})
		case *event.Void:
			t := lookup(b.VoidedEventID)
			register, cashier, currency := b.Register, b.Cashier, ""
			var value event.Amount
			if t != nil {
				if s, ok := t.Body.(*event.Sale); ok {
					register, cashier = or(register, s.Register), or(cashier, s.Cashier)
					currency, value = s.Currency, tenders(s.Tenders)
				}
			}
			each(e.Location, register, cashier, currency, func(a *Activity, same bool) {
				a.Voids++
				if same && currency != "" {
					a.VoidValue += value
				}
				a.note(VoidRate, e.ID)
			})
		}
	}
	for _, s := range shifts {
		if s.Open || s.Variance == nil {
			continue
		}
		each(s.Store, s.Register, s.Cashier, s.Currency, func(a *Activity, same bool) {
			a.Shifts++
			if *s.Variance < 0 && same {
				a.CashShortage += -*s.Variance
				a.note(CashShortageShare, s.CountEventID)
				if -*s.Variance > cfg.CashTolerance {
					a.ShortShifts++
				}
			}
		})
	}
	return acts
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func tenders(ts []event.Tender) event.Amount {
	var n event.Amount
	for _, t := range ts {
		n += t.Amount
	}
	return n
}

// lineAmounts returns a line's extended price before discounts and its
// discounts.
func lineAmounts(l event.SaleLine) (gross, disc event.Amount) {
	if l.Amount != nil {
		gross = *l.Amount
	} else if g, ok := l.Quantity.MulMinor(int64(l.UnitPrice)); ok {
		gross = event.Amount(g)
	}
	for _, d := range l.Discounts {
		disc += d.Amount
	}
	return gross, disc
}

func overridden(l event.SaleLine, currency string, cfg Config) bool {
	for _, d := range l.Discounts {
		r := strings.ToLower(d.Reason)
		for _, w := range cfg.OverrideReasons {
			if w != "" && strings.Contains(r, strings.ToLower(w)) {
				return true
			}
		}
	}
	if cfg.ListPrice != nil {
		if p, ok := cfg.ListPrice(l.SKU, currency); ok && l.UnitPrice < p {
			return true
		}
	}
	return false
}

// evidenceOf names the events list behind a metric.
func evidenceOf(metric string) string {
	if metric == NoReceiptShare {
		return NoReceiptRate
	}
	return metric
}

// Key is the exception key of a subject's anomaly in a period.
func Key(s Subject, period string) string {
	return exception.KindShrinkageAnomaly + ":" + string(s.Level) + ":" + s.Store + ":" + s.ID + ":" + period
}

// Report raises a shrinkage_anomaly exception per anomaly, with the
// flagged metrics, the peer medians and up to 100 events per metric, and
// resolves the key of every scored subject that is not anomalous (a
// rescoring with more data cleared it).
func Report(ctx context.Context, inbox exception.Inbox, res Result) error {
	flagged := map[Subject]bool{}
	for _, a := range res.Anomalies {
		flagged[a.Subject] = true
		parts := make([]string, len(a.Flagged))
		evidence := map[string][]string{}
		for i, f := range a.Flagged {
			parts[i] = fmt.Sprintf("%s %.1f%% vs peer median %.1f%% (z %.1f)", f.Metric, 100*f.Value, 100*f.PeerMedian, f.Z)
			ids := a.Activity.Events[evidenceOf(f.Metric)]
			if len(ids) > 100 {
				ids = ids[:100]
			}
			evidence[f.Metric] = ids
		}
		sev := exception.Warning
		if len(a.Flagged) >= 2 || a.Flagged[0].Z > 2*3.5 {
			sev = exception.Critical
		}
		err := inbox.Raise(ctx, exception.Exception{Key: Key(a.Subject, res.Period), Kind: exception.KindShrinkageAnomaly, Severity: sev,
			Location: a.Subject.Store, Subject: a.Subject.String(),
			Title: fmt.Sprintf("%s stands out from %d peers in %s: %s", a.Subject, a.Peers, res.Period, strings.Join(parts, "; ")),
			Evidence: map[string]any{"period": res.Period, "flagged": a.Flagged, "activity": a.Activity, "peers": a.Peers,
				"events": evidence}})
		if err != nil {
			return err
		}
	}
	for _, s := range res.Scored {
		if !flagged[s.Subject] && len(s.Scores) > 0 {
			if err := inbox.Resolve(ctx, Key(s.Subject, res.Period), "no longer stands out from its peers"); err != nil {
				return err
			}
		}
	}
	return nil
}
