package notes

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/redact"
)

// Parser reads cashier notes as discounts. It is safe for concurrent use.
type Parser struct {
	red            *redact.Redactor
	phrases        []phrase
	custom         map[string]bool // words of operator phrases, for typo matching
	competitors    []competitor
	percentDefault map[string]bool
	fixedDefault   map[string]bool
	reasons        map[string]bool
	currency       string
	threshold      float64
}

// New returns a Parser for a validated configuration.
func New(c Config) (*Parser, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	red, err := redact.New(redact.Config{})
	if err != nil {
		return nil, fmt.Errorf("notes: %w", err)
	}
	p := &Parser{
		red:            red,
		phrases:        slices.Clone(defaultPhrases),
		custom:         map[string]bool{},
		percentDefault: map[string]bool{},
		fixedDefault:   map[string]bool{},
		reasons:        map[string]bool{},
		currency:       c.DefaultCurrency,
		threshold:      c.Threshold,
	}
	if p.threshold == 0 {
		p.threshold = DefaultThreshold
	}
	for k, v := range percentDefault {
		p.percentDefault[k] = v
	}
	for k, v := range fixedDefault {
		p.fixedDefault[k] = v
	}
	for _, r := range DefaultReasons() {
		p.reasons[r] = true
	}
	var extra []phrase
	for _, rc := range c.Reasons {
		p.reasons[rc.Code] = true
		if rc.PercentByDefault {
			p.percentDefault[rc.Code] = true
		}
		if rc.FixedByDefault {
			p.fixedDefault[rc.Code] = true
		}
		for _, w := range rc.Words {
			var words []string
			for _, t := range tokenize(w) {
				switch {
				case t.num:
					words = append(words, "#")
				case t.isWord():
					words = append(words, t.low)
					if len(t.low) >= 5 {
						p.custom[t.low] = true
					}
				}
			}
			extra = append(extra, phrase{words: words, reason: rc.Code})
		}
	}
	// Operator phrases come first: at one position the longest phrase
	// wins, and of equal length the operator's.
	p.phrases = append(extra, p.phrases...)
	slices.SortStableFunc(p.phrases, func(a, b phrase) int { return len(b.words) - len(a.words) })
	for _, dc := range defaultCompetitors {
		p.competitors = append(p.competitors, newCompetitor(dc.name, dc.aliases))
	}
	for _, n := range c.Competitors {
		p.competitors = append(p.competitors, newCompetitor(strings.TrimSpace(n), []string{n}))
	}
	return p, nil
}

func newCompetitor(name string, aliases []string) competitor {
	c := competitor{name: name}
	for _, a := range aliases {
		var seq []string
		for _, t := range tokenize(a) {
			if t.isWord() {
				seq = append(seq, t.low)
			}
		}
		if len(seq) > 0 {
			c.aliases = append(c.aliases, seq)
		}
	}
	return c
}

// Threshold is the confidence at or above which a result may be applied
// without review.
func (p *Parser) Threshold() float64 { return p.threshold }

// Known reports whether code is a reason of the parser's taxonomy.
func (p *Parser) Known(code string) bool { return p.reasons[code] }

// Reasons lists the parser's taxonomy: the defaults, then the operator's.
func (p *Parser) Reasons() []string {
	out := DefaultReasons()
	for r := range p.reasons {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out[len(DefaultReasons()):])
	return out
}

// Redact removes card data from a note, as Parse does first.
func (p *Parser) Redact(note string) string {
	s, _ := p.red.Text(note)
	return s
}

// hit is a reason phrase found in a note.
type hit struct {
	reason   string
	pos, end int // token range
	weak     bool
	fuzzy    bool
	negated  bool
}

// candidate is a number that may be the discount's value.
type candidate struct {
	pos         int
	val         string
	frac        int
	cur         string
	kind        Kind // decided by a marker, or "" when bare
	strength    int  // 3 percent/off/minus, 2 fixed-price cue, 1 currency, 0 bare
	strongFixed bool
}

