package reconcile

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
)

// Stats count what the engine has seen and done.
type Stats struct {
	Tenders          int
	Lines            int
	DuplicateTenders int
	DuplicateLines   int
	Compactions      int
	Rules            [len(ruleNames)]int
}

// Summary is the state of a reconciliation for people and scripts.
type Summary struct {
	Tenders          int            `json:"tenders"`
	Lines            int            `json:"lines"`
	DuplicateTenders int            `json:"duplicate_tenders"`
	DuplicateLines   int            `json:"duplicate_lines"`
	Matches          int            `json:"matches"`
	ByRule           map[string]int `json:"by_rule"`
	MatchedTenders   int            `json:"matched_tenders"`
	OpenTenders      int            `json:"open_tenders"`
	OpenLines        int            `json:"open_lines"`
	OpenDeposits     int            `json:"open_deposits"`
	Chargebacks      int            `json:"chargebacks"`
	// OpenTenderTotals are the open tenders' totals per currency, in minor
	// units.
	OpenTenderTotals map[string]event.Amount `json:"open_tender_totals"`
}

// Summary reports counts as of the last Run.
func (e *Engine) Summary() Summary {
	s := Summary{
		Tenders: e.stats.Tenders, Lines: e.stats.Lines,
		DuplicateTenders: e.stats.DuplicateTenders, DuplicateLines: e.stats.DuplicateLines,
		Matches: len(e.matches), ByRule: map[string]int{}, OpenTenderTotals: map[string]event.Amount{},
	}
	for _, r := range Rules {
		if n := e.stats.Rules[r]; n > 0 {
			s.ByRule[r.String()] = n
		}
	}
	for _, i := range e.openT {
		if e.ts[i].match == none {
			s.OpenTenders++
			s.OpenTenderTotals[e.tenders[i].Currency] += e.tenders[i].Total()
		}
	}
	for i := range e.ts {
		if e.ts[i].match != none {
			s.MatchedTenders++
		}
	}
	for _, j := range e.openL {
		if e.ls[j].match == none {
			s.OpenLines++
		}
	}
	for _, j := range e.deposits {
		if e.ls[j].match == none {
			s.OpenDeposits++
		}
	}
	s.Chargebacks = len(e.chargebacks)
	return s
}

// OpenItem is a tender or line still unmatched.
type OpenItem struct {
	Tender *Tender `json:"tender,omitempty"`
	Line   *Line   `json:"line,omitempty"`
}

// Open calls fn for each open tender, payment or refund line, and deposit;
// it stops when fn returns false.
func (e *Engine) Open(fn func(OpenItem) bool) {
	for _, i := range e.openT {
		if e.ts[i].match == none && !fn(OpenItem{Tender: &e.tenders[i]}) {
			return
		}
	}
	for _, list := range [][]int32{e.openL, e.deposits} {
		for _, j := range list {
			if e.ls[j].match == none && !fn(OpenItem{Line: &e.lines[j]}) {
				return
			}
		}
	}
}

// Review raises an exception for every item open longer than the window at
// asOf, and for every chargeback; each is raised once (and again only when
// there is news: a chargeback linked to its sale). Matching one later
// resolves it in Run.
func (e *Engine) Review(ctx context.Context, asOf time.Time) error {
	if e.exc == nil {
		return nil
	}
	cutoff := day(asOf) - int32(e.cfg.WindowDays) //nolint:gosec // G115: small window
	for _, i := range e.openT {
		st := &e.ts[i]
		t := &e.tenders[i]
		if st.match != none || st.flags&flagRaised != 0 || day(t.At) >= cutoff {
			continue
		}
		if err := e.exc.Raise(ctx, e.tenderException(t)); err != nil {
			return fmt.Errorf("reconcile: raise: %w", err)
		}
		st.flags |= flagRaised
	}
	for _, list := range [][]int32{e.openL, e.deposits} {
		for _, j := range list {
			st := &e.ls[j]
			l := &e.lines[j]
			if st.match != none || st.flags&flagRaised != 0 || day(l.Date) >= cutoff {
				continue
			}
			if err := e.exc.Raise(ctx, e.lineException(l, st.class)); err != nil {
				return fmt.Errorf("reconcile: raise: %w", err)
			}
			st.flags |= flagRaised
		}
	}
	keep := e.chargebacks[:0]
	for _, j := range e.chargebacks {
		st := &e.ls[j]
		if st.flags&flagRaised == 0 {
			if err := e.exc.Raise(ctx, e.chargebackException(j)); err != nil {
				return fmt.Errorf("reconcile: raise: %w", err)
			}
			st.flags |= flagRaised
		}
		if st.match == none {
			keep = append(keep, j) // still looking for its sale
		}
	}
	e.chargebacks = keep
	return nil
}

