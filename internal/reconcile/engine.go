package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile/exception"
)

// none marks the end of an index chain and an open (unmatched) item.
const none int32 = -1

// item flags.
const (
	flagRaised    uint8 = 1 << iota // an exception is open for it
	flagDuplicate                   // fed again: ignored
	flagIndexed                     // in the card and amount indexes
)

// tstate is the engine's bookkeeping of one tender.
type tstate struct {
	match   int32 // index in matches, or none
	nextRef int32 // next tender with the same reference
	nextAlt int32 // next tender with the same card key / amount key
	flags   uint8
}

// lstate is the engine's bookkeeping of one line.
type lstate struct {
	match   int32 // the match settling it (tender or deposit side), or none
	nextRef int32
	nextAlt int32
	class   class
	flags   uint8
}

// cardKey finds open items by card: currency and last four (the date
// window is checked on each candidate).
type cardKey struct {
	cur   string
	last4 string
}

// amountKey finds open items by currency and amount.
type amountKey struct {
	cur    string
	amount event.Amount
}

// Engine matches tenders with settlement lines and deposits. Feed it with
// AddTenders and AddLines in any order, then Run; Review raises exceptions
// for what has stayed open too long. An Engine is not safe for concurrent
// use.
type Engine struct {
	cfg Config
	exc exception.Inbox

	tenders []Tender
	ts      []tstate
	lines   []Line
	ls      []lstate
	doneT   int // tenders before this index have been run
	doneL   int

	// Indexes of open items (matched ones are skipped when met, and dropped
	// when the index is rebuilt).
	tByRef  map[string]int32
	lByRef  map[string]int32
	tByCard map[cardKey]int32
	tByAmt  map[amountKey]int32
	lByCard map[cardKey]int32
	lByAmt  map[amountKey]int32
	// seen holds the keys of lines that were not matched by reference, and
	// of tenders without one, so that a file fed twice is counted once.
	seen map[string]struct{}

	openT       []int32 // tenders left open by a run
	openL       []int32 // payment and refund lines left open
	deposits    []int32 // deposit and payout lines not yet matched
	chargebacks []int32 // chargeback lines not yet linked

	batches   map[string]*batch
	lastBatch *batch   // lines of one batch mostly come together
	dirty     []*batch // batches that changed in this run
	// busy has a bit per tender that is matched, fed twice or shares its
	// reference (set whenever one of these becomes true, never cleared):
	// a clear bit lets a line take the tender without reading its state,
	// a bitmap that stays in cache where the states do not.
	busy []uint64
	// altIndexed counts entries put in the card and amount indexes since
	// they were last rebuilt.
	altIndexed int
	matches    []match
	groups     []group
	touched    []string // references with candidates on both sides but no pair
	toResolve  []resolution
	stats      Stats
	logSeq     int64 // see LogSeq
}

// NewEngine returns an empty engine. exc may be nil (nothing is raised).
func NewEngine(cfg Config, exc exception.Inbox) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Engine{
		cfg: cfg, exc: exc,
		tByRef: map[string]int32{}, lByRef: map[string]int32{},
		tByCard: map[cardKey]int32{}, tByAmt: map[amountKey]int32{},
		lByCard: map[cardKey]int32{}, lByAmt: map[amountKey]int32{},
		seen: map[string]struct{}{}, batches: map[string]*batch{},
	}, nil
}

// AddTenders queues tenders for the next Run. The engine keeps ts (when it
// holds no tenders yet it adopts the slice itself, without copying): do not
// change them afterwards.
func (e *Engine) AddTenders(ts ...Tender) {
	if e.tenders == nil {
		e.tenders = ts
	} else {
		e.tenders = append(e.tenders, ts...)
	}
}

// AddLines queues settlement lines for the next Run; like AddTenders, it
// may adopt the slice.
func (e *Engine) AddLines(ls ...Line) {
	if e.lines == nil {
		e.lines = ls
	} else {
		e.lines = append(e.lines, ls...)
	}
}