// note is the working state of one parse.
type note struct {
	toks     []token
	excluded []bool // numbers that are not money: receipts, sizes, times, quantities
	used     []bool // tokens consumed by a reason phrase or a coupon code
}

// Parse reads one note. The note is redacted first; Result.Note is the
// redacted text.
func (p *Parser) Parse(text string) Result {
	red := p.Redact(text)
	res := Result{Note: red}
	n := &note{toks: spellNumbers(tokenize(red))}
	n.excluded = make([]bool, len(n.toks))
	n.used = make([]bool, len(n.toks))
	hits := p.reasonHits(n)
	n.excludeNonMoney()
	code, codeAt := couponCode(n)
	if code != "" {
		res.CouponCode = code
		if !slices.ContainsFunc(hits, func(h hit) bool { return h.reason == Coupon && !h.negated }) {
			hits = append(hits, hit{reason: Coupon, pos: codeAt, end: codeAt + 1})
		}
	}
	comp, compAt := p.findCompetitor(n)
	if comp != "" {
		hits = append(hits, hit{reason: PriceMatch, pos: compAt, end: compAt + 1, weak: true})
	}
	cands, special := candidates(n)
	cue := discountCue(n, cands, special)

	var chosen *hit
	for i := range hits {
		h := &hits[i]
		if h.negated || h.weak && !cue && !hasMoney(cands) {
			continue
		}
		if chosen == nil || better(h, chosen) {
			chosen = h
		}
	}
	reason := ""
	switch {
	case chosen != nil:
		reason = chosen.reason
	case cue:
		reason = Other
	}
	if reason == "" {
		res.Confidence = noDiscountConfidence(hits, cands)
		return res
	}
	res.ReasonCode = reason
	if reason == PriceMatch {
		res.Competitor = comp
	}
	if reason != Coupon && !slices.ContainsFunc(hits, func(h hit) bool { return h.reason == Coupon && !h.negated }) {
		res.CouponCode = ""
	}
	res.ApprovedBy = approver(n)

	at := 0
	if chosen != nil {
		at = chosen.pos
	}
	c, ambiguous := pick(cands, special, at)
	unexplained := n.unexplained(res.ApprovedBy)
	// A reason word with no value and no discount word in a note that is
	// mostly about something else ("senior customer needed help to car")
	// describes the customer, not a discount.
	if chosen != nil && c == nil && !cue && unexplained >= 2 {
		return Result{Note: red, Confidence: 0.6}
	}
	if c != nil {
		res.Kind = p.kindOf(c, reason)
		res.Value, res.Currency = p.valueOf(c, res.Kind)
	}
	res.Confidence = discountConfidence(chosen, hits, c, ambiguous, n, unexplained)
	return res
}

// better reports whether hit a should be the note's reason rather than b:
// the higher tier, then the strong over the weak, then the first typed.
func better(a, b *hit) bool {
	if ta, tb := tier(a.reason), tier(b.reason); ta != tb {
		return ta > tb
	}
	if a.weak != b.weak {
		return !a.weak
	}
	return a.pos < b.pos
}

func hasMoney(cs []candidate) bool {
	for _, c := range cs {
		if c.strength >= 1 {
			return true
		}
	}
	return false
}

// spellNumbers turns number words into numbers where an amount follows
// ("ten percent off", "twenty five percent", "five dollars").
func spellNumbers(toks []token) []token {
	out := toks[:0:0]
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		v, ok := numberWords[t.low]
		if !ok || t.num {
			out = append(out, t)
			continue
		}
		j := i + 1
		if v >= 20 && v < 100 && j < len(toks) {
			if u, ok := numberWords[toks[j].low]; ok && u < 10 {
				v += u
				j++
			}
		}
		if j < len(toks) && (toks[j].sym == '%' || slices.Contains([]string{"percent", "off", "dollar", "pound", "euro"}, toks[j].word)) {
			out = append(out, token{raw: t.raw, num: true, val: strconv.Itoa(v)})
			i = j - 1
			continue
		}
		if t.low == "one" { // "buy one get one"
			out = append(out, token{raw: t.raw, low: t.low, word: "one", num: false})
			continue
		}
		out = append(out, t)
	}
	return out
}

