package mapping

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/tillsync/tillsync/internal/mapping/gtin"
)

// DefaultThreshold is the confidence at or above which a repair is applied
// without a human.
const DefaultThreshold = 0.97

// Candidate is one catalog SKU a code may stand for.
type Candidate struct {
	SKU string `json:"sku"`
	// Confidence is the calibrated probability that SKU is right.
	Confidence float64 `json:"confidence"`
	// Evidence names how the candidate was found, e.g. "gtin:check_added",
	// "variant", "fuzzy:transposition:gtin_badchk", "desc:h:clear"; it is
	// the calibration bucket, so the same evidence always earns the same
	// confidence.
	Evidence string `json:"evidence"`
	// Detail says it for a human: what was read and changed.
	Detail string `json:"detail,omitempty"`

	tier int
	item int32
}

// Suggestion is the resolver's answer for one code: candidates best first,
// and whether the first is sure enough to apply without a human.
type Suggestion struct {
	Code        string      `json:"code"`
	Description string      `json:"description,omitempty"`
	Source      string      `json:"source,omitempty"`
	Candidates  []Candidate `json:"candidates"`
	AutoApply   bool        `json:"auto_apply"`
}

// Best returns the first candidate, if any.
func (s Suggestion) Best() (Candidate, bool) {
	if len(s.Candidates) == 0 {
		return Candidate{}, false
	}
	return s.Candidates[0], true
}

// Options configure a Resolver.
type Options struct {
	// Threshold is the auto-apply confidence (default DefaultThreshold).
	Threshold float64
	// Rules are human decisions to apply and learn from (default: a new
	// in-memory store).
	Rules Rules
	// Calibration maps evidence to confidence (default: the calibration
	// measured on testdata/mapping_dev.jsonl, see DefaultCalibration).
	Calibration *Calibration
	// MaxCandidates bounds the candidates of a suggestion (default 5).
	MaxCandidates int
	// SelfCalibrate, if positive, replaces Calibration with a table
	// measured on this many synthetic erroneous and unknown codes made
	// from the catalog itself (see CalibrateOn): a large catalog is denser
	// than the dev set's, and a code one edit from an item is more often
	// a coincidence in it.
	SelfCalibrate int
}

// Resolver proposes catalog SKUs for unknown codes. It is safe for
// concurrent use; Confirm may run alongside Suggest.
type Resolver struct {
	cat       *Catalog
	rules     Rules
	cal       *Calibration
	threshold float64
	max       int

	skuKeys  []string           // item → codeKey(SKU)
	bySKUKey map[string][]int32 // codeKey(SKU) → items
	variants map[string][]int32 // variantKey(SKU) → items
	gtinKeys [][]string         // item → gtin.Key of each GTIN
	srcMaps  map[string]map[string]int32
	fuzzy    deletionIndex
	text     *textIndex

	mu      sync.RWMutex
	affixes map[string]map[affix]int // source → learned affix → confirmations
}

// affix is a prefix or suffix a source adds to catalog codes, learned from
// human decisions.
type affix struct {
	prefix bool
	s      string
}

// NewResolver indexes cat. The catalog must not change afterwards.
func NewResolver(cat *Catalog, opt Options) *Resolver {
	r := &Resolver{
		cat: cat, rules: opt.Rules, cal: opt.Calibration, threshold: opt.Threshold, max: opt.MaxCandidates,
		bySKUKey: map[string][]int32{}, variants: map[string][]int32{},
		srcMaps: map[string]map[string]int32{}, affixes: map[string]map[affix]int{},
	}
	if r.rules == nil {
		r.rules = NewMemRules()
	}
	if r.cal == nil {
		r.cal = DefaultCalibration()
	}
	if r.threshold <= 0 {
		r.threshold = DefaultThreshold
	}
	if r.max <= 0 {
		r.max = 5
	}
	items := cat.items
	r.skuKeys = make([]string, len(items))
	r.gtinKeys = make([][]string, len(items))
	r.fuzzy.post = make([]posting, 0, len(items)*26)
	for i, it := range items {
		id := int32(i)
		k := codeKey(it.SKU)
		r.skuKeys[i] = k
		r.bySKUKey[k] = append(r.bySKUKey[k], id)
		if v := variantKey(it.SKU); v != "" {
			r.variants[v] = append(r.variants[v], id)
		}
		r.fuzzy.add('s', k, id)
		for _, g := range it.GTINs {
			gk := gtin.Key(g)
			r.gtinKeys[i] = append(r.gtinKeys[i], gk)
			r.fuzzy.add('g', gk, id)
		}
	}
	r.fuzzy.build()
	for src, m := range cat.maps {
		sm := map[string]int32{}
		for code, sku := range m {
			sm[codeKey(code)] = itemID(cat.bySKU[sku])
		}
		r.srcMaps[src] = sm
	}
	r.text = newTextIndex(items)
	if opt.SelfCalibrate > 0 {
		r.cal = CalibrateOn(r, selfCalibrationSeed, opt.SelfCalibrate)
	}
	for _, rule := range r.rules.All() {
		r.learn(rule)
	}
	return r
}

