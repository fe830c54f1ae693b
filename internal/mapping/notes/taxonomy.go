package notes

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tillsync/tillsync/internal/event"
)

// Kind is how a discount's value applies.
type Kind string

// Discount kinds.
const (
	Percent    Kind = "percent"     // value is a percentage, "20" is 20 %
	Amount     Kind = "amount"      // value is money taken off, in Currency
	FixedPrice Kind = "fixed_price" // value is the price the item sold at
)

// Valid reports whether k is one of the three kinds.
func (k Kind) Valid() bool { return k == Percent || k == Amount || k == FixedPrice }

// The default taxonomy of reason codes.
const (
	Damaged         = "DAMAGED"
	PriceMatch      = "PRICE_MATCH"
	Employee        = "EMPLOYEE"
	ManagerOverride = "MANAGER_OVERRIDE"
	Loyalty         = "LOYALTY"
	Coupon          = "COUPON"
	Promotion       = "PROMOTION"
	Bundle          = "BUNDLE"
	Clearance       = "CLEARANCE"
	Military        = "MILITARY"
	Senior          = "SENIOR"
	Student         = "STUDENT"
	Goodwill        = "GOODWILL"
	Other           = "OTHER"
)

// DefaultReasons is the default taxonomy, in a stable order.
func DefaultReasons() []string {
	return []string{Damaged, PriceMatch, Employee, ManagerOverride, Loyalty, Coupon, Promotion,
		Bundle, Clearance, Military, Senior, Student, Goodwill, Other}
}

// DefaultThreshold is the confidence at or above which an answer is applied
// without a person looking at it.
const DefaultThreshold = 0.8

// Config configures a Parser. The zero value is the default taxonomy,
// no default currency and DefaultThreshold.
type Config struct {
	// Reasons extends the taxonomy: a new code with the words that signal
	// it, or more words for a default code.
	Reasons []ReasonConfig `yaml:"reasons" json:"reasons,omitempty"`
	// Competitors adds names to the built-in competitor list ("Smith's
	// Hardware"); they are matched case-insensitively.
	Competitors []string `yaml:"competitors" json:"competitors,omitempty"`
	// DefaultCurrency is the store's ISO 4217 currency: the currency of
	// amounts typed without one, and what "$" means when it is a dollar
	// currency (CAD, AUD, …). Empty leaves such amounts without currency.
	DefaultCurrency string `yaml:"default_currency" json:"default_currency,omitempty"`
	// Threshold is the confidence needed to apply an answer automatically;
	// 0 means DefaultThreshold.
	Threshold float64 `yaml:"threshold" json:"threshold,omitempty"`
}

// ReasonConfig is one operator-defined reason or an extension of a default
// one.
type ReasonConfig struct {
	// Code is the reason code, upper case letters, digits and underscores:
	// "PRICE_ERROR", or a default code such as "EMPLOYEE" to add words.
	Code string `yaml:"code" json:"code"`
	// Words are the words or phrases that signal the reason ("mispriced",
	// "wrong price"); matched after normalisation, typos included.
	Words []string `yaml:"words" json:"words"`
	// PercentByDefault reads a bare whole number after the reason as a
	// percentage ("staff 20" is 20 %), as for EMPLOYEE.
	PercentByDefault bool `yaml:"percent_by_default" json:"percent_by_default,omitempty"`
	// FixedByDefault reads a bare number after the reason as the price
	// sold at, as for PRICE_MATCH.
	FixedByDefault bool `yaml:"fixed_by_default" json:"fixed_by_default,omitempty"`
}

// Validate reports the first problem in c, naming the field.
func (c Config) Validate() error {
	if c.Threshold < 0 || c.Threshold > 1 {
		return fmt.Errorf("notes: threshold %v: must be between 0 and 1", c.Threshold)
	}
	if c.DefaultCurrency != "" {
		if _, ok := event.MinorUnits(c.DefaultCurrency); !ok {
			return fmt.Errorf("notes: default_currency %q: not an ISO 4217 code (EUR, USD, GBP, …)", c.DefaultCurrency)
		}
	}
	for i, r := range c.Reasons {
		if !validCode(r.Code) {
			return fmt.Errorf("notes: reasons[%d].code %q: use upper case letters, digits and underscores, starting with a letter", i, r.Code)
		}
		if len(r.Words) == 0 && !slices.Contains(DefaultReasons(), r.Code) {
			return fmt.Errorf("notes: reasons[%d] (%s): a new reason needs at least one word", i, r.Code)
		}
		for j, w := range r.Words {
			if len(tokenize(w)) == 0 {
				return fmt.Errorf("notes: reasons[%d].words[%d] %q: no word in it", i, j, w)
			}
		}
		if r.PercentByDefault && r.FixedByDefault {
			return fmt.Errorf("notes: reasons[%d] (%s): percent_by_default and fixed_by_default exclude each other", i, r.Code)
		}
	}
	for i, n := range c.Competitors {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("notes: competitors[%d]: empty name", i)
		}
	}
	return nil
}

func validCode(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}