// nonMoneyBefore are words after which a number is not money.
var nonMoneyBefore = map[string]bool{
	"receipt": true, "order": true, "ref": true, "size": true, "aisle": true, "sku": true, "upc": true,
	"id": true, "lane": true, "till": true, "register": true, "ticket": true, "line": true, "items": true,
	"card": true, "qty": true, "x": true, "over": true, "under": true, "no": true, "number": true,
	"store": true, "hem": true, "table": true, "room": true, "wait": true, "waited": true,
}

// referenceBefore are words after which a number is a reference price, not
// the discount ("was 549.99", "ours 24.99", "rang 19.99").
var referenceBefore = map[string]bool{
	"was": true, "ours": true, "reg": true, "regular": true, "orig": true, "original": true, "from": true,
	"rang": true, "msrp": true, "retail": true, "list": true,
}

// nonMoneyAfter are words before which a number is not money.
var nonMoneyAfter = map[string]bool{
	"items": true, "minutes": true, "hours": true, "pm": true, "am": true, "of": true, "x": true,
	"cash": true, "card": true, "cards": true, "inches": true, "in": true, "days": true, "years": true,
	"yrs": true, "weeks": true, "times": true, "people": true, "bags": true, "boxes": true, "pairs": true,
	"inch": true, "cm": true, "mm": true, "kg": true, "lb": true, "lbs": true, "oz": true, "ml": true,
}

// excludeNonMoney marks the numbers that cannot be a discount's value.
func (n *note) excludeNonMoney() {
	t := n.toks
	for i := range t {
		if !t[i].num {
			continue
		}
		if t[i].when || t[i].val == "" || t[i].val == "0" || strings.Trim(t[i].val, "0.") == "" {
			n.excluded[i] = true
			continue
		}
		prev := prevWord(t, i, n.used)
		marked := i+1 < len(t) && (t[i+1].sym == '%' || t[i+1].word == "percent" || t[i+1].word == "off" || t[i+1].cur != "")
		if i > 0 && t[i-1].sym == '#' || nonMoneyBefore[prev] && !marked || referenceBefore[prev] {
			n.excluded[i] = true
			continue
		}
		if i+1 < len(t) && t[i+1].isWord() && !t[i+1].gap && ordinal[t[i+1].low] {
			n.excluded[i] = true // "2nd item"
			continue
		}
		if i+1 < len(t) && t[i+1].isWord() && nonMoneyAfter[t[i+1].word] {
			n.excluded[i] = true
			continue
		}
		// A long whole number with no currency and no percent sign is a
		// receipt, order or reference number.
		hasCur := i > 0 && t[i-1].cur != "" || i+1 < len(t) && t[i+1].cur != ""
		percent := i+1 < len(t) && t[i+1].sym == '%'
		if t[i].frac == 0 && len(t[i].val) >= 4 && !hasCur && !percent {
			n.excluded[i] = true
			continue
		}
		// "3 for 2": a multi-buy, not a price.
		if i+2 < len(t) && t[i+1].word == "for" && t[i].frac == 0 && !hasCur && len(t[i].val) == 1 {
			if t[i+2].num && t[i+2].frac == 0 {
				n.excluded[i], n.excluded[i+2] = true, true
			} else if i+3 < len(t) && t[i+2].cur != "" && t[i+3].num {
				n.excluded[i], n.excluded[i+3] = true, true // "2 for $10"
			}
		}
	}
}

// prevWord is the word just before token i, skipping one currency symbol
// or punctuation mark.
func prevWord(t []token, i int, inPhrase []bool) string {
	for j, skipped := i-1, 0; j >= 0 && skipped < 2; j-- {
		if t[j].isWord() {
			if inPhrase[j] {
				return "" // "end of line 3.00": the reason's own word
			}
			return t[j].word
		}
		if t[j].num {
			return ""
		}
		skipped++
	}
	return ""
}

