package reconcile

import (
	"fmt"

	"github.com/tillsync/tillsync/internal/event"
)

// Rule names why items were matched.
type Rule uint8

// The rules, most certain first.
const (
	// RuleReference: the line carries the tender's processor reference and
	// the amounts agree (one tender, one line).
	RuleReference Rule = iota + 1
	// RuleReferenceSum: tenders and lines sharing a reference add up
	// (one-to-many: a charge and its tip adjustment; many-to-one: split
	// tenders charged as one).
	RuleReferenceSum
	// RuleCard: card last four (and authorisation code when both sides have
	// one), amount and date window agree, and no other open tender fits as
	// well.
	RuleCard
	// RuleAmountDate: no card or reference to go by, but exactly one open
	// tender has the amount within the window.
	RuleAmountDate
	// RuleChargeback: a chargeback (or its reversal) linked to the sale it
	// disputes.
	RuleChargeback
	// RulePayout: a PSP payout equals the net of its batch.
	RulePayout
	// RuleDepositBatch: a bank deposit names a batch (payout ID) and equals
	// its net.
	RuleDepositBatch
	// RuleDepositAmount: a bank deposit equals the net of exactly one open
	// batch in the window.
	RuleDepositAmount
	// RuleDepositDay: a bank deposit is a day's card tenders of one store
	// (and processor) less fees.
	RuleDepositDay
	// RuleDepositPartial: a deposit equals its batch less one to three lines
	// (paid out later, or held); those stay open.
	RuleDepositPartial
)

var ruleNames = [...]string{
	RuleReference: "reference", RuleReferenceSum: "reference_sum", RuleCard: "card",
	RuleAmountDate: "amount_date", RuleChargeback: "chargeback", RulePayout: "payout",
	RuleDepositBatch: "deposit_batch", RuleDepositAmount: "deposit_amount",
	RuleDepositDay: "deposit_day", RuleDepositPartial: "deposit_partial",
}

// Rules lists every rule in order.
var Rules = []Rule{
	RuleReference, RuleReferenceSum, RuleCard, RuleAmountDate, RuleChargeback,
	RulePayout, RuleDepositBatch, RuleDepositAmount, RuleDepositDay, RuleDepositPartial,
}

func (r Rule) String() string {
	if int(r) < len(ruleNames) && ruleNames[r] != "" {
		return ruleNames[r]
	}
	return fmt.Sprintf("rule(%d)", uint8(r))
}

// MarshalText implements encoding.TextMarshaler.
func (r Rule) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// match is one match, compact: a pair, or a group.
type match struct {
	rule   Rule
	tender int32 // the tender of a pair, or none
	line   int32 // the line of a pair, or none
	group  int32 // index in groups, or none
}

// group holds the items of a match of more than one on a side.
type group struct {
	tenders []int32
	lines   []int32
	batch   string
	// fee is what a deposit fell short of its tenders' gross.
	fee event.Amount
}

// matchPair records tender i settled by line j.
func (e *Engine) matchPair(r Rule, i, j int32) {
	m := int32(len(e.matches)) //nolint:gosec // G115: fewer than 2^31 matches
	e.matches = append(e.matches, match{rule: r, tender: i, line: j, group: none})
	e.ts[i].match = m
	e.markBusy(i)
	e.ls[j].match = m
	e.stats.Rules[r]++
	e.settledTender(i, m)
	e.settledLine(j, m)
}

// matchGroup records tenders and lines matched together.
func (e *Engine) matchGroup(r Rule, g group) int32 {
	m := int32(len(e.matches)) //nolint:gosec // G115: as above
	gi := int32(len(e.groups)) //nolint:gosec // G115: as above
	e.groups = append(e.groups, g)
	e.matches = append(e.matches, match{rule: r, tender: none, line: none, group: gi})
	for _, i := range g.tenders {
		e.ts[i].match = m
		e.markBusy(i)
		e.settledTender(i, m)
	}
	batchRule := r == RulePayout || r == RuleDepositBatch || r == RuleDepositAmount || r == RuleDepositPartial
	for _, j := range g.lines {
		if c := e.ls[j].class; batchRule && (c == classTender || c == classChargeback) {
			continue // paid out with its batch, but still owes the match to its tender
		}
		if e.ls[j].match == none {
			e.ls[j].match = m
			e.settledLine(j, m)
		}
	}
	e.stats.Rules[r]++
	return m
}

func (e *Engine) settledTender(i, m int32) {
	if st := &e.ts[i]; st.flags&flagRaised != 0 {
		st.flags &^= flagRaised
		e.toResolve = append(e.toResolve, resolution{tenderKey(&e.tenders[i]), "matched: " + e.explain(m)})
	}
}

