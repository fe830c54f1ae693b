package reconcile

import (
	"strings"

	"github.com/tillsync/tillsync/internal/event"
)

// batch is the lines a PSP paid out together (one payout ID), or the
// children of a bank's batch booking.
type batch struct {
	id      string
	cur     string
	net     event.Amount // sum of the members' net amounts
	members []int32
	payout  int32 // the payout (or batch booking) line, or none
	deposit int32 // the bank deposit matched to it, or none
	settled int32 // the match that settled the payout, or none
	last    int32 // latest member day
	dirty   bool
}

// amount is what should reach the bank for the batch: its payout when
// there is one, else its net.
func (e *Engine) batchAmount(b *batch) event.Amount {
	if b.payout != none {
		return abs(e.lines[b.payout].Net)
	}
	return b.net
}

// addToBatch counts line j into the batch its reference names.
func (e *Engine) addToBatch(j int32) {
	l := &e.lines[j]
	if l.Refs.Batch == "" {
		return
	}
	b := e.lastBatch
	if b == nil || b.id != l.Refs.Batch {
		b = e.batches[l.Refs.Batch]
	}
	if b == nil {
		b = &batch{id: l.Refs.Batch, cur: l.Currency, payout: none, deposit: none, settled: none, last: day(l.Date)}
		e.batches[l.Refs.Batch] = b
	}
	e.lastBatch = b
	if !b.dirty {
		b.dirty = true
		e.dirty = append(e.dirty, b)
	}
	if e.ls[j].class == classDeposit {
		if b.payout == none {
			b.payout = j
		}
		return
	}
	b.members = append(b.members, j)
	b.net += l.Net
	if d := day(l.Date); d > b.last {
		b.last = d
	}
}

// matchBatches settles payouts whose batch adds up, or adds up less a small
// residue.
func (e *Engine) matchBatches() {
	for _, b := range e.dirty {
		b.dirty = false
		if b.payout == none || b.settled != none || e.ls[b.payout].match != none {
			continue
		}
		p := &e.lines[b.payout]
		want := abs(p.Net)
		if d := b.net - want; d >= -e.cfg.Tolerance && d <= e.cfg.Tolerance && len(b.members) > 0 {
			b.settled = e.matchGroup(RulePayout, group{lines: append(append([]int32{}, b.members...), b.payout), batch: b.id})
			continue
		}
		if keep, res, ok := e.residue(b, want); ok {
			b.settled = e.matchGroup(RuleDepositPartial, group{lines: append(keep, b.payout), batch: b.id, fee: res})
		}
	}
	e.dirty = e.dirty[:0]
}

// residue looks for one to three members of b whose net is what b has over
// want, and returns the other members.
func (e *Engine) residue(b *batch, want event.Amount) ([]int32, event.Amount, bool) {
	r := b.net - want
	n := len(b.members)
	if r == 0 || n < 2 || n > e.cfg.SubsetCap || e.cfg.SubsetCap == 0 {
		return nil, 0, false
	}
	net := func(k int) event.Amount { return e.lines[b.members[k]].Net }
	out := func(skip ...int) ([]int32, event.Amount, bool) {
		keep := make([]int32, 0, n)
	next:
		for k, j := range b.members {
			for _, s := range skip {
				if s == k {
					continue next
				}
			}
			keep = append(keep, j)
		}
		return keep, r, true
	}
	byNet := make(map[event.Amount]int, n)
	for k := 0; k < n; k++ {
		if net(k) == r {
			return out(k)
		}
		byNet[net(k)] = k
	}
	for a := 0; a < n; a++ {
		if c, ok := byNet[r-net(a)]; ok && c != a {
			return out(a, c)
		}
	}
	for a := 0; a < n; a++ {
		for c := a + 1; c < n; c++ {
			if x, ok := byNet[r-net(a)-net(c)]; ok && x != a && x != c {
				return out(a, c, x)
			}
		}
	}
	return nil, 0, false
}

// matchDeposits matches bank deposits to a batch they name, a batch of the
// same amount, or a day's card tenders of one store less fees.
func (e *Engine) matchDeposits() {
	var byAmount map[amountKey][]*batch
	var days map[dayKey]*dayGroup
	for _, j := range e.deposits {
		l := &e.lines[j]
		if e.ls[j].match != none || e.ls[j].flags&flagDuplicate != 0 {
			continue
		}
		if b := e.batches[l.Refs.Batch]; b != nil && b.payout == j {
			continue // a payout: settled with its batch
		}
		if e.depositNamedBatch(j) {
			continue
		}
		if byAmount == nil {
			byAmount = map[amountKey][]*batch{}
			for _, b := range e.batches {
				if b.deposit == none && (b.payout == none || e.lines[b.payout].Type != l.Type) {
					k := amountKey{b.cur, e.batchAmount(b)}
					byAmount[k] = append(byAmount[k], b)
				}
			}
		}
		if e.depositByAmount(j, byAmount) {
			continue
		}
		if days == nil {
			days = e.dayGroups()
		}
		e.depositDay(j, days)
	}
}

// depositBatch records deposit j as the bank's receipt of batch b.
func (e *Engine) depositBatch(r Rule, j int32, b *batch, keep []int32, res event.Amount) {
	lines := keep
	if lines == nil {
		lines = append([]int32{}, b.members...)
	}
	if b.payout != none && b.payout != j {
		lines = append(lines, b.payout)
	}
	lines = append(lines, j)
	b.deposit = j
	e.matchGroup(r, group{lines: lines, batch: b.id, fee: res})
}