// reasonHits finds the reason phrases of a note, longest first at each
// position, and marks the negated ones.
func (p *Parser) reasonHits(n *note) []hit {
	var hits []hit
	t := n.toks
	for i := 0; i < len(t); {
		matched := false
		for _, ph := range p.phrases {
			end, fuzzy, ok := p.matchPhrase(t, i, ph.words)
			if !ok {
				continue
			}
			h := hit{reason: ph.reason, pos: i, end: end, weak: ph.weak, fuzzy: fuzzy}
			h.negated = negated(t, i, end)
			for k := i; k < end; k++ {
				n.used[k] = true
			}
			if ph.reason == Bundle && len(ph.words) > 1 {
				for k := i; k < end; k++ {
					if t[k].num {
						n.excluded[k] = true
					}
				}
			}
			hits = append(hits, h)
			i, matched = end, true
			break
		}
		if !matched {
			i++
		}
	}
	return hits
}

// matchPhrase matches a phrase's words at t[i:], skipping punctuation
// between words ("price-match", "team/member"); "#" matches a number.
func (p *Parser) matchPhrase(t []token, i int, words []string) (int, bool, bool) {
	fuzzy := false
	j := i
	for k, w := range words {
		if k > 0 {
			for j < len(t) && t[j].sym != 0 && t[j].sym != '%' {
				j++
			}
		}
		if j >= len(t) {
			return 0, false, false
		}
		tk := t[j]
		switch {
		case w == "#":
			if !tk.num && tk.word != "one" {
				return 0, false, false
			}
		case tk.num || tk.word == "":
			return 0, false, false
		case tk.word == w || tk.low == w:
			fuzzy = fuzzy || tk.fuzzy && tk.word == w
		case p.custom[w] && len(tk.low) >= 4 && editDistance(tk.low, w, 1) <= 1:
			fuzzy = true
		default:
			return 0, false, false
		}
		j++
	}
	return j, fuzzy, true
}

var negators = map[string]bool{"no": true, "not": true, "non": true, "without": true, "never": true}

var refusals = map[string]bool{"expired": true, "invalid": true, "rejected": true, "declined": true,
	"denied": true, "refused": true}

var notVerbs = map[string]bool{"accepted": true, "valid": true, "found": true, "applied": true,
	"allowed": true, "eligible": true, "honored": true, "honoured": true, "working": true, "apply": true}

// negated reports whether the phrase at t[i:end] is denied: "no override",
// "coupon expired", "loyalty number not found".
func negated(t []token, i, end int) bool {
	for j, seen := i-1, 0; j >= 0 && seen < 2; j-- {
		if t[j].isWord() {
			if negators[t[j].word] {
				return true
			}
			seen++
		}
	}
	for j, seen := end, 0; j < len(t) && seen < 3; j++ {
		if !t[j].isWord() {
			continue
		}
		seen++
		if seen == 1 && t[j].word == "no" && j > end {
			return true // "price matched? no"
		}
		if refusals[t[j].word] {
			return true
		}
		if t[j].word == "not" && j+1 < len(t) && notVerbs[t[j+1].low] {
			return true
		}
	}
	return false
}

// couponCode finds a code after "coupon", "cpn", "voucher" or "code":
// letters and digits, maybe hyphenated ("SAVE20", "BF2026-XYZ"), or a
// word in capitals that is no vocabulary word ("FREESHIP").
func couponCode(n *note) (string, int) {
	t := n.toks
	for i := range t {
		if w := t[i].word; w != "coupon" && w != "voucher" && w != "code" {
			continue
		}
		for j, seen := i+1, 0; j < len(t) && seen < 3; j++ {
			if t[j].num {
				break
			}
			if !t[j].isWord() {
				if t[j].sym == ':' || t[j].sym == '#' || t[j].sym == '-' {
					continue
				}
				break
			}
			seen++
			if looksLikeCode(t[j], t[i].word == "code" || j > 0 && t[j-1].word == "code") {
				n.used[j] = true
				return strings.ToUpper(t[j].raw), j
			}
		}
	}
	return "", 0
}