func (e *Engine) settledLine(j, m int32) {
	if st := &e.ls[j]; st.flags&flagRaised != 0 {
		st.flags &^= flagRaised
		e.toResolve = append(e.toResolve, resolution{lineKey(&e.lines[j]), "matched: " + e.explain(m)})
	}
}

func tenderKey(t *Tender) string { return "reconcile:tender:" + t.Key() }
func lineKey(l *Line) string     { return "reconcile:line:" + l.Key() }

// matchTouched tries sums over each reference that had open items on both
// sides but no pair.
func (e *Engine) matchTouched() {
	refs := e.touched
	e.touched = nil
	done := map[string]bool{}
	for _, ref := range refs {
		if done[ref] {
			continue
		}
		done[ref] = true
		var g group
		var sumT, sumL event.Amount
		cur := ""
		if h, ok := e.tByRef[ref]; ok {
			for i := h; i != none; i = e.ts[i].nextRef {
				if e.ts[i].match == none && e.ts[i].flags&flagDuplicate == 0 {
					g.tenders = append(g.tenders, i)
					sumT += e.tenders[i].Total()
					cur = e.tenders[i].Currency
				}
			}
		}
		if h, ok := e.lByRef[ref]; ok {
			for j := h; j != none; j = e.ls[j].nextRef {
				if l := &e.lines[j]; e.ls[j].match == none && hasRef(l, ref) {
					g.lines = append(g.lines, j)
					sumL += l.Gross
				}
			}
		}
		if len(g.tenders) == 0 || len(g.lines) == 0 || len(g.tenders)+len(g.lines) < 3 {
			continue
		}
		if d := sumT - sumL; d < -e.cfg.Tolerance || d > e.cfg.Tolerance {
			continue
		}
		ok := true
		for _, j := range g.lines {
			l := &e.lines[j]
			if l.Currency != cur || !e.inWindow(&e.tenders[g.tenders[0]], l) {
				ok = false
			}
		}
		if ok {
			e.matchGroup(RuleReferenceSum, g)
		}
	}
}

// Match is a match as people and the API see it.
type Match struct {
	Rule        Rule     `json:"rule"`
	Tenders     []Tender `json:"tenders,omitempty"`
	Lines       []Line   `json:"lines,omitempty"`
	Explanation string   `json:"explanation"`
}

// Matches calls fn for every match made so far, in the order made; it stops
// when fn returns false.
func (e *Engine) Matches(fn func(Match) bool) {
	for m := range e.matches {
		if !fn(e.view(int32(m))) { //nolint:gosec // G115: as above
			return
		}
	}
}

func (e *Engine) view(m int32) Match {
	mt := &e.matches[m]
	v := Match{Rule: mt.rule, Explanation: e.explain(m)}
	for _, i := range e.matchTenders(mt) {
		v.Tenders = append(v.Tenders, e.tenders[i])
	}
	for _, j := range e.matchLines(mt) {
		v.Lines = append(v.Lines, e.lines[j])
	}
	return v
}

func (e *Engine) matchTenders(mt *match) []int32 {
	if mt.group != none {
		return e.groups[mt.group].tenders
	}
	if mt.tender != none {
		return []int32{mt.tender}
	}
	return nil
}

func (e *Engine) matchLines(mt *match) []int32 {
	if mt.group != none {
		return e.groups[mt.group].lines
	}
	if mt.line != none {
		return []int32{mt.line}
	}
	return nil
}

