package redact

import (
	"fmt"
	"strings"
)

// fieldClass is what a JSON field's (or struct field's) name says about its
// value.
type fieldClass uint16

const (
	// fieldID holds platform IDs: Luhn-valid numbers in it are not PANs
	// unless a card keyword is near.
	fieldID fieldClass = 1 << iota
	// fieldCard holds a card number by name: any 12–19 digit number in it
	// is removed, Luhn-valid or not.
	fieldCard
	// fieldLast4 holds the last four digits of a card: a whole PAN in it is
	// cut to its last four.
	fieldLast4
	fieldCVV   // a 3–4 digit value is a card verification code
	fieldPIN   // a 4–12 digit or 16/32 hex value is a PIN or PIN block
	fieldTrack // any value with digits is track data
	fieldEmail
	fieldPhone
	fieldPersonal
)

const (
	fieldSAD = fieldCVV | fieldPIN | fieldTrack
	fieldPII = fieldEmail | fieldPhone | fieldPersonal
)

// Field names are compared in snake case, so "orderId", "OrderID",
// "order-id" and "order_id" are one name; see snake.

// cardFields, last4Fields and sadFields are fixed: they name card data in
// the payloads of POS systems and gateways, and no configuration should be
// able to let such a value through.
var (
	cardFields = []string{
		"pan", "card_number", "cardnumber", "card_no", "card_num", "cc", "cc_number", "ccnumber",
		"cc_num", "ccnum", "credit_card", "credit_card_number", "creditcard", "creditcard_number",
		"primary_account_number", "pan_number", "card_pan", "account_pan",
		"card.number", "payment_card.number", "credit_card.number", "source.number",
	}
	last4Fields = []string{
		"last4", "last_4", "last_four", "last4_digits", "last_four_digits", "card_last4",
		"card_last_four", "pan_last4",
	}
	cvvFields = []string{
		"cvv", "cvv2", "cvc", "cvc2", "cid", "csc", "cav2", "cvn", "cvn2", "cvd", "cvv_code",
		"cvc_code", "cvv_number", "cvc_number", "security_code", "card_security_code", "card_code",
		"card_cvv", "card_cvv2", "card_cvc", "card_verification", "card_verification_value",
		"card_verification_code", "verification_value",
	}
	pinFields = []string{
		"pin", "pin_block", "pinblock", "encrypted_pin", "encrypted_pin_block", "epb", "pin_data",
		"enc_pin", "pin_value",
	}
	trackFields = []string{
		"track1", "track2", "track_1", "track_2", "track1_data", "track2_data", "track_1_data",
		"track_2_data", "track_data", "track2_equivalent", "track2_equivalent_data", "magstripe",
		"mag_stripe", "magstripe_data", "mag_stripe_data", "magnetic_stripe", "swipe_data", "raw_swipe",
	}
)

// DefaultIDFields returns the field names whose values are platform IDs
// (Shopify order and line item IDs are 18–19 digits and one in ten passes
// Luhn): id, *_id and their kin.
func DefaultIDFields() []string {
	return []string{"id", "*_id", "*_ids", "uuid", "*_uuid", "gid", "*_gid", "*_seq", "*_sequence", "idempotency_key"}
}

// DefaultPIIFields returns the field names whose values are personal data,
// tokenized when a Tokenizer is configured. A bare "name" is not among them:
// Shopify line items and products have names too; a person's name is
// matched through its parent (customer.name, billing_address.name).
func DefaultPIIFields() []string {
	return []string{
		"email", "email_address", "customer_email", "contact_email", "buyer_email",
		"phone", "phone_number", "mobile", "mobile_phone", "mobile_number", "telephone", "tel", "customer_phone",
		"first_name", "last_name", "middle_name", "full_name", "customer_name", "cardholder_name",
		"card_holder", "card_holder_name", "cardholder", "billing_name", "shipping_name",
		"customer.name", "*_address.name", "billing.name", "shipping.name",
		"address1", "address2", "address_line1", "address_line2", "address_line_1", "address_line_2",
		"street", "street_address", "street1", "street2",
		"birthday", "birth_date", "date_of_birth", "dob",
	}
}

// piiClass names the kind of personal data a PII field name holds.
func piiClass(pattern string) fieldClass {
	switch {
	case strings.Contains(pattern, "email"):
		return fieldEmail
	case strings.Contains(pattern, "phone") || strings.Contains(pattern, "mobile") || pattern == "tel":
		return fieldPhone
	}
	return fieldPersonal
}

// glob is one part of a field pattern: an exact name, "prefix*", "*suffix"
// or "*".
type glob struct {
	s      string
	prefix bool // s* (s is the prefix)
	suffix bool // *s (s is the suffix)
}

func (g glob) match(b []byte) bool {
	switch {
	case g.prefix && g.suffix:
		return true
	case g.prefix:
		return len(b) >= len(g.s) && string(b[:len(g.s)]) == g.s
	case g.suffix:
		return len(b) >= len(g.s) && string(b[len(b)-len(g.s):]) == g.s
	}
	return string(b) == g.s
}