func looksLikeCode(t token, afterCode bool) bool {
	raw := t.raw
	if len(raw) < 3 || len(raw) > 32 || !unicode.IsLetter(rune(raw[0])) {
		return false
	}
	digits, lettersUpper, lettersLower := 0, 0, 0
	for _, r := range raw {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r >= 'A' && r <= 'Z':
			lettersUpper++
		case r >= 'a' && r <= 'z':
			lettersLower++
		case r == '-' || r == '_':
		default:
			return false
		}
	}
	if digits > 0 {
		return true
	}
	if _, known := knownWord(t.low); known || t.fuzzy {
		return false
	}
	return len(raw) >= 4 && (afterCode || lettersLower == 0 && lettersUpper >= 4)
}

// findCompetitor finds a competitor's name: the aliases as typed, or a
// one-word alias with one typo ("walmrt", "targt").
func (p *Parser) findCompetitor(n *note) (string, int) {
	t := n.toks
	for i := range t {
		if !t[i].isWord() || n.used[i] {
			continue
		}
		for _, c := range p.competitors {
			for _, a := range c.aliases {
				if matchAlias(t, i, a) {
					return c.name, i
				}
			}
		}
	}
	for i := range t {
		if !t[i].isWord() || n.used[i] || len(t[i].low) < 5 {
			continue
		}
		if _, known := knownWord(t[i].low); known {
			continue
		}
		for _, c := range p.competitors {
			for _, a := range c.aliases {
				if len(a) == 1 && len(a[0]) >= 5 && editDistance(t[i].low, a[0], 1) <= 1 {
					return c.name, i
				}
			}
		}
	}
	return "", 0
}

func matchAlias(t []token, i int, a []string) bool {
	j := i
	for _, w := range a {
		for j < len(t) && t[j].sym != 0 && j > i {
			j++
		}
		if j >= len(t) || t[j].low != w {
			return false
		}
		j++
	}
	return true
}

// special is a value written in words: "half off", "bogo", "buy one get
// one free".
type special struct {
	pos      int
	val      string
	strength int
}

