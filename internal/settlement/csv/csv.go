package csv

import (
	"bufio"
	"bytes"
	stdcsv "encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/settlement"
)

// Parser reads CSV files through a mapping.
type Parser struct {
	file string
	m    *compiled
}

var _ settlement.Parser = (*Parser)(nil)

// New returns a parser for files named file (for transactions and errors)
// read through m.
func New(file string, m Mapping) (*Parser, error) {
	c, err := m.compile()
	if err != nil {
		return nil, err
	}
	return &Parser{file: file, m: c}, nil
}

func (p *Parser) fail(at settlement.Place, format string, args ...any) error {
	return settlement.Errorf(settlement.FormatCSV, p.file, at, format, args...)
}

// Parse reads a file from r, calling emit for each row; see
// settlement.Parser for what it returns.
func (p *Parser) Parse(r io.Reader, emit func(settlement.Transaction) error) (settlement.Summary, error) {
	tally := settlement.NewTally(settlement.FormatCSV, p.file)
	in := settlement.SkipBOM(r)
	if p.m.Encoding != "" {
		var err error
		if in, err = settlement.CharsetReader(p.m.Encoding, in); err != nil {
			return tally.Summary(), p.fail(settlement.Place{}, "%v", err)
		}
	}
	br := bufio.NewReaderSize(in, 64<<10)
	for i := 0; i < p.m.SkipLines; i++ {
		if _, err := br.ReadString('\n'); err != nil {
			return tally.Summary(), p.fail(settlement.Place{Line: i + 1}, "the file ends within the %d lines to skip", p.m.SkipLines)
		}
	}
	offset := p.m.SkipLines
	comma := p.m.comma
	if comma == 0 {
		head, _ := br.Peek(64 << 10)
		comma = detectComma(head)
	}
	cr := stdcsv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return tally.Summary(), p.fail(settlement.Place{Line: offset + 1}, "no header line")
	}
	if err != nil {
		return tally.Summary(), p.csvError(err, offset)
	}
	h := settlement.NewHeader(header)
	if err := p.checkHeader(h, offset+1); err != nil {
		return tally.Summary(), err
	}
	lay := p.resolve(h)
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return tally.Result()
		}
		if err != nil {
			return tally.Summary(), p.csvError(err, offset)
		}
		line, _ := cr.FieldPos(0)
		if settlement.BlankRecord(rec) {
			continue
		}
		tx, err := p.row(&lay, rec, line+offset, tally)
		if err != nil {
			return tally.Summary(), err
		}
		if err := tally.Emit(emit, tx); err != nil {
			return tally.Summary(), err
		}
	}
}

func (p *Parser) csvError(err error, offset int) error {
	var pe *stdcsv.ParseError
	if errors.As(err, &pe) {
		return p.fail(settlement.Place{Line: pe.Line + offset}, "%v", pe.Err)
	}
	return fmt.Errorf("csv: read: %w", err)
}

// checkHeader makes sure every mapped column is in the header.
func (p *Parser) checkHeader(h settlement.Header, line int) error {
	c := p.m.Columns
	names := []string{c.Date, c.ValueDate, c.Amount, c.Direction, c.Debit, c.Credit, c.Gross, c.Fee, c.Currency, c.Account,
		c.BankReference, c.CustomerReference, c.EndToEndReference, c.BatchReference, c.MerchantReference, c.PaymentReference,
		c.Type, c.CardLastFour, c.AuthCode}
	names = append(names, c.Description...)
	var missing []string
	for _, n := range names {
		if n != "" && !h.Has(strings.TrimSpace(n)) {
			missing = append(missing, fmt.Sprintf("%q", n))
		}
	}
	if len(missing) > 0 {
		return p.fail(settlement.Place{Line: line}, "the header has no column %s (check the mapping's columns, separator and skip_lines)", strings.Join(missing, ", "))
	}
	return nil
}