// Threshold is the auto-apply confidence.
func (r *Resolver) Threshold() float64 { return r.threshold }

// Catalog is the catalog the resolver indexes.
func (r *Resolver) Catalog() *Catalog { return r.cat }

// Confirm records a human's choice (or a confirmed repair): source's code
// means sku. The rule applies at once to every later Suggest for the same
// source and code, so the caller replays the quarantined events whose
// suggestion now auto-applies. A prefix or suffix the source adds to
// catalog codes is learned from the decision too.
func (r *Resolver) Confirm(source, code, sku, who string) (Rule, error) {
	if _, ok := r.cat.bySKU[sku]; !ok {
		return Rule{}, fmt.Errorf("confirm %s %q: sku %q is not in the catalog", source, code, sku)
	}
	rule, err := r.rules.Confirm(source, code, sku, who)
	if err != nil {
		return Rule{}, err
	}
	r.learn(rule)
	return rule, nil
}

// learn derives an affix rule from a decision: the code is a catalog code
// of the decided item with up to four characters before or after it.
func (r *Resolver) learn(rule Rule) {
	i, ok := r.cat.bySKU[rule.SKU]
	if !ok {
		return
	}
	k := codeKey(rule.Code)
	keys := append([]string{r.skuKeys[i]}, r.cat.items[i].GTINs...)
	keys = append(keys, r.gtinKeys[i]...)
	for _, ik := range keys {
		if len(k) <= len(ik) || len(k) > len(ik)+4 {
			continue
		}
		var a affix
		switch {
		case strings.HasSuffix(k, ik):
			a = affix{prefix: true, s: k[:len(k)-len(ik)]}
		case strings.HasPrefix(k, ik):
			a = affix{s: k[len(ik):]}
		default:
			continue
		}
		r.mu.Lock()
		m := r.affixes[rule.Source]
		if m == nil {
			m = map[affix]int{}
			r.affixes[rule.Source] = m
		}
		m[a]++
		r.mu.Unlock()
		return
	}
}

// affixConfidence is the confidence of a repair by a learned affix after n
// consistent human decisions: one decision may be a coincidence, two make
// a pattern, three settle it. This is policy, not calibration: the dev set
// has no learned affixes to measure.
func affixConfidence(n int) float64 {
	switch {
	case n >= 3:
		return 0.99
	case n == 2:
		return 0.97
	}
	return 0.9
}

// Tiers order evidence from most to least direct.
const (
	tierRule = iota
	tierExact
	tierSourceMap
	tierNormalized
	tierGTIN
	tierVariant
	tierAffix
	tierFuzzy
	tierDesc
)

type gather struct {
	r     *Resolver
	cands []Candidate
	seen  map[int32]int
	q     *queryVec
	desc  string
}

func (g *gather) add(item int32, tier int, evidence, detail string) {
	if j, ok := g.seen[item]; ok {
		if g.cands[j].tier <= tier {
			return
		}
		g.cands[j] = Candidate{SKU: g.r.cat.items[item].SKU, Evidence: evidence, Detail: detail, tier: tier, item: item}
		return
	}
	if g.seen == nil {
		g.seen = map[int32]int{}
	}
	g.seen[item] = len(g.cands)
	g.cands = append(g.cands, Candidate{SKU: g.r.cat.items[item].SKU, Evidence: evidence, Detail: detail, tier: tier, item: item})
}

// descFlag says how well the description the till sent agrees with item.
func (g *gather) descFlag(item int32) string {
	if g.desc == "" {
		return ""
	}
	if g.q == nil {
		q := g.r.text.query(g.desc)
		g.q = &q
	}
	s := g.r.text.sim(*g.q, item)
	switch {
	case s >= 0.5:
		return ":dH"
	case s >= 0.25:
		return ":dM"
	}
	return ":dL"
}

// Suggest proposes catalog SKUs for code, as source sent it, with the
// description the till printed if it sent one.
func (r *Resolver) Suggest(code, description, source string) Suggestion {
	return r.suggest(code, description, source, indexed{r})
}