// candidates lists the numbers that may be the discount's value, with the
// markers around them.
func candidates(n *note) ([]candidate, []special) {
	t := n.toks
	var cs []candidate
	var sp []special
	for i := range t {
		tk := t[i]
		if tk.isWord() {
			next := ""
			if i+1 < len(t) && t[i+1].isWord() {
				next = t[i+1].word
			}
			switch {
			case tk.word == "half" && (next == "off" || next == "price" || next == "priced"):
				sp = append(sp, special{pos: i, val: "50", strength: 3})
			case tk.word == "half":
				sp = append(sp, special{pos: i, val: "50", strength: 1})
			case tk.word == "quarter" && next == "off":
				sp = append(sp, special{pos: i, val: "25", strength: 3})
			case tk.word == "bogo" || tk.word == "get" && i > 0 && (t[i-1].num || t[i-1].word == "one"):
				sp = append(sp, special{pos: i, val: "100", strength: 1})
			}
			continue
		}
		if !tk.num || n.excluded[i] {
			continue
		}
		c := candidate{pos: i, val: tk.val, frac: tk.frac}
		if i > 0 && t[i-1].cur != "" {
			c.cur = t[i-1].cur
		}
		j := i + 1
		// "50p", "75 cents": minor units.
		if j < len(t) && t[j].isWord() && tk.frac == 0 && (t[j].low == "p" && !t[j].gap || t[j].low == "cents" || t[j].low == "c" && !t[j].gap) {
			c.val, c.frac = minorToMajor(tk.val), 2
			c.cur = "$"
			if t[j].low == "p" {
				c.cur = "GBP"
			}
			j++
		}
		if j < len(t) && t[j].cur != "" {
			if c.cur == "" {
				c.cur = t[j].cur
			}
			j++
		}
		if j < len(t) && t[j].isWord() {
			switch t[j].word {
			case "usd", "eur", "gbp", "cad", "aud":
				c.cur = strings.ToUpper(t[j].word)
				j++
			case "dollar":
				c.cur = "$"
				j++
			case "pound":
				c.cur = "GBP"
				j++
			case "euro":
				c.cur = "EUR"
				j++
			}
		}
		switch {
		case j < len(t) && (t[j].sym == '%' || t[j].word == "percent"):
			c.kind, c.strength = Percent, 3
			j++
		case i > 0 && t[i-1].sym == '%':
			c.kind, c.strength = Percent, 3
		}
		if j < len(t) && (t[j].word == "off" || t[j].word == "less" || t[j].word == "discount") {
			if c.kind == "" {
				c.kind = Amount
			}
			c.strength = 3
		}
		if c.kind == "" {
			// A minus sign is typed against its number ("-5", "-$7.50"); a
			// dash between spaces separates ("PM - Target - 6.99").
			if k := i - 1; k >= 0 && (t[k].sym == '-' && !t[i].gap || k > 0 && t[k].cur != "" && !t[k].gap && t[k-1].sym == '-' && !t[i].gap) && (k == 0 || !t[k-1].num) {
				c.kind, c.strength = Amount, 3
			}
		}
		if c.kind == "" {
			if cue, strong := fixedCue(t, i); cue {
				c.kind, c.strength, c.strongFixed = FixedPrice, 2, strong
			}
		}
		if c.strength == 0 && (c.cur != "" || c.frac == 2) {
			c.strength = 1 // money, or typed like money ("8.99")
		}
		if refusedAfter(t, i) {
			continue // "asked for 10% off, declined"
		}
		cs = append(cs, c)
	}
	return cs, sp
}

// minorToMajor turns a whole number of minor units into a two-decimal
// amount: "50" is "0.50", "125" is "1.25".
func minorToMajor(v string) string {
	for len(v) < 3 {
		v = "0" + v
	}
	return trimZeros(v[:len(v)-2]) + "." + v[len(v)-2:]
}

// ordinal suffixes: "2nd", "3rd" are positions, not money.
var ordinal = map[string]bool{"st": true, "nd": true, "rd": true, "th": true}

// refusedAfter reports whether a refusal follows a value within three
// words: the discount was asked for, not given.
func refusedAfter(t []token, i int) bool {
	for j, seen := i+1, 0; j < len(t) && seen < 3; j++ {
		if t[j].isWord() {
			seen++
			if refusals[t[j].word] {
				return true
			}
		}
	}
	return false
}

// fixedCue reports whether the words before number i say it is the price
// sold at: "price 9.99", "price to 19.99", "sold for 20", "now 9.99",
// "@ 4.99". strong cues ("sold", "charged", "let it go for") make a
// discount even without a reason.
func fixedCue(t []token, i int) (cue, strong bool) {
	var words []string
	for j := i - 1; j >= 0 && len(words) < 3; j-- {
		switch {
		case t[j].cur != "":
			continue
		case t[j].sym == '@':
			return true, false
		case t[j].isWord():
			words = append(words, t[j].word)
		case t[j].num:
			j = -1
		default:
			if len(words) > 0 {
				j = -1
			}
		}
	}
	if len(words) == 0 {
		return false, false
	}
	w0 := words[0]
	w1 := ""
	if len(words) > 1 {
		w1 = words[1]
	}
	switch {
	case w0 == "charged":
		return true, true
	case w0 == "sold" || w0 == "adjusted":
		return true, false
	case (w0 == "for" || w0 == "at") && (w1 == "sold" || w1 == "go" || w1 == "it" || w1 == "gave" || w1 == "charged"):
		return true, true
	case w0 == "price" || w0 == "priced" || w0 == "now" || w0 == "to" || w0 == "at" || w0 == "for":
		return true, false
	case w1 == "price" && (w0 == "override" || w0 == "approved"):
		return true, false
	}
	return false, false
}

