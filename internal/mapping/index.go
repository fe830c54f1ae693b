package mapping

import (
	"math"
	"slices"
	"sort"
	"strings"
)

// deletionIndex finds every indexed key within one edit (insertion,
// deletion, substitution or adjacent transposition) of a query without
// scanning: each key is stored under the hashes of itself and of each of
// its one-character deletions; two strings are one edit apart only if
// their deletion neighbourhoods meet (SymSpell). Postings live in one
// sorted slice, 16 bytes each, searched by binary search.
type deletionIndex struct {
	post []posting
	// dir[b] is where postings whose hash starts with the bits b begin, so
	// a lookup scans a handful of postings instead of a binary search.
	dir   []uint32
	shift uint
}

type posting struct {
	hash uint64
	item int32
}

func fnv(ns byte, s string, skip int) uint64 {
	h := uint64(14695981039346656037) ^ uint64(ns)
	h *= 1099511628211
	for i := 0; i < len(s); i++ {
		if i == skip {
			continue
		}
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// neighbourhood calls f with the hash of key and of each distinct
// one-character deletion of key, in namespace ns.
func neighbourhood(ns byte, key string, f func(uint64)) {
	f(fnv(ns, key, -1))
	for i := 0; i < len(key); i++ {
		if i > 0 && key[i] == key[i-1] {
			continue // deleting either of a doubled pair gives the same string
		}
		f(fnv(ns, key, i))
	}
}

func (x *deletionIndex) add(ns byte, key string, item int32) {
	neighbourhood(ns, key, func(h uint64) { x.post = append(x.post, posting{h, item}) })
}

func (x *deletionIndex) build() {
	slices.SortFunc(x.post, func(a, b posting) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return int(a.item - b.item)
	})
	x.post = slices.Compact(x.post)
	bits := uint(4)
	for 1<<bits < len(x.post) && bits < 24 {
		bits++
	}
	x.shift = 64 - bits
	x.dir = make([]uint32, 1<<bits+1)
	j := 0
	for b := range 1 << bits {
		x.dir[b] = uint32(j) //nolint:gosec // G115: j ≤ len(x.post), see below
		for j < len(x.post) && x.post[j].hash>>x.shift == uint64(b) {
			j++
		}
	}
	x.dir[1<<bits] = uint32(len(x.post)) //nolint:gosec // G115: postings are about 26 per item, far below 2³²
}

// near calls f with every item indexed under a key in namespace ns that may
// be within one edit of key (callers verify: hashes collide).
func (x *deletionIndex) near(ns byte, key string, f func(item int32)) {
	if len(x.dir) == 0 {
		return
	}
	neighbourhood(ns, key, func(h uint64) {
		b := h >> x.shift
		for _, p := range x.post[x.dir[b]:x.dir[b+1]] {
			if p.hash == h {
				f(p.item)
			}
		}
	})
}

// textIndex scores item descriptions against a description a till sent:
// tokens weighted by inverse document frequency, cosine similarity, and
// for a query token the catalog never uses, the catalog token it most
// likely abbreviates or misspells (character trigrams, consonant
// abbreviations such as "jkt" for "jacket").
type textIndex struct {
	vocab    map[string]int32
	idf      []float64
	postings [][]int32 // token → items
	itemToks [][]int32 // item → tokens (distinct)
	itemNorm []float64
	itemSig  []uint64           // item → bit (token id mod 64) set for each token: a quick "not there"
	trigrams map[string][]int32 // trigram → tokens
	byFirst  map[byte][]int32   // first letter → tokens
	words    []string
}

// tokens splits text into lower-case alphanumeric words, with colours and
// sizes in their canonical spelling.
func tokens(s string) []string {
	fields := strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r < 0x80
	})
	for i, f := range fields {
		if c, ok := colours[f]; ok && len(f) > 2 {
			fields[i] = c
		} else if z, ok := sizes[f]; ok {
			fields[i] = z
		}
	}
	return fields
}