// layout is the positions of the mapping's columns in one file's header
// (-1 for a column not mapped), resolved once per file so that reading a
// row is index access.
type layout struct {
	date, valueDate, amount, direction, debit, credit, gross, fee, currency, account int
	bank, customer, endToEnd, batch, merchant, payment, typ, cardLastFour, authCode  int
	description                                                                      []int
}

func (p *Parser) resolve(h settlement.Header) layout {
	c := p.m.Columns
	l := layout{
		date: h.Index(c.Date), valueDate: h.Index(c.ValueDate), amount: h.Index(c.Amount), direction: h.Index(c.Direction),
		debit: h.Index(c.Debit), credit: h.Index(c.Credit), gross: h.Index(c.Gross), fee: h.Index(c.Fee),
		currency: h.Index(c.Currency), account: h.Index(c.Account), bank: h.Index(c.BankReference),
		customer: h.Index(c.CustomerReference), endToEnd: h.Index(c.EndToEndReference), batch: h.Index(c.BatchReference),
		merchant: h.Index(c.MerchantReference), payment: h.Index(c.PaymentReference), typ: h.Index(c.Type),
		cardLastFour: h.Index(c.CardLastFour), authCode: h.Index(c.AuthCode),
	}
	for _, d := range c.Description {
		l.description = append(l.description, h.Index(d))
	}
	return l
}

