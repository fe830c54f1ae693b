package redact

import (
	"iter"
	"strconv"
	"strings"
)

// Kind is a kind of sensitive data.
type Kind uint8

// The kinds of sensitive data. PAN is cardholder data (PCI DSS Req. 3.4,
// 3.5); Track, CVV and PIN are sensitive authentication data, never kept
// after authorization (Req. 3.3.1); Email, Phone and Personal are personal
// data, tokenized rather than removed.
const (
	PAN      Kind = iota + 1 // a primary account number, removed or masked
	Track                    // full track 1 or track 2 data, removed
	CVV                      // a card verification code (CVV2, CVC2, CID), removed
	PIN                      // a PIN or PIN block, removed
	Email                    // an e-mail address, tokenized
	Phone                    // a phone number, tokenized
	Personal                 // a name, address or other personal field, tokenized
	kindEnd
)

var kindNames = [...]string{PAN: "pan", Track: "track", CVV: "cvv", PIN: "pin",
	Email: "email", Phone: "phone", Personal: "personal"}

// String returns the kind's short lowercase name: "pan", "cvv", …
func (k Kind) String() string {
	if k == 0 || k >= kindEnd {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// SAD reports whether the kind is sensitive authentication data.
func (k Kind) SAD() bool { return k == Track || k == CVV || k == PIN }

// PII reports whether the kind is personal data that is tokenized.
func (k Kind) PII() bool { return k == Email || k == Phone || k == Personal }

// Findings counts what a redaction removed, masked or tokenized, by kind.
// It never holds the values themselves. The zero value is empty.
type Findings struct {
	n [kindEnd]int
}

// Count returns how many items of a kind were found.
func (f Findings) Count(k Kind) int {
	if k >= kindEnd {
		return 0
	}
	return f.n[k]
}

// Total returns the number of items found of every kind.
func (f Findings) Total() int {
	t := 0
	for _, n := range f.n {
		t += n
	}
	return t
}

// PCI returns the number of card data items found: PANs and sensitive
// authentication data.
func (f Findings) PCI() int { return f.n[PAN] + f.SAD() }

// SAD returns the number of sensitive authentication data items found.
func (f Findings) SAD() int { return f.n[Track] + f.n[CVV] + f.n[PIN] }

// PII returns the number of personal data items tokenized.
func (f Findings) PII() int { return f.n[Email] + f.n[Phone] + f.n[Personal] }

// Add adds g's counts to f.
func (f *Findings) Add(g Findings) {
	for i, n := range g.n {
		f.n[i] += n
	}
}

func (f *Findings) inc(k Kind) { f.n[k]++ }

// All yields the kinds found at least once with their counts, in Kind order.
func (f Findings) All() iter.Seq2[Kind, int] {
	return func(yield func(Kind, int) bool) {
		for k := PAN; k < kindEnd; k++ {
			if f.n[k] > 0 && !yield(k, f.n[k]) {
				return
			}
		}
	}
}

// String formats the counts as "pan=2 cvv=1", or "none".
func (f Findings) String() string {
	var b strings.Builder
	for k, n := range f.All() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k.String())
		b.WriteByte('=')
		b.WriteString(strconv.Itoa(n))
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}