func parseGlob(s string) (glob, error) {
	switch {
	case s == "":
		return glob{}, fmt.Errorf("empty name")
	case s == "*":
		return glob{prefix: true, suffix: true}, nil
	case strings.Count(s, "*") > 1:
		return glob{}, fmt.Errorf("%q: one * at the start or end only", s)
	case strings.HasPrefix(s, "*"):
		return glob{s: s[1:], suffix: true}, nil
	case strings.HasSuffix(s, "*"):
		return glob{s: s[:len(s)-1], prefix: true}, nil
	case strings.Contains(s, "*"):
		return glob{}, fmt.Errorf("%q: one * at the start or end only", s)
	}
	return glob{s: s}, nil
}

type pathRule struct {
	parent, key glob // parent is the name of the enclosing object's field
	class       fieldClass
}

// fieldSet classifies field names.
type fieldSet struct {
	byKey map[string]*nameRules // rules for an exact name
	globs []pathRule            // rules whose name is a glob
	// ends marks the last bytes of "*suffix" names and the first bytes of
	// "prefix*" names: a name matching neither skips the globs.
	ends, starts [256]bool
	any          bool // a "*" name: every name must try the globs
}

// nameRules are the rules for one exact name.
type nameRules struct {
	class fieldClass // whatever the parent
	paths []pathRule // with a parent
}

func (fs *fieldSet) rules(name string) *nameRules {
	if fs.byKey == nil {
		fs.byKey = map[string]*nameRules{}
	}
	nr := fs.byKey[name]
	if nr == nil {
		nr = &nameRules{}
		fs.byKey[name] = nr
	}
	return nr
}

const maxFieldName = 64 // longer names are not classified

// add adds a pattern: "name", "*_suffix", "prefix_*", or "parent.name"
// where both parts may be such globs. Names are compared in snake case.
func (fs *fieldSet) add(pattern string, c fieldClass) error {
	var sb []byte
	parentPat, keyPat, hasParent := strings.Cut(pattern, ".")
	if strings.Contains(keyPat, ".") {
		return fmt.Errorf("field pattern %q: at most one dot (parent.name)", pattern)
	}
	if !hasParent {
		keyPat, parentPat = parentPat, ""
	}
	keyPat = string(snake(sb, []byte(keyPat)))
	if len(keyPat) > maxFieldName {
		return fmt.Errorf("field pattern %q: longer than %d bytes", pattern, maxFieldName)
	}
	key, err := parseGlob(keyPat)
	if err != nil {
		return fmt.Errorf("field pattern %q: %w", pattern, err)
	}
	if !hasParent && !key.prefix && !key.suffix {
		fs.rules(key.s).class |= c
		return nil
	}
	r := pathRule{key: key, class: c, parent: glob{prefix: true, suffix: true}}
	if hasParent {
		if r.parent, err = parseGlob(string(snake(sb, []byte(parentPat)))); err != nil {
			return fmt.Errorf("field pattern %q: %w", pattern, err)
		}
	}
	switch {
	case key.prefix && key.suffix || key.s == "":
		fs.any = true
	case key.suffix:
		fs.ends[key.s[len(key.s)-1]] = true
	case key.prefix:
		fs.starts[key.s[0]] = true
	default:
		nr := fs.rules(key.s)
		nr.paths = append(nr.paths, r)
		return nil
	}
	fs.globs = append(fs.globs, r)
	return nil
}

// classify returns the class of a field from its snake-case name and the
// snake-case name of the field holding its object ("" at the top).
func (fs *fieldSet) classify(key, parent []byte) fieldClass {
	if len(key) == 0 || len(key) > maxFieldName {
		return 0
	}
	var c fieldClass
	if nr := fs.byKey[string(key)]; nr != nil {
		c = nr.class
		for _, r := range nr.paths {
			if r.parent.match(parent) {
				c |= r.class
			}
		}
	}
	if fs.any || fs.ends[key[len(key)-1]] || fs.starts[key[0]] {
		for i := range fs.globs {
			r := &fs.globs[i]
			if r.key.match(key) && r.parent.match(parent) {
				c |= r.class
			}
		}
	}
	// Card data names win over ID names ("card_id" aside, which has
	// neither): a field cannot be both excused and suspect.
	if c&(fieldSAD|fieldCard|fieldLast4) != 0 {
		c &^= fieldID | fieldPII
	}
	return c
}

// isSnake reports whether a name is already in the form snake gives it.
func isSnake(name []byte) bool {
	for i, c := range name {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
		case c == '_' && i > 0 && name[i-1] != '_':
		default:
			return false
		}
	}
	return true
}

// snake appends the snake-case form of a field name to dst: "orderId",
// "OrderID", "order-id" become "order_id"; "PINBlock" becomes "pin_block".
func snake(dst, name []byte) []byte {
	under := func() {
		if len(dst) > 0 && dst[len(dst)-1] != '_' {
			dst = append(dst, '_')
		}
	}
	for i, c := range name {
		switch {
		case c >= 'A' && c <= 'Z':
			if i > 0 {
				p := name[i-1]
				lowerOrDigit := p >= 'a' && p <= 'z' || p >= '0' && p <= '9'
				upperThenLower := p >= 'A' && p <= 'Z' && i+1 < len(name) && name[i+1] >= 'a' && name[i+1] <= 'z'
				if lowerOrDigit || upperThenLower {
					under()
				}
			}
			dst = append(dst, c+('a'-'A'))
		case c == '-' || c == ' ' || c == '_':
			under()
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