// Grow makes room for n more tenders and m more lines.
func (e *Engine) Grow(n, m int) {
	if cap(e.tenders)-len(e.tenders) < n {
		t := make([]Tender, len(e.tenders), len(e.tenders)+n)
		copy(t, e.tenders)
		e.tenders = t
	}
	if cap(e.lines)-len(e.lines) < m {
		l := make([]Line, len(e.lines), len(e.lines)+m)
		copy(l, e.lines)
		e.lines = l
	}
}

// day is the UTC day number of t.
func day(t time.Time) int32 {
	s := t.Unix()
	d := s / 86400
	if s < 0 && s%86400 != 0 {
		d--
	}
	return int32(d) //nolint:gosec // G115: day numbers of real dates fit
}

// Run matches everything queued since the last Run against each other and
// against what is still open, then auto-resolves the exceptions of items it
// matched. It returns an error only when ctx ends or the exceptions inbox fails;
// matches made stand either way.
func (e *Engine) Run(ctx context.Context) error {
	nt, nl := len(e.tenders), len(e.lines)
	e.ts = growState(e.ts, nt)
	for len(e.busy)*64 < nt {
		e.busy = append(e.busy, 0)
	}
	e.ls = growLState(e.ls, nl)
	if len(e.tByRef) == 0 && nt-e.doneT > 1024 {
		e.tByRef = make(map[string]int32, nt-e.doneT)
	}
	if want := len(e.matches) + min(nt-e.doneT, nl-e.doneL); cap(e.matches) < want {
		m := make([]match, len(e.matches), want)
		copy(m, e.matches)
		e.matches = m
	}

	// 1. New tenders: meet open lines by reference, else wait in the index.
	if len(e.tByRef) == 0 && len(e.lByRef) == 0 {
		e.bulkTenders(e.doneT, nt)
	} else {
		for i := e.doneT; i < nt; i++ {
			e.addTender(int32(i)) //nolint:gosec // G115: fewer than 2^31 items
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// 2. New lines: payments and refunds meet tenders by reference.
	var left []int32
	for j := e.doneL; j < nl; j++ {
		if e.addLine(int32(j)) { //nolint:gosec // G115: as above
			left = append(left, int32(j)) //nolint:gosec // G115: as above
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// 3. New tenders still open meet open lines by card and amount, else
	// join the card and amount indexes.
	for i := e.doneT; i < nt; i++ {
		if e.ts[i].match == none && e.ts[i].flags&flagDuplicate == 0 {
			e.altTender(int32(i)) //nolint:gosec // G115: as above
		}
	}
	// 4. Lines left over meet tenders by card and amount, else stay open.
	for _, j := range left {
		e.altLine(j)
	}
	// 5. Sums over a shared reference: one-to-many, many-to-one.
	e.matchTouched()
	// 6. Chargebacks to their sales; payouts and deposits to batches.
	e.linkChargebacks()
	e.matchBatches()
	e.matchDeposits()

	e.doneT, e.doneL = nt, nl
	e.prune()
	e.compact()
	e.compactAlt()
	return e.resolve(ctx)
}

func growState(s []tstate, n int) []tstate {
	if n <= len(s) {
		return s
	}
	old := len(s)
	s = append(s, make([]tstate, n-old)...)
	for i := old; i < n; i++ {
		s[i] = tstate{match: none, nextRef: none, nextAlt: none}
	}
	return s
}

func growLState(s []lstate, n int) []lstate {
	if n <= len(s) {
		return s
	}
	old := len(s)
	s = append(s, make([]lstate, n-old)...)
	for i := old; i < n; i++ {
		s[i] = lstate{match: none, nextRef: none, nextAlt: none}
	}
	return s
}

func (e *Engine) markBusy(i int32)    { e.busy[i>>6] |= 1 << (i & 63) }
func (e *Engine) isBusy(i int32) bool { return e.busy[i>>6]&(1<<(i&63)) != 0 }

// bulkTenders is step 1 for tenders [from, to) when nothing is indexed by
// reference yet (a first load): one map write per tender, and chains built
// afterwards for the few references that repeat.
func (e *Engine) bulkTenders(from, to int) {
	var repeated map[string]int32
	for i := from; i < to; i++ {
		t := &e.tenders[i]
		e.stats.Tenders++
		if t.Reference == "" {
			k := "t:" + t.Key()
			if _, dup := e.seen[k]; dup {
				e.duplicateTender(int32(i)) //nolint:gosec // G115: as above
				continue
			}
			e.seen[k] = struct{}{}
			continue
		}
		n := len(e.tByRef)
		e.tByRef[t.Reference] = int32(i) //nolint:gosec // G115: as above
		if len(e.tByRef) == n {
			if repeated == nil {
				repeated = map[string]int32{}
			}
			repeated[t.Reference] = none
		}
	}
	if repeated == nil {
		return
	}
	// Chain the tenders of each repeated reference in feed order, dropping
	// a tender fed twice.
	for i := from; i < to; i++ {
		t := &e.tenders[i]
		head, ok := repeated[t.Reference]
		if !ok || e.ts[i].flags&flagDuplicate != 0 {
			continue
		}
		dup := false
		for k := head; k != none; k = e.ts[k].nextRef {
			if o := &e.tenders[k]; o.Event == t.Event && o.Index == t.Index {
				dup = true
				break
			}
		}
		if dup {
			e.duplicateTender(int32(i)) //nolint:gosec // G115: as above
			continue
		}
		e.ts[i].nextRef = head
		e.markBusy(int32(i))             //nolint:gosec // G115: as above
		repeated[t.Reference] = int32(i) //nolint:gosec // G115: as above
	}
	for ref, head := range repeated {
		e.tByRef[ref] = head
	}
}

// addTender runs step 1 for tender i.
func (e *Engine) addTender(i int32) {
	t := &e.tenders[i]
	e.stats.Tenders++
	if t.Reference == "" {
		k := "t:" + t.Key()
		if _, dup := e.seen[k]; dup {
			e.duplicateTender(i)
			return
		}
		e.seen[k] = struct{}{}
		return
	}
	if len(e.lByRef) > 0 {
		if head, ok := e.lByRef[t.Reference]; ok {
			for j := head; j != none; j = e.ls[j].nextRef {
				if e.ls[j].match == none && hasRef(&e.lines[j], t.Reference) && e.fits(t, &e.lines[j]) {
					e.matchPair(RuleReference, i, j)
					break
				}
			}
			if e.ts[i].match == none {
				e.touched = append(e.touched, t.Reference)
			}
		}
	}
	head, ok := e.tByRef[t.Reference]
	if ok {
		for k := head; k != none; k = e.ts[k].nextRef {
			if o := &e.tenders[k]; o.Event == t.Event && o.Index == t.Index {
				if e.ts[i].match == none {
					e.duplicateTender(i)
					return
				}
			}
		}
		e.ts[i].nextRef = head
		e.markBusy(i)
	}
	e.tByRef[t.Reference] = i
}

func (e *Engine) duplicateTender(i int32) {
	e.ts[i].flags |= flagDuplicate
	e.markBusy(i)
	e.stats.Tenders--
	e.stats.DuplicateTenders++
}

// addLine runs step 2 for line j; it reports whether the line is left for
// step 4.
func (e *Engine) addLine(j int32) bool {
	l := &e.lines[j]
	st := &e.ls[j]
	st.class = classify(l)
	e.stats.Lines++
	if st.class != classTender {
		if e.duplicateLine(j) {
			return false
		}
		e.addToBatch(j)
		switch st.class {
		case classChargeback:
			e.chargebacks = append(e.chargebacks, j)
		case classDeposit:
			e.deposits = append(e.deposits, j)
		}
		return false
	}
	if l.Refs.Payment != "" {
		// Most lines carry the payment reference, and it is the one tills
		// record: try it before building the list.
		if i, ok := e.tByRef[l.Refs.Payment]; ok && !e.isBusy(i) && e.fits(&e.tenders[i], l) {
			e.matchPair(RuleReference, i, j)
			e.addToBatch(j)
			return false
		}
	}
	var buf [5]string
	for _, ref := range lineRefs(&buf, l) {
		head, ok := e.tByRef[ref]
		if !ok {
			continue
		}
		for i := head; i != none; i = e.ts[i].nextRef {
			ti := &e.ts[i]
			if ti.match == none {
				if ti.flags&flagDuplicate == 0 && e.fits(&e.tenders[i], l) {
					e.matchPair(RuleReference, i, j)
					e.addToBatch(j)
					return false
				}
				continue
			}
			if m := &e.matches[ti.match]; m.line != none && m.line != j && sameLine(&e.lines[m.line], l) {
				st.flags |= flagDuplicate
				e.stats.Lines--
				e.stats.DuplicateLines++
				return false
			}
		}
		e.touched = append(e.touched, ref)
	}
	return true
}

// lineRefs puts the references of a payment line that a tender's
// reference may equal in buf, most specific first, and returns them.
func lineRefs(buf *[5]string, l *Line) []string {
	r := &l.Refs
	out := buf[:0]
	for _, v := range [5]string{r.Payment, r.Merchant, r.EndToEnd, r.Customer, r.Bank} {
		if v != "" {
			out = append(out, v)
		}
	}
	if len(out) > 1 && r.Payment == "" && r.Merchant == "" && r.EndToEnd == "" && r.Customer == "" {
		return out[:1]
	}
	return out
}

// conflict reports whether tender and line both carry a payment reference
// and they differ: then no card or amount may pair them.
func conflict(t *Tender, l *Line) bool {
	return t.Reference != "" && l.Refs.Payment != "" && !hasRef(l, t.Reference)
}

// hasRef reports whether ref is one of l's references.
func hasRef(l *Line, ref string) bool {
	r := &l.Refs
	return ref == r.Payment || ref == r.Merchant || ref == r.EndToEnd || ref == r.Customer || ref == r.Bank
}

// duplicateLine reports (and records) whether line j was fed before; it is
// for lines not matched by reference.
func (e *Engine) duplicateLine(j int32) bool {
	k := "l:" + e.lines[j].Key()
	if _, dup := e.seen[k]; dup {
		e.ls[j].flags |= flagDuplicate
		e.stats.Lines--
		e.stats.DuplicateLines++
		return true
	}
	e.seen[k] = struct{}{}
	return false
}

// sameLine reports whether two lines are one booking read twice.
func sameLine(a, b *Line) bool {
	if a.Refs.Bank != "" || b.Refs.Bank != "" {
		return a.Format == b.Format && a.Refs.Bank == b.Refs.Bank
	}
	return a.File == b.File && a.Row == b.Row
}

// fits reports whether line l can settle tender t on its own: same
// currency, gross within tolerance of the tender's total, booked in the
// window.
func (e *Engine) fits(t *Tender, l *Line) bool {
	if t.Currency != l.Currency {
		return false
	}
	d := t.Total() - l.Gross
	if d < -e.cfg.Tolerance || d > e.cfg.Tolerance {
		return false
	}
	return e.inWindow(t, l)
}

func (e *Engine) inWindow(t *Tender, l *Line) bool {
	d := day(l.Date) - day(t.At)
	return d >= -1 && int(d) <= e.cfg.WindowDays
}

// altTender runs step 3 for open tender i.
func (e *Engine) altTender(i int32) {
	t := &e.tenders[i]
	if len(e.lByCard) > 0 || len(e.lByAmt) > 0 {
		if j := e.findLine(t); j != none {
			rule := RuleCard
			if e.lines[j].Refs.CardLastFour == "" {
				rule = RuleAmountDate
			}
			e.matchPair(rule, i, j)
			return
		}
	}
	e.indexTender(i)
	e.openT = append(e.openT, i)
}

// indexTender puts open tender i in the card and amount indexes (its
// nextAlt chains only one of them: the card index when it has a card).
func (e *Engine) indexTender(i int32) {
	t := &e.tenders[i]
	st := &e.ts[i]
	if st.flags&flagIndexed != 0 {
		return
	}
	st.flags |= flagIndexed
	e.altIndexed++
	if t.Last4 != "" {
		k := cardKey{t.Currency, t.Last4}
		if h, ok := e.tByCard[k]; ok {
			st.nextAlt = h
		}
		e.tByCard[k] = i
		return
	}
	k := amountKey{t.Currency, t.Total()}
	if h, ok := e.tByAmt[k]; ok {
		st.nextAlt = h
	}
	e.tByAmt[k] = i
}

// altLine runs step 4 for left-over line j.
func (e *Engine) altLine(j int32) {
	if e.ls[j].match != none || e.ls[j].flags&flagDuplicate != 0 {
		return
	}
	if e.duplicateLine(j) {
		return
	}
	e.addToBatch(j)
	l := &e.lines[j]
	if i := e.findTender(l); i != none {
		rule := RuleCard
		if l.Refs.CardLastFour == "" || e.tenders[i].Last4 == "" {
			rule = RuleAmountDate
		}
		e.matchPair(rule, i, j)
		return
	}
	e.indexLine(j)
	e.openL = append(e.openL, j)
}

// indexLine puts open line j in the reference and the card or amount
// indexes, once.
func (e *Engine) indexLine(j int32) {
	st := &e.ls[j]
	if st.flags&flagIndexed != 0 {
		return
	}
	st.flags |= flagIndexed
	e.refIndexLine(j)
	e.altIndexLine(j)
}

// refIndexLine puts line j in the reference index. A line is chained under
// its first reference; under the others it heads the chain only when none
// is there (walkers check the reference). Chains point at lower indexes
// only, so they cannot loop.
func (e *Engine) refIndexLine(j int32) {
	l := &e.lines[j]
	st := &e.ls[j]
	var buf [5]string
	for n, ref := range lineRefs(&buf, l) {
		h, ok := e.lByRef[ref]
		switch {
		case !ok:
			e.lByRef[ref] = j
		case n == 0 && h != j:
			st.nextRef = h
			e.lByRef[ref] = j
		}
	}
}

// altIndexLine puts line j in the card or amount index.
func (e *Engine) altIndexLine(j int32) {
	l := &e.lines[j]
	st := &e.ls[j]
	e.altIndexed++
	if l.Refs.CardLastFour != "" {
		k := cardKey{l.Currency, l.Refs.CardLastFour}
		if h, ok := e.lByCard[k]; ok {
			st.nextAlt = h
		}
		e.lByCard[k] = j
		return
	}
	k := amountKey{l.Currency, l.Gross}
	if h, ok := e.lByAmt[k]; ok {
		st.nextAlt = h
	}
	e.lByAmt[k] = j
}

// findTender looks for the one open tender line l settles by card (last
// four, auth code when both have one, amount, window) or, for a line without
// a card, by amount and day alone when exactly one tender fits.
func (e *Engine) findTender(l *Line) int32 {
	best, bestScore, ties := none, -1, 0
	consider := func(i int32, card bool) {
		t := &e.tenders[i]
		if e.ts[i].match != none || conflict(t, l) || !e.fits(t, l) {
			return
		}
		score, ok := pairScore(t, l, card)
		if !ok {
			return
		}
		switch {
		case score > bestScore:
			best, bestScore, ties = i, score, 1
		case score == bestScore:
			ties++
		}
	}
	if l.Refs.CardLastFour != "" {
		if i, ok := e.tByCard[cardKey{l.Currency, l.Refs.CardLastFour}]; ok {
			for ; i != none; i = e.ts[i].nextAlt {
				consider(i, true)
			}
		}
	} else {
		for a := l.Gross - e.cfg.Tolerance; a <= l.Gross+e.cfg.Tolerance; a++ {
			if i, ok := e.tByAmt[amountKey{l.Currency, a}]; ok {
				for ; i != none; i = e.ts[i].nextAlt {
					consider(i, false)
				}
			}
		}
	}
	if ties == 1 {
		return best
	}
	return none
}

// pairScore ranks a tender and a line that fit each other: found by card,
// an equal authorisation code counts 4 (a different one rules the pair
// out) and an equal gross amount 2; settling on the sale's day or the next
// counts 1.
func pairScore(t *Tender, l *Line, card bool) (int, bool) {
	score := 0
	if card {
		if t.AuthCode != "" && l.Refs.AuthCode != "" {
			if t.AuthCode != l.Refs.AuthCode {
				return 0, false
			}
			score += 4
		}
		if t.Total() == l.Gross {
			score += 2
		}
	}
	if d := day(l.Date) - day(t.At); d == 0 || d == 1 {
		score++
	}
	return score, true
}

// findLine is findTender from the tender's side, against open lines.
func (e *Engine) findLine(t *Tender) int32 {
	best, bestScore, ties := none, -1, 0
	consider := func(j int32, card bool) {
		l := &e.lines[j]
		if e.ls[j].match != none || conflict(t, l) || !e.fits(t, l) {
			return
		}
		score, ok := pairScore(t, l, card)
		if !ok {
			return
		}
		switch {
		case score > bestScore:
			best, bestScore, ties = j, score, 1
		case score == bestScore:
			ties++
		}
	}
	if t.Last4 != "" {
		if j, ok := e.lByCard[cardKey{t.Currency, t.Last4}]; ok {
			for ; j != none; j = e.ls[j].nextAlt {
				consider(j, true)
			}
		}
	}
	for a := t.Total() - e.cfg.Tolerance; a <= t.Total()+e.cfg.Tolerance; a++ {
		if j, ok := e.lByAmt[amountKey{t.Currency, a}]; ok {
			for ; j != none; j = e.ls[j].nextAlt {
				consider(j, false)
			}
		}
	}
	if ties == 1 {
		return best
	}
	return none
}

// prune drops matched items from the open lists.
func (e *Engine) prune() {
	keepT := e.openT[:0]
	for _, i := range e.openT {
		if e.ts[i].match == none {
			keepT = append(keepT, i)
		}
	}
	e.openT = keepT
	keepL := e.openL[:0]
	for _, j := range e.openL {
		if e.ls[j].match == none {
			keepL = append(keepL, j)
		}
	}
	e.openL = keepL
	keepD := e.deposits[:0]
	for _, j := range e.deposits {
		if e.ls[j].match == none {
			keepD = append(keepD, j)
		}
	}
	e.deposits = keepD
}

// compact rebuilds the reference indexes without matched items once these
// outnumber the open ones, so that a long-running engine's indexes hold
// what is open (and chargebacks still find sales matched in this run).
func (e *Engine) compact() {
	if len(e.tByRef) > 4096 && len(e.tByRef) > 4*len(e.openT) {
		m := make(map[string]int32, len(e.openT))
		for _, i := range e.openT {
			e.ts[i].nextRef = none
		}
		for _, i := range e.openT {
			t := &e.tenders[i]
			if t.Reference == "" {
				continue
			}
			if h, ok := m[t.Reference]; ok {
				e.ts[i].nextRef = h
				e.markBusy(i)
			}
			m[t.Reference] = i
		}
		e.tByRef = m
		e.stats.Compactions++
	}
}

// compactAlt rebuilds the card and amount indexes from the open items
// once matched ones outnumber them.
func (e *Engine) compactAlt() {
	if e.altIndexed < 4096 || e.altIndexed < 4*(len(e.openT)+len(e.openL)) {
		return
	}
	e.tByCard, e.tByAmt = map[cardKey]int32{}, map[amountKey]int32{}
	e.lByCard, e.lByAmt = map[cardKey]int32{}, map[amountKey]int32{}
	e.altIndexed = 0
	for _, i := range e.openT {
		e.ts[i].flags &^= flagIndexed
		e.ts[i].nextAlt = none
		e.indexTender(i)
	}
	e.lByRef = map[string]int32{}
	for _, j := range e.openL {
		e.ls[j].nextAlt, e.ls[j].nextRef = none, none
		e.refIndexLine(j)
		e.altIndexLine(j)
	}
}

// resolve auto-resolves the exceptions of items matched in this run.
func (e *Engine) resolve(ctx context.Context) error {
	list := e.toResolve
	e.toResolve = nil
	if e.exc == nil {
		return nil
	}
	for _, r := range list {
		if err := e.exc.Resolve(ctx, r.key, r.reason); err != nil {
			return fmt.Errorf("reconcile: resolve %s: %w", r.key, err)
		}
	}
	return nil
}

type resolution struct{ key, reason string }

func secondsDuration(s int) time.Duration { return time.Duration(s) * time.Second }
