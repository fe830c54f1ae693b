package redact

// This file holds the detector: one left-to-right pass over a string that
// finds PANs, track data, CVVs, PINs and (when tokenizing) e-mail addresses
// and phone numbers. It looks only at digit runs and at '@' and '+'; every
// other byte costs one table lookup. There are no regular expressions and
// no backtracking: each byte is visited a bounded number of times.

// text is what the detector reads: a string, or the bytes of a JSON string.
type text interface{ ~string | ~[]byte }

// span is one finding: bytes [start, end) of the value are replaced by repl.
type span struct {
	start, end int
	kind       Kind
	brand      brand
	repl       string
}

// Replacement markers. They hold no digits, so a second pass finds nothing
// in them.
const (
	markPAN   = "[PAN]"
	markTrack = "[TRACK]"
	markCVV   = "[CVV]"
	markPIN   = "[PIN]"
)

const (
	bDigit = 1 + iota
	bAt
	bPlus
)

// byteClass marks the bytes that start a look: digits, '@' and '+'.
var byteClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = bDigit
	}
	t['@'] = bAt
	t['+'] = bPlus
	return t
}()

func isDigit(c byte) bool { return c-'0' < 10 }

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isAlnum(c byte) bool { return isDigit(c) || isLetter(c) }

func isHex(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

// maxGroups bounds the digit groups of one chain held at once; longer
// chains are processed in overlapping windows. It is small because the
// array is zeroed for every digit run.
const maxGroups = 16

// maxWindowGroups is the most digit groups one card number may span.
const maxWindowGroups = 6

// group is a run of digits [start, end).
type group struct{ start, end int }

// scanner finds sensitive data in one value.
type scanner[T text] struct {
	r   *Redactor
	s   T
	cls fieldClass
	// pii enables e-mail and phone detection (tokenizing, not scanning).
	pii bool
	// out receives the findings. It is a pointer to a slice that lives on
	// the heap anyway (pooled): appending through a field of the scanner
	// would make escape analysis move the scanned value to the heap too.
	out *[]span
	// lastEnd is where the last finding ended. Context is never read from
	// before it: a second pass over the redacted text then sees exactly the
	// context the first pass saw, which makes redaction idempotent.
	lastEnd int
}

func (sc *scanner[T]) run() {
	s := sc.s
	n := len(s)
	for i := 0; i < n; {
		c := byteClass[s[i]]
		if c == 0 {
			i++
			continue
		}
		switch c {
		case bDigit:
			i = sc.digits(i)
		case bAt:
			i = sc.email(i)
		case bPlus:
			i = sc.plusPhone(i)
		}
	}
}

// floor returns how far back from pos context may be read: at most limit
// bytes, never before the last finding, and never into what a redaction
// writes (a marker, a mask, a token). A second pass over redacted text thus
// reads exactly the context the first pass read.
func (sc *scanner[T]) floor(pos, limit int) int {
	s := sc.s
	lo := pos - limit
	if lo < sc.lastEnd {
		lo = sc.lastEnd
	}
	for k := pos; k > lo; k-- {
		switch c := s[k-1]; {
		case c == '*':
			return k
		case c == ']' && endsWithMarker(s[:k]):
			return k
		case k >= tokenLen+1 && s[k-tokenLen-1] == ':' && tokenEndsAt(s, k):
			return k
		}
	}
	return lo
}

func endsWithMarker[T text](s T) bool {
	for _, m := range [...]string{markPAN, markTrack, markCVV, markPIN} {
		if len(s) >= len(m) && string(s[len(s)-len(m):]) == m {
			return true
		}
	}
	return false
}

// tokenEndsAt reports whether a token ("tok:<key ID>:<base64url>") ends at
// k. The body has a fixed length, so what follows does not matter: a token
// written right before a letter is still one.
func tokenEndsAt[T text](s T, k int) bool {
	for j := k - tokenLen; j < k; j++ {
		if !isB64(s[j]) {
			return false
		}
	}
	j := k - tokenLen - 1 // the ':' before the body
	i := j
	for i > 0 && j-i < 32 && isB64(s[i-1]) {
		i--
	}
	return i < j && i >= 4 && string(s[i-4:i]) == "tok:"
}

// tokenStartsAt reports whether a token starts at k.
func tokenStartsAt[T text](s T, k int) bool {
	if len(s)-k < len("tok:x:")+tokenLen || string(s[k:k+4]) != "tok:" {
		return false
	}
	j := k + 4
	for j < len(s) && j-k-4 < 32 && isB64(s[j]) && s[j] != ':' {
		j++
	}
	if j == k+4 || j >= len(s) || s[j] != ':' || len(s)-j-1 < tokenLen {
		return false
	}
	return tokenEndsAt(s, j+1+tokenLen)
}

func markerStartsAt[T text](s T, k int) bool {
	for _, m := range [...]string{markPAN, markTrack, markCVV, markPIN} {
		if len(s)-k >= len(m) && string(s[k:k+len(m)]) == m {
			return true
		}
	}
	return false
}

func isB64(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

func (sc *scanner[T]) emit(start, end int, k Kind, b brand, repl string) {
	*sc.out = append(*sc.out, span{start: start, end: end, kind: k, brand: b, repl: repl})
	sc.lastEnd = end
}

// digits handles the chain of digit groups starting at i: groups of digits
// joined by single spaces or dashes ("4111 1111 1111 1111", "3782-822463-
// 10005"). It returns where scanning continues.
func (sc *scanner[T]) digits(i int) int {
	s := sc.s
	n := len(s)
	var gs [maxGroups]group
	ng := 0
	capped := false
	for j := i; ; {
		k := j
		for k < n && isDigit(s[k]) {
			k++
		}
		gs[ng] = group{j, k}
		ng++
		if k+1 < n && (s[k] == ' ' || s[k] == '-') && isDigit(s[k+1]) {
			if ng == maxGroups {
				capped = true
				break
			}
			j = k + 1
			continue
		}
		break
	}
	chainEnd := gs[ng-1].end

	// Track 2 ends a chain with its separator: "…4111111111111111=2512…".
	last := ng
	trackEnd, track := 0, false
	if !capped {
		trackEnd, track = sc.track2(gs[ng-1], ng == 1)
		if track {
			last = ng - 1
		}
	}
	// Digits touching a mask character belong to an already masked number
	// ("411111******1111", "•••• 4242"): they start or end no candidate.
	first := 0
	masked := false
	if gs[0].end-gs[0].start <= 4 && sc.maskedBefore(gs[0].start) {
		first, masked = 1, true
	}
	if !track && last > 0 && sc.maskedAfter(gs[last-1]) {
		last, masked = last-1, true
	}
	if ng == 1 && !masked && !track {
		if end, ok := sc.single(gs[0]); ok {
			return end
		}
	}
	limit := last
	if capped {
		limit = ng - maxWindowGroups // windows starting later may run past the last group
	}
	before, base := sc.lastEnd, len(*sc.out)
	next := sc.candidates(gs[:last], first, limit)
	if track {
		g := gs[ng-1]
		start := g.start
		if ng == 1 && start > 0 && s[start-1] == ';' && start-1 >= sc.lastEnd {
			start--
		}
		sc.emit(start, trackEnd, Track, lookupIIN(digitsOf(s, g)), markTrack)
	}
	if out := *sc.out; len(out) > base && first == 0 && out[base].start > gs[0].start && out[base].repl[0] == '[' {
		sc.leading(gs[:ng], base, before)
	}
	if track {
		return trackEnd
	}
	if capped {
		if next = max(next, limit); next < ng {
			return gs[next].start
		}
		return chainEnd
	}
	if sc.lastEnd <= gs[0].start && !masked {
		// Nothing in this chain was a card number: maybe a phone number.
		if end, ok := sc.keywordPhone(gs[0].start, chainEnd, len(s)); ok {
			return end
		}
	}
	return chainEnd
}

// leading handles the groups of a chain before its first finding when that
// finding became a marker: a second pass sees them as a chain of their own
// ("pin0000 [PAN]"), so this pass must judge them so too (a PIN, a CVV, a
// phone number), before the findings already made in the chain.
func (sc *scanner[T]) leading(gs []group, base, before int) {
	k := 0
	for k < len(gs) && gs[k].end <= (*sc.out)[base].start {
		k++
	}
	pending := append([]span(nil), (*sc.out)[base:]...)
	*sc.out, sc.lastEnd = (*sc.out)[:base], before
	if k == 1 {
		sc.single(gs[0])
	}
	if len(*sc.out) == base {
		sc.keywordPhone(gs[0].start, gs[k-1].end, gs[k-1].end)
	}
	*sc.out = append(*sc.out, pending...)
	sc.lastEnd = pending[len(pending)-1].end
}

// candidates tries every window of consecutive groups starting at a group
// in [first, limit), longest first, and emits the PANs it accepts. It
// returns the index of the first group not consumed.
func (sc *scanner[T]) candidates(gs []group, first, limit int) int {
	minDigits := 13
	if sc.cls&(fieldCard|fieldLast4) != 0 {
		minDigits = 12
	}
	a := first
	for a < limit {
		// The longest window from a with at most 19 digits in at most six
		// groups (no card is printed in more: 4-4-4-4-3 has five).
		total, b := 0, a-1
		for b+1 < len(gs) && b+1-a < maxWindowGroups {
			l := gs[b+1].end - gs[b+1].start
			if total+l > 19 {
				break
			}
			total += l
			b++
		}
		accepted := false
		for ; b >= a && total >= minDigits; b-- {
			if br, ok := sc.pan(gs[a:b+1], total); ok {
				start, end := gs[a].start, gs[b].end
				sc.emit(start, end, PAN, br, panRepl(sc.r, sc.s[start:end]))
				a = b + 1
				accepted = true
				break
			}
			total -= gs[b].end - gs[b].start
		}
		if !accepted {
			a++
		}
	}
	return a
}

// pan decides whether a window of digit groups holding total digits is a
// PAN. Luhn, the IIN table and the length rules are the gate; context then
// weighs in: each of an ID field, a valid GTIN barcode, an E.164 phone
// prefix, an unusual grouping or a long hex token lowers the score below
// the threshold, and a card keyword close before raises it back.
func (sc *scanner[T]) pan(gs []group, total int) (brand, bool) {
	var buf [19]byte
	d := buf[:0]
	for _, g := range gs {
		for k := g.start; k < g.end; k++ {
			d = append(d, sc.s[k])
		}
	}
	if sc.cls&(fieldCard|fieldLast4) != 0 {
		// Named a card number: any 12–19 digits are one, valid or not.
		b := brandNone
		if luhn(d) {
			b = lookupIIN(d)
		}
		return b, true
	}
	if total < 13 || d[0] < '2' || d[0] > '6' || !luhn(d) {
		return brandNone, false
	}
	b := lookupIIN(d)
	if b == brandNone {
		return brandNone, false
	}
	score := 2
	if sc.cls&fieldID != 0 {
		score -= 2
	}
	if (total == 13 || total == 14) && gtin(d) {
		score -= 2
	}
	start := gs[0].start
	if start > 0 && sc.s[start-1] == '+' && total <= 15 {
		score -= 2 // E.164 numbers have at most 15 digits
	}
	if len(gs) > 1 && !cardGrouping(gs) {
		score -= 2
	}
	if sc.hexToken(gs) {
		score -= 2
	}
	if score < 2 && sc.keywordBefore(start, wordCard) {
		score += 2
	}
	return b, score >= 2
}

// cardGrouping reports whether groups are laid out as card numbers are
// printed: fours with a shorter last group (4-4-4-4, 4-4-4-4-3), or Amex and
// Diners 4-6-5 and 4-6-4.
func cardGrouping(gs []group) bool {
	l := func(i int) int { return gs[i].end - gs[i].start }
	if len(gs) == 3 && l(0) == 4 && l(1) == 6 && (l(2) == 5 || l(2) == 4) {
		return true
	}
	for i := range len(gs) - 1 {
		if l(i) != 4 {
			return false
		}
	}
	return l(len(gs)-1) <= 4
}

// hexToken reports whether the window's first group is part of a hex
// string (a hash, a key) of 24 or more characters that it is glued to with
// a hex letter on either side. Looking forward is safe for a second pass:
// a later number inside the same hex string is itself inside it, so is not
// redacted either, and looking back stops at the last redaction.
func (sc *scanner[T]) hexToken(gs []group) bool {
	s := sc.s
	start, end := gs[0].start, gs[0].end
	before := start > 0 && isHex(s[start-1]) && !isDigit(s[start-1])
	after := end < len(s) && isHex(s[end]) && !isDigit(s[end])
	if !before && !after {
		return false
	}
	a := start
	for lo := sc.floor(start, 64); a > lo && isHex(s[a-1]); {
		a--
	}
	e := end
	for e < len(s) && e-a < 24 && isHex(s[e]) {
		e++
	}
	return e-a >= 24
}

// maskedBefore reports whether the group starting at i is the tail of an
// already masked number: it follows mask characters that themselves follow
// digits ("411111******1111") or number four or more ("************1111",
// "•••• 4242"). Markdown's "**4111 1111 1111 1111**" is not a mask.
func (sc *scanner[T]) maskedBefore(i int) bool {
	s := sc.s
	k := i
	if k > 0 && s[k-1] == ' ' {
		k--
	}
	n := 0
	for {
		switch {
		case k > 0 && s[k-1] == '*':
			k--
		case k >= 3 && s[k-3] == 0xe2 && s[k-2] == 0x80 && s[k-1] == 0xa2: // U+2022 BULLET
			k -= 3
		case k > 0 && s[k-1] == ' ' && n > 0 && n%4 == 0: // "**** **** **** 4242"
			k--
			continue
		default:
			return n >= 4 || n > 0 && k > 0 && isDigit(s[k-1])
		}
		n++
	}
}

// maskAt reports whether a mask character ('*' or U+2022) is at i.
func (sc *scanner[T]) maskAt(i int) bool {
	s := sc.s
	return i < len(s) && (s[i] == '*' || i+2 < len(s) && s[i] == 0xe2 && s[i+1] == 0x80 && s[i+2] == 0xa2)
}

// maskedAfter reports whether a group of six to eight digits (a BIN) ending
// at i is followed by mask characters: the head of a masked number.
func (sc *scanner[T]) maskedAfter(g group) bool {
	l := g.end - g.start
	return l >= 6 && l <= 8 && sc.maskAt(g.end)
}

// single handles a chain of one digit group: track 1, a short number after
// a CVV or PIN keyword, a hex PIN block.
func (sc *scanner[T]) single(g group) (int, bool) {
	s := sc.s
	l := g.end - g.start
	if l >= 13 && l <= 19 {
		if end, ok := sc.track1(g); ok {
			return end, true
		}
	}
	glued := g.end < len(s) && isAlnum(s[g.end])
	if !glued && l >= 3 && l <= 12 {
		w1, w2 := sc.prevWords(g.start)
		switch {
		case l <= 4 && cvvPhrase(w1, w2):
			sc.emit(g.start, g.end, CVV, brandNone, markCVV)
			return g.end, true
		case l >= 4 && pinPhrase(w1, w2):
			sc.emit(g.start, g.end, PIN, brandNone, markPIN)
			return g.end, true
		}
	}
	// A PIN block is 16 (ISO 9564 formats 0–3) or 32 (format 4) hex digits.
	if l <= 32 && (glued && isHex(s[g.end]) || l == 16 || l == 32 || g.start > 0 && isHex(s[g.start-1])) {
		a, b := g.start, g.end
		for lo := sc.floor(g.start, 33); a > lo && isHex(s[a-1]); {
			a--
		}
		for b < len(s) && isHex(s[b]) && b-a <= 32 {
			b++
		}
		if (b-a == 16 || b-a == 32) && (a == 0 || !isAlnum(s[a-1])) && (b == len(s) || !isAlnum(s[b])) {
			if w1, w2 := sc.prevWords(a); pinPhrase(w1, w2) {
				sc.emit(a, b, PIN, brandNone, markPIN)
				return b, true
			}
		}
	}
	return 0, false
}

// track1 recognises ISO/IEC 7813 track 1, format B:
// %B<PAN>^<NAME>^<YYMM><service code><discretionary data>?
func (sc *scanner[T]) track1(g group) (int, bool) {
	s := sc.s
	if g.start == 0 || s[g.start-1]|0x20 != 'b' || g.end >= len(s) || s[g.end] != '^' {
		return 0, false
	}
	start := g.start - 1
	if start > 0 && s[start-1] == '%' {
		start--
	} else if start > 0 && isAlnum(s[start-1]) {
		return 0, false // "123B4111…^": no sentinel and no boundary
	}
	if start < sc.floor(g.start, 2) || !luhn(digitsOf(s, g)) {
		return 0, false
	}
	k := g.end + 1
	for k < len(s) && k-g.end <= 27 && s[k] != '^' && s[k] >= 0x20 && s[k] != '?' {
		k++
	}
	if k >= len(s) || s[k] != '^' {
		return 0, false
	}
	k++
	d := k
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	if k-d < 4 && (k == len(s) || s[k] != '^') {
		return 0, false
	}
	if k < len(s) && s[k] == '?' {
		k++
	}
	sc.emit(start, k, Track, lookupIIN(digitsOf(s, g)), markTrack)
	return k, true
}

// track2 recognises ISO/IEC 7813 track 2, ;<PAN>=<YYMM><service code>
// <discretionary data>?, and the EMV track 2 equivalent (tag 57) that uses
// D as the separator. Without sentinels it asks for a known IIN or at least
// expiry and service code after the separator.
func (sc *scanner[T]) track2(g group, alone bool) (int, bool) {
	s := sc.s
	l := g.end - g.start
	if l < 13 || l > 19 || g.end+1 >= len(s) || (s[g.end] != '=' && s[g.end]|0x20 != 'd') {
		return 0, false
	}
	k := g.end + 1
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	after := k - g.end - 1
	if after < 4 || k < len(s) && isLetter(s[k]) && s[k]|0x20 != 'f' {
		return 0, false
	}
	for k < len(s) && s[k]|0x20 == 'f' { // EMV pads tag 57 with F
		k++
	}
	d := digitsOf(s, g)
	if !luhn(d) {
		return 0, false
	}
	sentinel := alone && g.start > 0 && s[g.start-1] == ';'
	endSentinel := k < len(s) && s[k] == '?'
	if endSentinel {
		k++
	}
	if s[g.end] == '=' && !sentinel && !endSentinel && after < 7 && lookupIIN(d) == brandNone {
		return 0, false
	}
	if s[g.end] != '=' && (after < 7 || lookupIIN(d) == brandNone) {
		return 0, false
	}
	return k, true
}

func digitsOf[T text](s T, g group) []byte {
	d := make([]byte, 0, 19)
	for k := g.start; k < g.end && len(d) < 19; k++ {
		d = append(d, s[k])
	}
	return d
}

// word categories, as bits.
const (
	wordCard         = 1 << iota // a card keyword: raises a PAN candidate
	wordCVV                      // names a verification code on its own
	wordCode                     // "code", qualified by the word before
	wordCodeQual                 // "security", "verification", "card" before "code"
	wordVerification             // "verification", after "card"
	wordPIN
	wordBlock // "block", after "pin"
	wordPhone
	wordFiller // skipped between keyword and value: "is", "no", "number"
)

var words = func() map[string]uint16 {
	m := map[string]uint16{}
	add := func(bit uint16, ws ...string) {
		for _, w := range ws {
			m[w] |= bit
		}
	}
	add(wordCard, "card", "cards", "pan", "cc", "ccn", "ccnum", "cardno", "cardnumber", "creditcard",
		"credit", "debit", "visa", "mastercard", "amex", "discover", "maestro", "jcb", "diners",
		"unionpay", "kreditkarte", "karte", "kartennummer", "carte", "tarjeta", "acct", "account")
	add(wordCVV, "cvv", "cvv2", "cvc", "cvc2", "cid", "csc", "cav2", "cvn", "cvn2", "cvd", "cvvcode",
		"sicherheitscode", "pruefnummer", "cryptogramme")
	add(wordCode, "code")
	add(wordCodeQual, "security", "verification", "card", "cvv", "cvc")
	add(wordVerification, "verification")
	add(wordPIN, "pin", "pinblock", "epb") // not "pincode": an Indian postal code
	add(wordBlock, "block")
	add(wordPhone, "tel", "phone", "telephone", "mobile", "mob", "cell", "cellphone", "fon", "telefon",
		"handy", "fax", "call", "ph", "whatsapp")
	add(wordFiller, "is", "no", "nr", "number", "num", "value", "val", "was", "of", "the")
	return m
}()

func cvvPhrase(w1, w2 uint16) bool {
	return w1&wordCVV != 0 ||
		w1&wordCode != 0 && w2&wordCodeQual != 0 ||
		w1&wordVerification != 0 && w2&wordCard != 0
}

func pinPhrase(w1, w2 uint16) bool {
	return w1&wordPIN != 0 || w1&wordBlock != 0 && w2&wordPIN != 0
}

func isGap(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ':', '=', '#', '-', '"', '\'', '(', ')', '[', ']', '{', '}', '/', ',', '.', '<', '>', '|', ';', '\\', '_':
		return true
	}
	return false
}

// wordAt reads the word ending at k (exclusive) back to no further than lo
// and returns its categories and where it starts. Words are ASCII letters
// and digits, at most 16 of them.
func (sc *scanner[T]) wordAt(k, lo int) (uint16, int) {
	s := sc.s
	var buf [16]byte
	e := k
	for k > lo && isAlnum(s[k-1]) {
		if e-k == len(buf) {
			return 0, -1
		}
		k--
	}
	if k > lo && isAlnum(s[k-1]) || k == e {
		return 0, -1
	}
	for i := k; i < e; i++ {
		buf[i-k] = s[i] | 0x20 // ASCII letters and digits only: lowercases letters
	}
	if isDigit(s[k]) {
		// a number, not a word
		return 0, k
	}
	return words[string(buf[:e-k])], k
}

// prevWords returns the categories of the two words before pos, skipping
// punctuation (at most 6 bytes of it between words) and filler words, never
// reading before the last finding or more than 48 bytes back.
func (sc *scanner[T]) prevWords(pos int) (w1, w2 uint16) {
	s := sc.s
	lo := sc.floor(pos, 48)
	k := pos
	var got [2]uint16
	n, fillers := 0, 0
	for n < 2 {
		gap := 0
		for k > lo && isGap(s[k-1]) && gap < 6 {
			k--
			gap++
		}
		if k <= lo || !isAlnum(s[k-1]) {
			break
		}
		w, start := sc.wordAt(k, lo)
		if start < 0 {
			break
		}
		k = start
		if w&wordFiller != 0 && w&^wordFiller == 0 && fillers < 2 {
			fillers++
			continue
		}
		got[n] = w
		n++
	}
	return got[0], got[1]
}

// keywordBefore reports whether a word of the category appears in the 48
// bytes before pos (not crossing the last finding).
func (sc *scanner[T]) keywordBefore(pos int, cat uint16) bool {
	s := sc.s
	lo := sc.floor(pos, 48)
	for k := pos; k > lo; {
		if !isAlnum(s[k-1]) {
			k--
			continue
		}
		w, start := sc.wordAt(k, lo)
		if w&cat != 0 {
			return true
		}
		if start < 0 {
			for k > lo && isAlnum(s[k-1]) {
				k--
			}
			continue
		}
		k = start
	}
	return false
}

// email recognises an address around the '@' at i (tokenizing only).
func (sc *scanner[T]) email(at int) int {
	if !sc.pii {
		return at + 1
	}
	s := sc.s
	l, lo := at, sc.floor(at, 64)
	for l > lo && localChar(s[l-1]) {
		l--
	}
	for l < at && s[l] == '.' {
		l++
	}
	if l == at || l > 0 && s[l-1] == '*' {
		return at + 1 // "411111******1111@x.com": the tail of a masked number
	}
	r := at + 1
	for r < len(s) && r-at <= 253 && (isAlnum(s[r]) || s[r] == '.' || s[r] == '-') {
		if s[r] == 't' && tokenStartsAt(s, r) {
			return at + 1 // "x@y.tok:…": a token a first pass wrote after "x@y."
		}
		r++
	}
	if r < len(s) && s[r] == '[' && markerStartsAt(s, r) {
		return at + 1 // "x@y.com[PAN]": the first pass saw digits there
	}
	for r > at+1 && (s[r-1] == '.' || s[r-1] == '-') {
		r--
	}
	dot := -1
	for k := r - 1; k > at+1; k-- {
		if s[k] == '.' {
			dot = k
			break
		}
	}
	if dot < 0 || r-dot-1 < 2 {
		return at + 1
	}
	for k := dot + 1; k < r; k++ {
		if !isLetter(s[k]) {
			return at + 1
		}
	}
	sc.emit(l, r, Email, brandNone, sc.r.tok.Token(Email, string(s[l:r])))
	return r
}

func localChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// plusPhone recognises an international number, "+49 30 1234567",
// "+1 (415) 555-2671": 8 to 15 digits (E.164) after a '+' (tokenizing
// only).
func (sc *scanner[T]) plusPhone(i int) int {
	if !sc.pii {
		return i + 1
	}
	if end, nd := sc.phoneEnd(i+1, len(sc.s)); nd >= 8 && nd <= 15 && !sc.maskAt(end) {
		sc.emit(i, end, Phone, brandNone, sc.r.tok.Token(Phone, string(sc.s[i:end])))
		return end
	}
	return i + 1
}

// keywordPhone recognises a national number after a phone keyword:
// "Tel. 030 1234567", "phone: (030) 123-4567" (tokenizing only).
func (sc *scanner[T]) keywordPhone(start, chainEnd, limit int) (int, bool) {
	if !sc.pii {
		return 0, false
	}
	s := sc.s
	if start > sc.lastEnd && s[start-1] == '(' {
		start--
	}
	end, nd := sc.phoneEnd(start, limit)
	if nd < 7 || nd > 15 || end < chainEnd || sc.maskAt(end) {
		return 0, false
	}
	if w1, _ := sc.prevWords(start); w1&wordPhone == 0 {
		return 0, false
	}
	sc.emit(start, end, Phone, brandNone, sc.r.tok.Token(Phone, string(s[start:end])))
	return end, true
}

// phoneEnd reads digit groups with single separators (space, dash, dot,
// slash, parentheses) from i up to limit and returns where the last digit ends and how
// many digits there were. It stops before a group that would make more
// than 15 digits (E.164's limit), so "+49 30 1234567 4111111111111111" is
// a phone number and a card, not a 27-digit nothing; a first group longer
// than 15 digits is no phone number at all (nd = 16).
func (sc *scanner[T]) phoneEnd(i, limit int) (end, nd int) {
	s := sc.s
	end = i
	seps := 0
	for k := i; k < limit; {
		c := s[k]
		switch {
		case isDigit(c):
			g := k
			for k < limit && isDigit(s[k]) {
				k++
			}
			if nd+k-g > 15 {
				if nd == 0 {
					nd = 16
				}
				return end, nd
			}
			nd += k - g
			end = k
			seps = 0
			continue
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')':
			seps++
			if seps > 2 {
				return end, nd
			}
		default:
			return end, nd
		}
		k++
	}
	return end, nd
}
