package redact

// Card numbers (PANs) follow ISO/IEC 7812-1: an issuer identification number
// (IIN, the "BIN") of six or eight digits, an account number and a Luhn
// check digit, 8 to 19 digits in all; payment cards use 12 to 19. A
// candidate is a PAN here only when it is Luhn-valid and its prefix and
// length match a network in iinTable.

// brand is a card network.
type brand uint8

const (
	brandNone brand = iota
	brandVisa
	brandMastercard
	brandAmex
	brandDiscover
	brandJCB
	brandDiners
	brandUnionPay
	brandMaestro
	brandMir
)

var brandNames = [...]string{
	brandNone:       "",
	brandVisa:       "visa",
	brandMastercard: "mastercard",
	brandAmex:       "amex",
	brandDiscover:   "discover",
	brandJCB:        "jcb",
	brandDiners:     "diners",
	brandUnionPay:   "unionpay",
	brandMaestro:    "maestro",
	brandMir:        "mir",
}

func (b brand) String() string { return brandNames[b] }

// lengths is a bit set of PAN lengths: bit n set means n digits.
type lengths uint32

// upTo19 is the lengths from lo to 19, the longest PAN.
func upTo19(lo int) lengths {
	var l lengths
	for n := lo; n <= 19; n++ {
		l |= 1 << n
	}
	return l
}

func (l lengths) has(n int) bool { return n < 32 && l&(1<<n) != 0 }

// iinRange is a range of IIN prefixes of one network: the first digits
// digits of a PAN, read as a number, lie in [lo, hi].
type iinRange struct {
	digits int
	lo, hi uint32
	brand  brand
	len    lengths
}

// iinTable lists the networks' IIN ranges and PAN lengths, most specific
// first: the first range whose prefix and length both match names the
// brand. Sources (as stored in the search corpus, checked 2026):
//
//   - Visa 4, 13/16/19 digits; Mastercard 51–55 and 2221–2720, 16;
//     Amex 34/37, 15; Discover 6011, 622126–622925, 644–649, 65, 16–19;
//     JCB 3528–3589, 16–19; Diners Club International 300–305, 3095, 36,
//     38–39, 14–19; UnionPay 62, 16–19; Maestro 50, 56–69, 12–19: the
//     ISO/IEC 7812 IIN table reproduced at
//     https://ldapwiki.com/wiki/Wiki.jsp?page=Issuer+Identification+Number
//     and the Wikipedia "Payment card number" table it derives from.
//   - Mastercard 2-series 222100–272099, processed like 510000–559999:
//     https://blog.forte.net/mastercard-bin-range-coming/ and
//     https://www.hitechmerchants.ca/blog/mastercard-expansion-2-series-bins/
//   - Discover 6011, 622126–622925, 644–649, 65:
//     https://webdevfolio.com/cardfellow_live_9102023/blog/new-mastercard-bins
//   - Mir 2200–2204, 16–19 (Wikipedia "Payment card number").
//
// Maestro's 56–69 overlaps Discover and UnionPay; it comes last so that the
// specific networks name the brand, and it makes every Luhn-valid 13–19
// digit number starting with 50 or 56–69 a PAN. RuPay (60, 65, 81, 82, 508)
// is covered by the Maestro and Discover rows except its 81/82 ranges,
// which are left out on purpose: 18-digit Shopify IDs start with 8.
var iinTable = []iinRange{
	{2, 34, 34, brandAmex, 1 << 15},
	{2, 37, 37, brandAmex, 1 << 15},
	{3, 300, 305, brandDiners, upTo19(14)},
	{4, 3095, 3095, brandDiners, upTo19(14)},
	{2, 36, 36, brandDiners, upTo19(14)},
	{2, 38, 39, brandDiners, upTo19(14)},
	{4, 3528, 3589, brandJCB, upTo19(16)},
	{1, 4, 4, brandVisa, 1<<13 | 1<<16 | 1<<19},
	{2, 51, 55, brandMastercard, 1 << 16},
	{4, 2221, 2720, brandMastercard, 1 << 16},
	{4, 2200, 2204, brandMir, upTo19(16)},
	{4, 6011, 6011, brandDiscover, upTo19(16)},
	{6, 622126, 622925, brandDiscover, upTo19(16)},
	{3, 644, 649, brandDiscover, upTo19(16)},
	{2, 65, 65, brandDiscover, upTo19(16)},
	{2, 62, 62, brandUnionPay, upTo19(16)},
	{2, 50, 50, brandMaestro, upTo19(12)},
	{2, 56, 59, brandMaestro, upTo19(12)},
	{1, 6, 6, brandMaestro, upTo19(12)},
}

// lookupIIN returns the brand of a PAN given as ASCII digits, or brandNone
// when no network issues numbers of that prefix and length.
func lookupIIN(d []byte) brand {
	n := len(d)
	for i := range iinTable {
		r := &iinTable[i]
		if n < r.digits || !r.len.has(n) {
			continue
		}
		var p uint32
		for _, c := range d[:r.digits] {
			p = p*10 + uint32(c-'0')
		}
		if p >= r.lo && p <= r.hi {
			return r.brand
		}
	}
	return brandNone
}

// luhn reports whether ASCII digits pass the Luhn (mod 10) check of
// ISO/IEC 7812-1 Annex B.
func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// gtin reports whether ASCII digits are a valid GTIN-8, -12, -13 or -14
// (EAN/UPC barcode): weights 3 and 1 alternate from the digit left of the
// check digit (GS1 General Specifications §7.9.1).
func gtin(d []byte) bool {
	switch len(d) {
	case 8, 12, 13, 14:
	default:
		return false
	}
	sum := 0
	w := 3
	for i := len(d) - 2; i >= 0; i-- {
		sum += int(d[i]-'0') * w
		w = 4 - w
	}
	return (10-sum%10)%10 == int(d[len(d)-1]-'0')
}

// maskPAN writes the display form of a PAN (Req. 3.4.1: at most the BIN and
// the last four digits): the first six digits, or eight for PANs of 16 or
// more digits when bin8 is set, asterisks, and the last four.
func maskPAN(dst []byte, d []byte, bin8 bool) []byte {
	keep := 6
	if bin8 && len(d) >= 16 {
		keep = 8
	}
	if len(d) < keep+4+1 {
		keep = max(len(d)-4-1, 0)
	}
	dst = append(dst, d[:keep]...)
	for range len(d) - keep - 4 {
		dst = append(dst, '*')
	}
	return append(dst, d[len(d)-4:]...)
}