// What an exception of kind settlement_unmatched is about: its evidence's
// "sub_kind", also the first words of its title.
const (
	// SubKindUnsettledTender: a card tender no settlement line or deposit
	// accounts for after the date window.
	SubKindUnsettledTender = "unsettled_tender"
	// SubKindUnmatchedLine: a settlement payment or refund no tender
	// accounts for.
	SubKindUnmatchedLine = "unmatched_settlement_line"
	// SubKindUnmatchedDeposit: a bank deposit or PSP payout no batch or day
	// of tenders adds up to.
	SubKindUnmatchedDeposit = "unmatched_deposit"
	// SubKindChargeback: a chargeback, with the sale it disputes when found.
	SubKindChargeback = "chargeback"
)

// titles start an exception's title by its sub-kind.
var titles = map[string]string{
	SubKindUnsettledTender:  "Unsettled tender",
	SubKindUnmatchedLine:    "Unmatched settlement line",
	SubKindUnmatchedDeposit: "Unmatched deposit",
	SubKindChargeback:       "Chargeback",
}

// unmatched is an exception of kind settlement_unmatched about sub; its
// evidence is a map[string]string of facts by name.
func unmatched(key, sub string, sev exception.Severity, m event.Money, at time.Time, ev map[string]string, what string) exception.Exception {
	ev["sub_kind"] = sub
	return exception.Exception{
		Key: key, Kind: exception.KindSettlementUnmatched, Severity: sev,
		Title: titles[sub] + ": " + what, Amount: &m, At: at.UTC(), Evidence: ev,
	}
}

func (e *Engine) tenderException(t *Tender) exception.Exception {
	ev := map[string]string{"event": t.Event, "tender": strconv.Itoa(t.Index), "location": t.Location}
	set(ev, "reference", t.Reference)
	set(ev, "card_last4", t.Last4)
	set(ev, "auth_code", t.AuthCode)
	set(ev, "processor", t.Processor)
	what := "card payment"
	if t.Amount < 0 {
		what = "card refund"
	}
	x := unmatched(tenderKey(t), SubKindUnsettledTender, exception.Warning, t.Money(), t.At, ev,
		fmt.Sprintf("%s of %s at %s on %s has not been settled within %d days", what, t.Money(), t.Location, localDay(t), e.cfg.WindowDays))
	x.Location, x.Zone, x.Subject = t.Location, t.Zone, "tender "+t.Key()
	return x
}

func (e *Engine) lineException(l *Line, c class) exception.Exception {
	ev := map[string]string{"file": l.File, "line": strconv.Itoa(l.Row), "type": string(l.Type)}
	r := l.Refs
	for k, v := range map[string]string{"bank_reference": r.Bank, "payment_reference": r.Payment, "merchant_reference": r.Merchant,
		"batch": r.Batch, "end_to_end": r.EndToEnd, "card_last4": r.CardLastFour, "auth_code": r.AuthCode, "description": l.Description} {
		set(ev, k, v)
	}
	var x exception.Exception
	if c == classDeposit {
		m := absMoney(event.Money{Amount: l.Net, Currency: l.Currency})
		what := fmt.Sprintf("%s of %s on %s (%s) matches no batch and no day of card tenders", l.Type, m, l.Date.Format("2006-01-02"), l.Where())
		if b := e.batches[l.Refs.Batch]; b != nil {
			ev["batch_net"] = event.Money{Amount: b.net, Currency: b.cur}.String()
			ev["batch_lines"] = strconv.Itoa(len(b.members))
			what = fmt.Sprintf("%s of %s on %s (%s) does not equal the net %s of batch %s's %d line(s)", l.Type, m, l.Date.Format("2006-01-02"), l.Where(),
				ev["batch_net"], b.id, len(b.members))
		}
		x = unmatched(lineKey(l), SubKindUnmatchedDeposit, exception.Error, m, l.Date, ev, what)
	} else {
		x = unmatched(lineKey(l), SubKindUnmatchedLine, exception.Warning, l.Money(), l.Date, ev,
			fmt.Sprintf("%s of %s on %s (%s) matches no till tender", l.Type, l.Money(), l.Date.Format("2006-01-02"), l.Where()))
	}
	x.Subject = string(l.Format) + " " + l.Where()
	return x
}

func (e *Engine) chargebackException(j int32) exception.Exception {
	l := &e.lines[j]
	x := e.lineException(l, classChargeback)
	ev := x.Evidence.(map[string]string)
	ev["sub_kind"] = SubKindChargeback
	x.Severity = exception.Error
	if m := e.ls[j].match; m != none {
		t := &e.tenders[e.matches[m].tender]
		ev["sale_event"] = t.Event
		ev["sale_location"] = t.Location
		x.Location, x.Zone = t.Location, t.Zone
		x.Title = titles[SubKindChargeback] + ": " + e.explain(m)
	} else {
		x.Title = titles[SubKindChargeback] + ": " + fmt.Sprintf("%s of %s on %s (%s): the sale it disputes is not found", l.Type, l.Money(), l.Date.Format("2006-01-02"), l.Where())
	}
	return x
}

func set(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}
