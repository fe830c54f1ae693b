package csv

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/settlement"
)

// Mapping says how one CSV export becomes settlement transactions.
type Mapping struct {
	// Separator is ",", ";", "|" or "tab"; empty detects it from the header
	// line.
	Separator string `yaml:"separator"`
	// Encoding is "utf-8" (default), "windows-1252" or "iso-8859-1".
	Encoding string `yaml:"encoding"`
	// SkipLines is the number of lines before the header line (the account
	// and period preamble many bank exports start with).
	SkipLines int `yaml:"skip_lines"`
	// DecimalComma reads "1.234,56"; without it "1,234.56". Thousands may be
	// grouped, in threes.
	DecimalComma bool `yaml:"decimal_comma"`
	// DateLayout is the Go layout of the date column (default
	// "2006-01-02"); ValueDateLayout that of the value date (default
	// DateLayout).
	DateLayout      string `yaml:"date_layout"`
	ValueDateLayout string `yaml:"value_date_layout"`
	// Zone is the IANA time zone of date-times without an offset; empty
	// leaves their zone unknown.
	Zone string `yaml:"zone"`
	// Currency is every row's currency when no currency column is mapped.
	Currency string `yaml:"currency"`
	// Account is every row's account when no account column is mapped.
	Account string `yaml:"account"`
	// Negate flips every amount, for exports written from the other side
	// (debits positive).
	Negate bool `yaml:"negate"`
	// Columns maps fields to header names.
	Columns Columns `yaml:"columns"`
	// CreditValues and DebitValues are the direction column's values
	// (case-insensitive). Defaults: C, CR, CRDT, CREDIT, H, HABEN, + and D,
	// DR, DBIT, DEBIT, S, SOLL, -.
	CreditValues []string `yaml:"credit_values"`
	DebitValues  []string `yaml:"debit_values"`
	// Types maps values of the type column (case-insensitive) to types.
	Types map[string]settlement.Type `yaml:"types"`
	// DefaultType is the type of rows whose type is not mapped (default
	// other).
	DefaultType settlement.Type `yaml:"default_type"`
}

// Columns names the header columns of each field; empty means the file has
// none. Names match the header trimmed and case-insensitively.
type Columns struct {
	Date      string `yaml:"date"`
	ValueDate string `yaml:"value_date"`
	// Amount is a signed amount (or an unsigned one with Direction); Debit
	// and Credit are the alternative of two columns.
	Amount    string `yaml:"amount"`
	Direction string `yaml:"direction"`
	Debit     string `yaml:"debit"`
	Credit    string `yaml:"credit"`
	// Gross and Fee, for PSP exports: Amount is then the net, checked to be
	// gross − fee.
	Gross             string `yaml:"gross"`
	Fee               string `yaml:"fee"`
	Currency          string `yaml:"currency"`
	Account           string `yaml:"account"`
	BankReference     string `yaml:"bank_reference"`
	CustomerReference string `yaml:"customer_reference"`
	EndToEndReference string `yaml:"end_to_end_reference"`
	BatchReference    string `yaml:"batch_reference"`
	MerchantReference string `yaml:"merchant_reference"`
	PaymentReference  string `yaml:"payment_reference"`
	// Description is one column or a list, joined with spaces.
	Description List   `yaml:"description"`
	Type        string `yaml:"type"`
	// CardLastFour may hold a masked or full card number; only its last four
	// digits are kept.
	CardLastFour string `yaml:"card_last4"`
	AuthCode     string `yaml:"auth_code"`
}

// List is a YAML string or list of strings.
type List []string

// UnmarshalYAML accepts a scalar or a sequence.
func (l *List) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = List{n.Value}
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = s
	return nil
}

// ParseMapping reads a mapping from YAML, refusing unknown fields, and
// validates it.
func ParseMapping(data []byte) (Mapping, error) {
	var m Mapping
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return Mapping{}, fmt.Errorf("csv mapping: %w", err)
	}
	return m, m.Validate()
}

var (
	defaultCredit = []string{"C", "CR", "CRDT", "CREDIT", "H", "HABEN", "+"}
	defaultDebit  = []string{"D", "DR", "DBIT", "DEBIT", "S", "SOLL", "-"}
)

// compiled is a validated mapping with its defaults applied.
type compiled struct {
	Mapping
	comma     rune
	zone      *time.Location
	direction map[string]settlement.Direction
	types     map[string]settlement.Type
}