func newTextIndex(items []Item) *textIndex {
	t := &textIndex{vocab: map[string]int32{}, trigrams: map[string][]int32{}, byFirst: map[byte][]int32{}}
	t.itemToks = make([][]int32, len(items))
	for i, it := range items {
		text := it.Description + " " + it.Brand
		for _, k := range sortedKeys(it.Attributes) {
			text += " " + it.Attributes[k]
		}
		var ids []int32
		for _, w := range tokens(text) {
			id, ok := t.vocab[w]
			if !ok {
				id = itemID(len(t.words))
				t.vocab[w] = id
				t.words = append(t.words, w)
				t.postings = append(t.postings, nil)
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
				t.postings[id] = append(t.postings[id], int32(i))
			}
		}
		t.itemToks[i] = ids
	}
	n := float64(len(items))
	t.idf = make([]float64, len(t.words))
	for id, p := range t.postings {
		t.idf[id] = math.Log(1 + n/float64(len(p)))
	}
	t.itemNorm = make([]float64, len(items))
	t.itemSig = make([]uint64, len(items))
	for i, ids := range t.itemToks {
		var s float64
		for _, id := range ids {
			s += t.idf[id] * t.idf[id]
			t.itemSig[i] |= 1 << (id & 63)
		}
		t.itemNorm[i] = math.Sqrt(s)
	}
	for id, w := range t.words {
		for _, g := range trigramsOf(w) {
			t.trigrams[g] = append(t.trigrams[g], int32(id))
		}
		t.byFirst[w[0]] = append(t.byFirst[w[0]], int32(id))
	}
	return t
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func trigramsOf(w string) []string {
	p := "^" + w + "$"
	out := make([]string, 0, len(p))
	for i := 0; i+3 <= len(p); i++ {
		out = append(out, p[i:i+3])
	}
	return out
}

// abbreviates reports whether a is an abbreviation of w: same first letter,
// a's letters in w in order ("jkt" jacket, "wmns" womens, "pnt" pant).
func abbreviates(a, w string) bool {
	if len(a) < 2 || len(a) >= len(w) || a[0] != w[0] {
		return false
	}
	j := 1
	for i := 1; i < len(w) && j < len(a); i++ {
		if w[i] == a[j] {
			j++
		}
	}
	return j == len(a)
}

// queryVec is a description resolved to catalog tokens and weights.
type queryVec struct {
	toks []int32
	w    []float64
	norm float64
}

func (t *textIndex) query(desc string) queryVec {
	var q queryVec
	add := func(id int32, w float64) {
		if slices.Contains(q.toks, id) {
			return
		}
		q.toks = append(q.toks, id)
		q.w = append(q.w, w)
	}
	var sq float64
	for _, w := range tokens(desc) {
		if id, ok := t.vocab[w]; ok {
			add(id, t.idf[id])
			sq += t.idf[id] * t.idf[id]
			continue
		}
		id, sim := t.closest(w)
		if id < 0 {
			// An unknown word still counts against similarity.
			sq += math.Log(1 + float64(len(t.itemToks)))
			continue
		}
		add(id, t.idf[id]*sim)
		sq += t.idf[id] * t.idf[id]
	}
	q.norm = math.Sqrt(sq)
	return q
}

// closest returns the catalog token w most likely stands for, and how much
// to trust that (0..1), or -1.
func (t *textIndex) closest(w string) (int32, float64) {
	best, bestSim := int32(-1), 0.0
	if len(w) >= 3 {
		counts := map[int32]int{}
		grams := trigramsOf(w)
		for _, g := range grams {
			for _, id := range t.trigrams[g] {
				counts[id]++
			}
		}
		for id, c := range counts {
			other := len(t.words[id]) + 2 - 2
			jac := float64(c) / float64(len(grams)+other-c)
			if jac > bestSim || (jac == bestSim && id < best) {
				best, bestSim = id, jac
			}
		}
		if bestSim < 0.4 {
			best, bestSim = -1, 0
		}
	}
	if len(w) >= 2 && w[0] >= 'A' && w[0] <= 'Z' {
		var abbr []int32
		for _, id := range t.byFirst[w[0]] {
			if abbreviates(w, t.words[id]) {
				abbr = append(abbr, id)
			}
		}
		// An abbreviation that fits one word only is as good as a
		// misspelling; one that fits several is split between them.
		if len(abbr) > 0 {
			sim := 0.8 / float64(len(abbr))
			if sim > bestSim {
				// The most frequent expansion is the likelier one.
				best = abbr[0]
				for _, id := range abbr[1:] {
					if len(t.postings[id]) > len(t.postings[best]) {
						best = id
					}
				}
				bestSim = max(sim, 0.5)
			}
		}
	}
	return best, bestSim
}

// sim is the cosine similarity of q and item i.
func (t *textIndex) sim(q queryVec, i int32) float64 {
	if q.norm == 0 || t.itemNorm[i] == 0 {
		return 0
	}
	var dot float64
	toks := t.itemToks[i]
	for k, id := range q.toks {
		if slices.Contains(toks, id) {
			dot += q.w[k] * t.idf[id]
		}
	}
	return dot / (q.norm * t.itemNorm[i])
}

// maxCandidates bounds the items a description query scores.
const maxCandidates = 1000

// search returns the items most similar to q, best first, at most n.
// Candidates are the items carrying the query's rarest tokens: the rarest
// token's postings, narrowed by the next rarest (postings are sorted by
// item, so narrowing is a merge) until at most maxCandidates remain; a
// token that would leave none (a misspelling resolved to the wrong word) is
// skipped. Every query token then scores each candidate.
func (t *textIndex) search(q queryVec, n int) []scored {
	if q.norm == 0 || len(q.toks) == 0 {
		return nil
	}
	order := make([]int, len(q.toks))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		return len(t.postings[q.toks[order[a]]]) < len(t.postings[q.toks[order[b]]])
	})
	cands := t.postings[q.toks[order[0]]]
	var buf []int32
	for _, k := range order[1:] {
		if len(cands) <= maxCandidates {
			break
		}
		next := intersect(buf[:0], cands, t.postings[q.toks[k]])
		if len(next) == 0 {
			continue
		}
		cands, buf = next, next
	}
	if len(cands) > maxCandidates {
		cands = cands[:maxCandidates]
	}
	out := make([]scored, 0, n+1)
	for _, it := range cands {
		toks, sig := t.itemToks[it], t.itemSig[it]
		var d float64
		for k, id := range q.toks {
			if sig&(1<<(id&63)) != 0 && slices.Contains(toks, id) {
				d += q.w[k] * t.idf[id]
			}
		}
		s := d / (q.norm * t.itemNorm[it])
		// Keep the best n, best first (n is small).
		if len(out) == n && !better(scored{it, s}, out[n-1]) {
			continue
		}
		pos := len(out)
		for pos > 0 && better(scored{it, s}, out[pos-1]) {
			pos--
		}
		out = slices.Insert(out, pos, scored{it, s})
		if len(out) > n {
			out = out[:n]
		}
	}
	return out
}

// intersect appends to dst the items in both sorted lists. dst may be a[:0]:
// it never writes ahead of what it reads.
func intersect(dst, a, b []int32) []int32 {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			dst = append(dst, a[i])
			i++
			j++
		}
	}
	return dst
}

func better(a, b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.item < b.item
}

type scored struct {
	item  int32
	score float64
}