// discountCue reports whether a note says "discount" in some form, beyond
// naming a reason: a percentage, "N off", a minus, "half off", a sale
// price, or the word discount.
func discountCue(n *note, cs []candidate, sp []special) bool {
	for _, c := range cs {
		if c.strength >= 3 || c.strongFixed {
			return true
		}
	}
	for _, s := range sp {
		if s.strength >= 3 {
			return true
		}
	}
	for i, t := range n.toks {
		if t.word == "discount" && !negated(n.toks, i, i+1) {
			return true
		}
	}
	return false
}

// pick chooses the value among the candidates: the strongest, and of
// equally strong ones the first at or after the reason. ambiguous is set
// when another equally strong candidate has a different value.
func pick(cs []candidate, sp []special, at int) (*candidate, bool) {
	var best *candidate
	for i := range cs {
		c := &cs[i]
		if best == nil || c.strength > best.strength ||
			c.strength == best.strength && best.pos < at && c.pos >= at {
			best = c
		}
	}
	for _, s := range sp {
		if best == nil || s.strength > best.strength {
			best = &candidate{pos: s.pos, val: s.val, kind: Percent, strength: s.strength}
		}
	}
	if best == nil {
		return nil, false
	}
	ambiguous := false
	for _, c := range cs {
		if c.pos != best.pos && c.strength == best.strength && !SameValue(c.val, best.val) {
			ambiguous = true
		}
	}
	return best, ambiguous
}

// kindOf decides a value's kind: its marker, else what the reason's bare
// numbers mean.
func (p *Parser) kindOf(c *candidate, reason string) Kind {
	if c.kind != "" {
		return c.kind
	}
	switch {
	case p.fixedDefault[reason]:
		return FixedPrice
	case p.percentDefault[reason] && c.cur == "" && c.frac == 0 && len(c.val) <= 3:
		if v, err := strconv.Atoi(c.val); err == nil && v <= 100 {
			return Percent
		}
	}
	return Amount
}

// dollarCurrencies are the currencies a "$" may stand for when the store
// trades in one of them.
var dollarCurrencies = map[string]bool{"USD": true, "CAD": true, "AUD": true, "NZD": true, "SGD": true,
	"HKD": true, "MXN": true, "TWD": true, "JMD": true, "BSD": true, "BBD": true, "TTD": true, "XCD": true}

// valueOf formats a value: a percentage as typed without trailing zeros,
// money with its currency's minor units ("5" USD is "5.00"). Money is
// never rounded: a value with more digits than its currency has keeps them.
func (p *Parser) valueOf(c *candidate, k Kind) (string, string) {
	if k == Percent {
		return canonicalDecimal(c.val), ""
	}
	cur := c.cur
	switch {
	case cur == "$" && dollarCurrencies[p.currency]:
		cur = p.currency
	case cur == "$":
		cur = "USD"
	case cur == "":
		cur = p.currency
	}
	val := c.val
	if exp, ok := event.MinorUnits(cur); ok && c.cur != "" || ok && c.frac > 0 {
		intPart, frac, _ := strings.Cut(val, ".")
		if len(frac) < exp {
			frac += strings.Repeat("0", exp-len(frac))
		}
		val = intPart
		if frac != "" {
			val += "." + frac
		}
	}
	return val, cur
}

// approverWords precede "by NAME".
var approverWords = map[string]bool{"ok": true, "approved": true, "authorized": true, "verified": true,
	"signed": true, "override": true, "confirmed": true, "allowed": true}