// depositNamedBatch matches deposit j to a batch one of its references or
// words names.
func (e *Engine) depositNamedBatch(j int32) bool {
	l := &e.lines[j]
	r := &l.Refs
	cands := []string{r.Batch, r.EndToEnd, r.Customer, r.Payment, r.Merchant, r.Bank}
	cands = append(cands, strings.FieldsFunc(l.Description, func(c rune) bool {
		return c == ' ' || c == '/' || c == ',' || c == ';' || c == ':'
	})...)
	for _, id := range cands {
		b := e.batches[id]
		if id == "" || b == nil || b.deposit != none || b.payout == j || b.cur != l.Currency {
			continue
		}
		want := e.batchAmount(b)
		if d := want - abs(l.Net); d >= -e.cfg.Tolerance && d <= e.cfg.Tolerance {
			e.depositBatch(RuleDepositBatch, j, b, nil, 0)
			return true
		}
		if b.payout == none {
			if keep, res, ok := e.residue(b, abs(l.Net)); ok {
				e.depositBatch(RuleDepositPartial, j, b, keep, res)
				return true
			}
		}
	}
	return false
}

// depositByAmount matches deposit j to the only open batch of its amount
// whose last line is in the deposit window before it.
func (e *Engine) depositByAmount(j int32, byAmount map[amountKey][]*batch) bool {
	l := &e.lines[j]
	dd := day(l.Date)
	var found *batch
	n := 0
	for a := abs(l.Net) - e.cfg.Tolerance; a <= abs(l.Net)+e.cfg.Tolerance; a++ {
		for _, b := range byAmount[amountKey{l.Currency, a}] {
			if b.deposit == none && dd >= b.last && int(dd-b.last) <= e.cfg.DepositWindowDays {
				found = b
				n++
			}
		}
	}
	if n != 1 {
		return false
	}
	e.depositBatch(RuleDepositAmount, j, found, nil, 0)
	return true
}

// dayKey groups open card tenders by store, processor, currency and local
// day.
type dayKey struct {
	loc, proc, cur string
	day            int32
}

type dayGroup struct {
	tenders []int32
	gross   event.Amount
}

// dayGroups groups the open tenders by store, processor and local day.
func (e *Engine) dayGroups() map[dayKey]*dayGroup {
	out := map[dayKey]*dayGroup{}
	for _, i := range e.openT {
		if e.ts[i].match != none {
			continue
		}
		t := &e.tenders[i]
		d := day(t.At)
		if loc, err := event.LoadZone(t.Zone); err == nil {
			_, off := t.At.In(loc).Zone()
			d = day(t.At.Add(secondsDuration(off)))
		}
		k := dayKey{t.Location, t.Processor, t.Currency, d}
		g := out[k]
		if g == nil {
			g = &dayGroup{}
			out[k] = g
		}
		g.tenders = append(g.tenders, i)
		g.gross += t.Total()
	}
	return out
}

// depositDay matches deposit j to the only day of a store's open card
// tenders it can be less fees: its stated gross equals theirs, or it is at
// most MaxFeeBP below it.
func (e *Engine) depositDay(j int32, days map[dayKey]*dayGroup) bool {
	l := &e.lines[j]
	dd := day(l.Date)
	var found *dayGroup
	n := 0
	for k, g := range days {
		if k.cur != l.Currency || g.tenders == nil || dd < k.day || int(dd-k.day) > e.cfg.DepositWindowDays {
			continue
		}
		var ok bool
		if l.Gross != l.Net {
			d := g.gross - l.Gross
			ok = d >= -e.cfg.Tolerance && d <= e.cfg.Tolerance
		} else {
			floor := g.gross - event.Amount(int64(g.gross)*e.cfg.MaxFeeBP/10000)
			ok = l.Net >= floor && l.Net <= g.gross+e.cfg.Tolerance
		}
		if ok {
			found = g
			n++
		}
	}
	if n != 1 {
		return false
	}
	e.matchGroup(RuleDepositDay, group{tenders: found.tenders, lines: []int32{j}, fee: found.gross - l.Net})
	found.tenders = nil
	return true
}

// linkChargebacks links chargebacks (and reversals) to the sale they
// dispute, by the payment reference.
func (e *Engine) linkChargebacks() {
	for _, j := range e.chargebacks {
		if e.ls[j].match != none {
			continue
		}
		l := &e.lines[j]
		for _, ref := range []string{l.Original, l.Refs.Payment, l.Refs.Merchant} {
			h, ok := e.tByRef[ref]
			if ref == "" || !ok {
				continue
			}
			for i := h; i != none; i = e.ts[i].nextRef {
				if e.ts[i].flags&flagDuplicate == 0 && e.tenders[i].Reference == ref && e.tenders[i].Currency == l.Currency {
					m := int32(len(e.matches)) //nolint:gosec // G115: as above
					e.matches = append(e.matches, match{rule: RuleChargeback, tender: i, line: j, group: none})
					e.ls[j].match = m
					e.ls[j].flags &^= flagRaised // raise again, now with the sale
					e.stats.Rules[RuleChargeback]++
					break
				}
			}
			if e.ls[j].match != none {
				break
			}
		}
	}
}