func (r *Resolver) suggest(code, description, source string, lk lookups) Suggestion {
	s := Suggestion{Code: code, Description: description, Source: source}
	cands := r.candidates(code, description, source, lk)
	for i := range cands {
		c := &cands[i]
		switch c.tier {
		case tierRule:
			c.Confidence = 0.999
		case tierExact, tierSourceMap:
			c.Confidence = 1
		case tierAffix:
			// set by candidates
		default:
			c.Confidence = r.cal.Confidence(c.Evidence)
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].Confidence != cands[j].Confidence {
			return cands[i].Confidence > cands[j].Confidence
		}
		if cands[i].tier != cands[j].tier {
			return cands[i].tier < cands[j].tier
		}
		return cands[i].item < cands[j].item
	})
	if len(cands) > r.max {
		cands = cands[:r.max]
	}
	s.Candidates = cands
	if len(cands) > 0 && cands[0].Confidence >= r.threshold &&
		(len(cands) == 1 || cands[1].Confidence < r.threshold) {
		s.AutoApply = true
	}
	if s.Candidates == nil {
		s.Candidates = []Candidate{}
	}
	return s
}

// candidates gathers every candidate with its evidence, before calibration.
func (r *Resolver) candidates(code, description, source string, lk lookups) []Candidate {
	g := &gather{r: r, desc: strings.TrimSpace(description)}
	key := codeKey(code)
	if key == "" && g.desc == "" {
		return nil
	}
	if rule, ok := r.rules.Lookup(source, code); ok {
		if i, ok := r.cat.bySKU[rule.SKU]; ok {
			g.add(itemID(i), tierRule, "rule", fmt.Sprintf("decided by %s at %s", rule.Who, rule.At.Format("2006-01-02 15:04Z")))
		}
	}
	if i, ok := r.cat.bySKU[code]; ok {
		g.add(itemID(i), tierExact, "exact", "the code is a catalog SKU")
	}
	if i, ok := r.srcMaps[source][key]; ok {
		g.add(i, tierSourceMap, "source_map", "mapped for source "+source)
	}
	// Deterministic evidence: several items is ambiguity, flagged on each.
	var det []Candidate
	detAdd := func(item int32, tier int, evidence, detail string) {
		det = append(det, Candidate{item: item, tier: tier, Evidence: evidence, Detail: detail})
	}
	for _, i := range lk.skuKey(key) {
		detAdd(i, tierNormalized, "normalized", "same code ignoring case, spaces and separators")
	}
	for _, rd := range gtin.Readings(code) {
		if i, ok := lk.gtinKey(rd.Key); ok {
			detAdd(i, tierGTIN, "gtin:"+string(rd.How), "read as GTIN "+rd.GTIN+" ("+strings.ReplaceAll(string(rd.How), "_", " ")+")")
		}
	}
	if v := variantKey(code); v != "" {
		for _, i := range lk.variant(v) {
			detAdd(i, tierVariant, "variant", "same style and attributes in another order or spelling")
		}
	}
	if len(det) > 0 {
		distinct := map[int32]bool{}
		for _, c := range det {
			distinct[c.item] = true
		}
		amb := ""
		if len(distinct) > 1 {
			amb = ":amb"
		}
		for _, c := range det {
			g.add(c.item, c.tier, c.Evidence+amb+g.descFlag(c.item), c.Detail)
		}
	}
	r.affixCandidates(g, key, source)
	if len(g.cands) == 0 {
		r.fuzzyCandidates(g, code, key, lk)
	}
	// A description is searched when the code gave nothing better than a
	// fuzzy match that the description does not already confirm.
	if g.desc != "" && !hasTierBelow(g.cands, tierFuzzy) && !descConfirmed(g.cands) {
		r.descCandidates(g, lk)
	}
	return g.cands
}

func descConfirmed(cs []Candidate) bool {
	for _, c := range cs {
		if strings.HasSuffix(c.Evidence, ":dH") {
			return true
		}
	}
	return false
}

func hasTierBelow(cs []Candidate, tier int) bool {
	for _, c := range cs {
		if c.tier < tier {
			return true
		}
	}
	return false
}