// approver finds who approved the discount: "ok'd by Sam", "approved by
// Maria R.", "per mgr Tom", "mgr Lisa approved".
func approver(n *note) string {
	t := n.toks
	for i := range t {
		if !t[i].isWord() {
			continue
		}
		w := t[i].word
		j := -1
		switch {
		case w == "by" && i > 0 && (approverWords[t[i-1].word] || t[i-1].word == "manager"):
			j = i + 1
		case w == "by" || w == "per":
			j = i + 1
			if j < len(t) && (t[j].word == "manager" || t[j].word == "supervisor") {
				j++
			}
		case w == "manager" || w == "supervisor":
			j = i + 1
			if j < len(t) && t[j].sym == ':' {
				j++
			}
		}
		if j < 0 {
			continue
		}
		if name := nameAt(n, j); name != "" {
			return name
		}
	}
	return ""
}

// nameAt reads a person's name at token j: a word that is no vocabulary
// word, and an initial after it ("Maria R.").
func nameAt(n *note, j int) string {
	t := n.toks
	if j >= len(t) || !t[j].isWord() || n.used[j] || len(t[j].low) < 2 {
		return ""
	}
	raw := t[j].raw
	for _, r := range raw {
		if !unicode.IsLetter(r) && r != '\'' && r != '-' {
			return ""
		}
	}
	if _, known := knownWord(t[j].low); known {
		return ""
	}
	if _, num := numberWords[t[j].low]; num {
		return ""
	}
	if t[j].fuzzy && !unicode.IsUpper(rune(raw[0])) {
		return ""
	}
	if stopWords[t[j].low] {
		return ""
	}
	name := titleCase(raw)
	if k := j + 1; k < len(t) && t[k].isWord() && len(t[k].raw) == 1 && unicode.IsUpper(rune(t[k].raw[0])) {
		name += " " + t[k].raw
		if k+1 < len(t) && t[k+1].sym == '.' {
			name += "."
		}
	}
	return name
}

// unexplained counts the words of a note that no rule read: not
// vocabulary, not part of a reason, code or name, not a function word.
// Many of them mean the note may say something the rules do not know.
func (n *note) unexplained(approvedBy string) int {
	count := 0
	for i, t := range n.toks {
		if !t.isWord() || n.used[i] || t.fuzzy || len(t.low) < 2 {
			continue
		}
		if _, known := knownWord(t.low); known {
			continue
		}
		if _, num := numberWords[t.low]; num || stopWords[t.low] || functionWords[t.low] {
			continue
		}
		if approvedBy != "" && strings.Contains(strings.ToLower(approvedBy), t.low) {
			continue
		}
		count++
	}
	return count
}

// functionWords carry no discount either way.
var functionWords = map[string]bool{
	"the": true, "a": true, "an": true, "in": true, "or": true, "is": true, "its": true, "this": true,
	"that": true, "had": true, "has": true, "have": true, "i": true, "we": true, "he": true, "she": true,
	"they": true, "re": true, "but": true, "so": true, "all": true, "both": true, "given": true, "took": true,
	"take": true, "knocked": true, "knock": true, "used": true, "show": true, "showed": true, "shown": true,
	"applied": true, "price": true, "priced": true, "each": true, "only": true, "just": true, "also": true,
	"same": true, "due": true, "because": true, "bc": true, "cuz": true, "item": true, "items": true,
	"product": true, "shirt": true, "pair": true, "total": true, "entire": true, "whole": true,
}

// stopWords are common words that follow "by" or "per" and are no names.
var stopWords = map[string]bool{"the": true, "a": true, "an": true, "phone": true, "email": true, "mistake": true,
	"accident": true, "request": true, "policy": true, "item": true, "cashier": true, "customer": true,
	"me": true, "him": true, "her": true, "them": true, "store": true, "head": true, "office": true,
	"approval": true, "approved": true, "then": true, "on": true, "in": true, "duty": true, "said": true,
	"and": true, "was": true, "is": true, "has": true, "here": true, "there": true, "called": true,
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	if strings.ToLower(s) != s && strings.ToUpper(s) != s {
		return s // typed with care: keep it
	}
	s = strings.ToLower(s)
	return strings.ToUpper(s[:1]) + s[1:]
}