// explain says in words why match m was made.
func (e *Engine) explain(m int32) string {
	mt := &e.matches[m]
	switch mt.rule {
	case RuleReference:
		t, l := &e.tenders[mt.tender], &e.lines[mt.line]
		return fmt.Sprintf("reference %s and amount %s; %s; %s", t.Reference, e.amountWords(t.Money(), l.Money()), settledWords(t, l), grossWords(l))
	case RuleCard:
		t, l := &e.tenders[mt.tender], &e.lines[mt.line]
		auth := ""
		if t.AuthCode != "" && l.Refs.AuthCode != "" {
			auth = ", authorisation code " + t.AuthCode
		}
		return fmt.Sprintf("card ending %s%s and amount %s; %s; %s; no other open tender fits", t.Last4, auth, e.amountWords(t.Money(), l.Money()), settledWords(t, l), grossWords(l))
	case RuleAmountDate:
		t, l := &e.tenders[mt.tender], &e.lines[mt.line]
		return fmt.Sprintf("no reference or card to go by: amount %s, %s, and it is the only open tender that fits", e.amountWords(t.Money(), l.Money()), settledWords(t, l))
	case RuleChargeback:
		l := &e.lines[mt.line]
		if mt.tender == none {
			return fmt.Sprintf("%s of %s", l.Type, l.Money())
		}
		t := &e.tenders[mt.tender]
		return fmt.Sprintf("%s of %s (%s) disputes the sale %s of %s at %s on %s", l.Type, l.Money(), e.linkWords(t, l), t.Event, t.Money(), t.Location, t.At.Format("2006-01-02"))
	}
	g := &e.groups[mt.group]
	switch mt.rule {
	case RuleReferenceSum:
		t := &e.tenders[g.tenders[0]]
		return fmt.Sprintf("reference %s: %d tender(s) totalling %s and %d line(s) totalling %s agree", t.Reference,
			len(g.tenders), e.sumTenders(g.tenders), len(g.lines), e.sumLines(g.lines))
	case RulePayout, RuleDepositBatch, RuleDepositAmount, RuleDepositPartial:
		dep := &e.lines[g.lines[len(g.lines)-1]]
		n := len(g.lines) - 1
		why := map[Rule]string{
			RulePayout:         "payout %s of %s equals the net of batch %s's %d line(s)",
			RuleDepositBatch:   "deposit %s of %s names batch %s and equals the net of its %d line(s)",
			RuleDepositAmount:  "deposit %s of %s equals the net of batch %s's %d line(s), the only open batch of that amount in the window",
			RuleDepositPartial: "deposit %s of %s equals batch %s less a residue; %d line(s) settled, the rest stay open",
		}[mt.rule]
		s := fmt.Sprintf(why, dep.Where(), absMoney(dep.Money()), g.batch, n)
		if mt.rule == RuleDepositPartial {
			s += fmt.Sprintf(" (residue %s)", event.Money{Amount: g.fee, Currency: dep.Currency})
		}
		return s
	case RuleDepositDay:
		dep := &e.lines[g.lines[0]]
		t := &e.tenders[g.tenders[0]]
		gross := e.sumTenders(g.tenders)
		proc := ""
		if t.Processor != "" {
			proc = " via " + t.Processor
		}
		return fmt.Sprintf("deposit %s of %s is the %d card tender(s) of %s%s on %s, gross %s, less fees of %s (%s of gross)",
			dep.Where(), dep.Money(), len(g.tenders), t.Location, proc, localDay(t), gross,
			event.Money{Amount: g.fee, Currency: dep.Currency}, basisPoints(g.fee, gross.Amount))
	}
	return mt.rule.String()
}

func (e *Engine) sumTenders(ts []int32) event.Money {
	var m event.Money
	for _, i := range ts {
		m.Amount += e.tenders[i].Total()
		m.Currency = e.tenders[i].Currency
	}
	return m
}

func (e *Engine) sumLines(ls []int32) event.Money {
	var m event.Money
	for _, j := range ls {
		m.Amount += e.lines[j].Gross
		m.Currency = e.lines[j].Currency
	}
	return m
}

func (e *Engine) amountWords(t, l event.Money) string {
	if t.Amount == l.Amount {
		return t.String() + " equal"
	}
	return fmt.Sprintf("%s within %s of %s", l, event.Money{Amount: e.cfg.Tolerance, Currency: t.Currency}, t)
}

func (e *Engine) linkWords(t *Tender, l *Line) string {
	switch {
	case t.Reference != "" && (t.Reference == l.Original || hasRef(l, t.Reference)):
		return "reference " + t.Reference
	default:
		return "card ending " + t.Last4 + " and amount"
	}
}

func settledWords(t *Tender, l *Line) string {
	switch d := day(l.Date) - day(t.At); d {
	case 0:
		return "settled the day of the sale"
	case 1:
		return "settled 1 day after the sale"
	case -1:
		return "booked the day before the sale (UTC; the store's zone differs)"
	default:
		return fmt.Sprintf("settled %d days after the sale", d)
	}
}

func grossWords(l *Line) string {
	if l.Fee == 0 {
		return "net " + event.Money{Amount: l.Net, Currency: l.Currency}.String()
	}
	return fmt.Sprintf("net %s after fee %s", event.Money{Amount: l.Net, Currency: l.Currency}, event.Money{Amount: l.Fee, Currency: l.Currency})
}

func absMoney(m event.Money) event.Money {
	m.Amount = abs(m.Amount)
	return m
}

// localDay is the tender's day in its store's zone.
func localDay(t *Tender) string {
	if loc, err := event.LoadZone(t.Zone); err == nil {
		return t.At.In(loc).Format("2006-01-02")
	}
	return t.At.Format("2006-01-02") + " (UTC)"
}

// basisPoints formats part/whole as a percentage with two decimals, in
// integers.
func basisPoints(part, whole event.Amount) string {
	if whole == 0 {
		return "n/a"
	}
	bp := int64(part) * 10000 / int64(whole)
	return fmt.Sprintf("%d.%02d %%", bp/100, abs(event.Amount(bp%100)))
}