// Validate reports every problem of the mapping, naming the field and the
// fix.
func (m Mapping) Validate() error {
	_, err := m.compile()
	return err
}

func (m Mapping) compile() (*compiled, error) {
	c := &compiled{Mapping: m, direction: map[string]settlement.Direction{}, types: map[string]settlement.Type{}}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("csv mapping: %s: %s", field, fmt.Sprintf(format, args...)))
	}
	col := m.Columns
	if col.Date == "" {
		bad("columns.date", "required: the header name of the booking date column")
	}
	switch {
	case col.Amount != "" && (col.Debit != "" || col.Credit != ""):
		bad("columns.amount", "map either amount, or debit and credit, not both")
	case col.Amount == "" && col.Debit == "" && col.Credit == "":
		bad("columns.amount", "required: the amount column, or columns.debit and columns.credit")
	case col.Direction != "" && col.Amount == "":
		bad("columns.direction", "a direction column goes with columns.amount")
	}
	if (col.Gross == "") != (col.Fee == "") {
		bad("columns.gross", "map gross and fee together")
	}
	if col.Currency == "" {
		if _, ok := event.MinorUnits(m.Currency); !ok {
			bad("currency", "%q is not an ISO 4217 code; set currency, or map columns.currency", m.Currency)
		}
	} else if m.Currency != "" {
		bad("currency", "set currency or map columns.currency, not both")
	}
	if c.DateLayout == "" {
		c.DateLayout = "2006-01-02"
	}
	if c.ValueDateLayout == "" {
		c.ValueDateLayout = c.DateLayout
	}
	for field, layout := range map[string]string{"date_layout": c.DateLayout, "value_date_layout": c.ValueDateLayout} {
		if err := checkLayout(layout); err != nil {
			bad(field, "%v", err)
		}
	}
	if m.Zone != "" {
		z, err := time.LoadLocation(m.Zone)
		if err != nil {
			bad("zone", "%q is not an IANA time zone (like Europe/Berlin)", m.Zone)
		}
		c.zone = z
	}
	switch m.Separator {
	case "":
	case ",", ";", "|":
		c.comma = rune(m.Separator[0])
	case "tab", "\t", `\t`:
		c.comma = '\t'
	default:
		bad("separator", "%q: use \",\", \";\", \"|\" or \"tab\" (or leave it out to detect it)", m.Separator)
	}
	switch strings.ToLower(m.Encoding) {
	case "", "utf-8", "utf8":
		c.Encoding = ""
	case "windows-1252", "cp1252", "iso-8859-1", "latin1", "iso-8859-15":
	default:
		bad("encoding", "%q: use utf-8, windows-1252 or iso-8859-1", m.Encoding)
	}
	if m.SkipLines < 0 {
		bad("skip_lines", "%d is negative", m.SkipLines)
	}
	credit, debit := m.CreditValues, m.DebitValues
	if len(credit) == 0 {
		credit = defaultCredit
	}
	if len(debit) == 0 {
		debit = defaultDebit
	}
	for _, v := range credit {
		c.direction[strings.ToUpper(strings.TrimSpace(v))] = settlement.Credit
	}
	for _, v := range debit {
		k := strings.ToUpper(strings.TrimSpace(v))
		if c.direction[k] == settlement.Credit {
			bad("debit_values", "%q is also a credit value", v)
		}
		c.direction[k] = settlement.Debit
	}
	for k, v := range m.Types {
		if !v.Valid() {
			bad("types."+k, "%q is not a type (%s)", v, typeNames())
		}
		c.types[strings.ToLower(strings.TrimSpace(k))] = v
	}
	if c.DefaultType == "" {
		c.DefaultType = settlement.TypeOther
	} else if !c.DefaultType.Valid() {
		bad("default_type", "%q is not a type (%s)", c.DefaultType, typeNames())
	}
	return c, errors.Join(errs...)
}

// checkLayout accepts a Go time layout that holds a whole date.
func checkLayout(layout string) error {
	ref := time.Date(2026, 3, 2, 14, 5, 6, 0, time.UTC)
	t, err := time.Parse(layout, ref.Format(layout))
	if err != nil || t.Year() != 2026 || t.Month() != 3 || t.Day() != 2 {
		return fmt.Errorf("%q is not a Go date layout with year, month and day; write Go's reference date as the file does, like 02.01.2006 or 2006-01-02 15:04", layout)
	}
	return nil
}

func typeNames() string {
	names := make([]string, len(settlement.Types))
	for i, t := range settlement.Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}