// row turns one CSV row into a transaction.
func (p *Parser) row(l *layout, rec []string, line int, tally *settlement.Tally) (settlement.Transaction, error) {
	m := p.m
	c := m.Columns
	get := func(i int) string { return settlement.Field(rec, i) }
	fail := func(col, format string, args ...any) error {
		return p.fail(settlement.Place{Line: line, Column: col}, format, args...)
	}
	cur := m.Currency
	if c.Currency != "" {
		cur = strings.ToUpper(get(l.currency))
	}
	exp, ok := event.MinorUnits(cur)
	if !ok {
		return settlement.Transaction{}, fail(c.Currency, "%q is not an ISO 4217 currency code", cur)
	}
	dec := settlement.Decimal{Comma: m.DecimalComma, Grouping: true}
	money := func(i int, col string, required bool) (int64, bool, error) {
		v := get(i)
		if v == "" {
			if required {
				return 0, false, fail(col, "is empty")
			}
			return 0, false, nil
		}
		neg := false
		if t, ok := strings.CutSuffix(v, "-"); ok && !strings.HasPrefix(v, "-") {
			neg, v = true, t
		}
		n, err := dec.Parse(v, exp)
		if err != nil {
			return 0, false, fail(col, "%v", err)
		}
		if neg {
			n = -n
		}
		return n, true, nil
	}

	var amount int64
	switch {
	case c.Amount != "":
		n, _, err := money(l.amount, c.Amount, true)
		if err != nil {
			return settlement.Transaction{}, err
		}
		amount = n
		if c.Direction != "" {
			if n < 0 {
				return settlement.Transaction{}, fail(c.Amount, "%q is signed but the direction comes from column %q", get(l.amount), c.Direction)
			}
			v := get(l.direction)
			d, ok := m.direction[strings.ToUpper(v)]
			if !ok {
				return settlement.Transaction{}, fail(c.Direction, "%q is neither a credit nor a debit value (set credit_values and debit_values)", v)
			}
			amount = int64(settlement.Signed(n, d))
		}
	default:
		debit, hasDebit, err := money(l.debit, c.Debit, false)
		if err != nil {
			return settlement.Transaction{}, err
		}
		credit, hasCredit, err := money(l.credit, c.Credit, false)
		if err != nil {
			return settlement.Transaction{}, err
		}
		if !hasDebit && !hasCredit {
			return settlement.Transaction{}, fail(firstOf(c.Credit, c.Debit), "neither %q nor %q has an amount", c.Debit, c.Credit)
		}
		if debit < 0 {
			debit = -debit // some exports write debits negative in the debit column
		}
		var ok bool
		if amount, ok = settlement.Sub(credit, debit); !ok {
			return settlement.Transaction{}, fail(c.Credit, "credit − debit overflows")
		}
	}
	if m.Negate {
		amount = -amount
	}

	booking, err := settlement.ParseDateLayouts(get(l.date), m.zone, m.DateLayout)
	if err != nil {
		return settlement.Transaction{}, fail(c.Date, "%v", err)
	}
	var value settlement.Date
	if v := get(l.valueDate); v != "" {
		if value, err = settlement.ParseDateLayouts(v, m.zone, m.ValueDateLayout); err != nil {
			return settlement.Transaction{}, fail(c.ValueDate, "%v", err)
		}
	}
	code := ""
	typ := m.DefaultType
	if c.Type != "" {
		code = get(l.typ)
		if t, ok := m.types[strings.ToLower(code)]; ok {
			typ = t
		}
	}
	account := m.Account
	if c.Account != "" {
		account = get(l.account)
	}
	var text []string
	for _, i := range l.description {
		text = append(text, get(i))
	}
	tx := settlement.Transaction{
		Format: settlement.FormatCSV, File: p.file, Line: line, Account: account,
		BookingDate: booking, ValueDate: value,
		Amount: event.Amount(amount), Currency: cur, Direction: settlement.DirectionOf(event.Amount(amount)),
		Type: typ, Code: code,
		References: settlement.References{
			Bank:         get(l.bank),
			Customer:     get(l.customer),
			EndToEnd:     get(l.endToEnd),
			Batch:        get(l.batch),
			Merchant:     get(l.merchant),
			Payment:      get(l.payment),
			CardLastFour: settlement.LastFour(get(l.cardLastFour)),
			AuthCode:     settlement.MaskPANs(get(l.authCode)),
		},
		Description: settlement.CleanText(strings.Join(text, " ")),
	}
	if tx.References.EndToEnd == "NOTPROVIDED" {
		tx.References.EndToEnd = "" // ISO 20022's placeholder for "none"
	}
	// As for bank files, a transfer, deposit, direct debit or other from a
	// known acquirer or PSP is a card settlement (a debit that says
	// chargeback, a chargeback).
	tx.Type = settlement.Hint(tx.Type, tx.Direction, tx.Description)
	if c.Gross != "" {
		gross, _, err := money(l.gross, c.Gross, true)
		if err != nil {
			return tx, err
		}
		fee, _, err := money(l.fee, c.Fee, true)
		if err != nil {
			return tx, err
		}
		if m.Negate {
			gross, fee = -gross, -fee
		}
		tx.Breakdown = &settlement.Breakdown{
			Gross: event.Money{Amount: event.Amount(gross), Currency: cur},
			Fee:   event.Money{Amount: event.Amount(fee), Currency: cur},
			Net:   event.Money{Amount: event.Amount(amount), Currency: cur},
		}
		want, ok := settlement.Sub(gross, fee)
		switch {
		case !ok:
			return tx, fail(c.Fee, "gross − fee overflows")
		case want != amount:
			tally.Mismatch(settlement.Place{Line: line, Column: c.Amount}, "amount %s but gross %s − fee %s = %s",
				settlement.FormatMoney(amount, cur), settlement.FormatMoney(gross, cur), settlement.FormatMoney(fee, cur), settlement.FormatMoney(want, cur))
		default:
			tally.Checked()
		}
	}
	return tx, nil
}

// detectComma picks the separator of the header line: the most frequent
// of ';', ',', tab and '|' outside quotes (',' on a tie or none).
func detectComma(head []byte) rune {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	counts := map[rune]int{}
	quoted := false
	for _, r := range string(line) {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ';' || r == ',' || r == '\t' || r == '|'):
			counts[r]++
		}
	}
	best := ','
	for _, r := range []rune{';', '\t', '|'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