func (r *Resolver) affixCandidates(g *gather, key, source string) {
	r.mu.RLock()
	learned := r.affixes[source]
	type hit struct {
		a affix
		n int
	}
	var hits []hit
	for a, n := range learned {
		if len(key) > len(a.s) && ((a.prefix && strings.HasPrefix(key, a.s)) || (!a.prefix && strings.HasSuffix(key, a.s))) {
			hits = append(hits, hit{a, n})
		}
	}
	r.mu.RUnlock()
	for _, h := range hits {
		rest := strings.TrimPrefix(key, h.a.s)
		where := "prefix"
		if !h.a.prefix {
			rest, where = strings.TrimSuffix(key, h.a.s), "suffix"
		}
		var items []int32
		items = append(items, r.bySKUKey[rest]...)
		for _, rd := range gtin.Readings(rest) {
			if i, ok := r.cat.byGTIN[rd.Key]; ok {
				items = append(items, itemID(i))
			}
		}
		for _, i := range items {
			before := len(g.cands)
			g.add(i, tierAffix, "rule_affix", fmt.Sprintf("source %s adds %s %q (learned from %d decisions)", source, where, h.a.s, h.n))
			if len(g.cands) > before {
				g.cands[len(g.cands)-1].Confidence = affixConfidence(h.n)
			} else if j := g.seen[i]; g.cands[j].tier == tierAffix {
				g.cands[j].Confidence = max(g.cands[j].Confidence, affixConfidence(h.n))
			}
		}
	}
}

// fuzzyCandidates finds items whose SKU or GTIN is one edit from the code.
func (r *Resolver) fuzzyCandidates(g *gather, code, key string, lk lookups) {
	type hit struct {
		item  int32
		edit  string
		class string
	}
	var hits []hit
	if len(key) >= 4 {
		lk.nearSKU(key, func(i int32) {
			if e, ok := singleEdit(key, r.skuKeys[i]); ok {
				class := "sku"
				if attrChanged(code, r.cat.items[i].SKU) {
					class = "sku_attr"
				}
				hits = append(hits, hit{i, e, class})
			}
		})
	}
	d := gtin.Clean(code)
	if len(d) > 3 && d[0] == ']' {
		d = d[3:]
	}
	if gtin.Digits(d) && len(d) >= 7 && len(d) <= 14 {
		gk := gtin.Key(d)
		class := "gtin_len"
		if n := len(d); n == 8 || n == 12 || n == 13 || n == 14 {
			class = "gtin_badchk"
			if gtin.Valid(d) {
				class = "gtin_okchk"
			}
		}
		lk.nearGTIN(gk, func(i int32) {
			for _, ik := range r.gtinKeys[i] {
				if e, ok := singleEdit(gk, ik); ok {
					hits = append(hits, hit{i, e, class})
					return
				}
			}
		})
	}
	// A candidate is ambiguous when another item is one plausible error
	// away: a transposed GTIN is not made doubtful by an item one arbitrary
	// substitution away, but an arbitrary substitution is by anything.
	for _, h := range hits {
		amb := ""
		for _, o := range hits {
			if o.item != h.item && (editRank[o.edit] < editRank[editSubstitution] || h.edit == editSubstitution) {
				amb = ":amb"
				break
			}
		}
		g.add(h.item, tierFuzzy, "fuzzy:"+h.edit+":"+h.class+amb+g.descFlag(h.item),
			fmt.Sprintf("one %s from %s", strings.ReplaceAll(h.edit, "_", " "), r.cat.items[h.item].SKU))
	}
}

// editRank orders edit kinds by how often tills make them.
var editRank = map[string]int{
	editTransposition: 1, editOCR: 1, editRepeat: 1,
	editKeyboard: 2, editInsertion: 3, editDeletion: 3, editSubstitution: 4,
}

// attrChanged reports whether the codes name different values of a variant
// attribute both carry (a size or colour not in the catalog, not a typo).
func attrChanged(code, sku string) bool {
	a, b := attrsOf(code), attrsOf(sku)
	for k, v := range a {
		if w, ok := b[k]; ok && w != v {
			return true
		}
	}
	return false
}

// descCandidates adds the items whose descriptions are most like the one
// the till sent.
func (r *Resolver) descCandidates(g *gather, lk lookups) {
	if g.q == nil {
		q := r.text.query(g.desc)
		g.q = &q
	}
	hits := lk.descSearch(*g.q, r.max)
	for k, h := range hits {
		bucket := "l"
		switch {
		case h.score >= 0.8:
			bucket = "h"
		case h.score >= 0.6:
			bucket = "m"
		}
		margin := "clear"
		switch {
		case k > 0:
			margin = "alt"
		case len(hits) > 1 && h.score-hits[1].score < 0.1:
			margin = "close"
		}
		g.add(h.item, tierDesc, "desc:"+bucket+":"+margin, fmt.Sprintf("description %.0f%% alike", h.score*100))
	}
}
