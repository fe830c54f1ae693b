package stripe

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/settlement"
)

// Parser reads Stripe itemized payout reconciliation reports. The zero
// value is ready to use.
type Parser struct {
	// File names the file in transactions and errors.
	File string
}

var _ settlement.Parser = (*Parser)(nil)

// categories maps Stripe reporting categories to types.
var categories = map[string]settlement.Type{
	"charge":                      settlement.TypePayment,
	"refund":                      settlement.TypeRefund,
	"refund_failure":              settlement.TypeReversal,
	"charge_failure":              settlement.TypeReversal,
	"dispute":                     settlement.TypeChargeback,
	"dispute_reversal":            settlement.TypeChargebackReversal,
	"fee":                         settlement.TypeFee,
	"network_cost":                settlement.TypeFee,
	"tax":                         settlement.TypeFee,
	"payout":                      settlement.TypePayout,
	"payout_reversal":             settlement.TypeReversal,
	"transfer":                    settlement.TypeTransfer,
	"transfer_reversal":           settlement.TypeReversal,
	"connect_collection_transfer": settlement.TypeTransfer,
	"partial_capture_reversal":    settlement.TypeAdjustment,
	"other_adjustment":            settlement.TypeAdjustment,
	"risk_reserved_funds":         settlement.TypeAdjustment,
	"connect_reserved_funds":      settlement.TypeAdjustment,
	"topup":                       settlement.TypeDeposit,
	"topup_reversal":              settlement.TypeReversal,
}

// attributes are the columns kept as attributes, when present.
var attributes = []string{
	"charge_id", "payment_intent_id", "invoice_id", "subscription_id", "payment_method_type",
	"card_brand", "card_funding", "card_country", "statement_descriptor", "dispute_reason",
	"automatic_payout_effective_at", "connected_account_id", "regulatory_tag",
}

// Columns the parser reads, by position in columnNames.
const (
	cCurrency = iota
	cNet
	cGross
	cFee
	cID
	cCategory
	cBatch
	cSource
	cCharge
	cOrderID
	cMetaReference
	cLast4
	cDescription
	cCreatedUTC
	cCreated
	cAvailableUTC
	cAvailable
	cFacingAmount
	cFacingCurrency
	nColumns
)

var columnNames = [nColumns]string{
	cCurrency: "currency", cNet: "net", cGross: "gross", cFee: "fee", cID: "balance_transaction_id",
	cCategory: "reporting_category", cBatch: "automatic_payout_id", cSource: "source_id", cCharge: "charge_id",
	cOrderID: "payment_metadata[order_id]", cMetaReference: "payment_metadata[reference]", cLast4: "card_last4",
	cDescription: "description", cCreatedUTC: "created_utc", cCreated: "created", cAvailableUTC: "available_on_utc",
	cAvailable: "available_on", cFacingAmount: "customer_facing_amount", cFacingCurrency: "customer_facing_currency",
}

// layout is one file's columns, resolved from its header once.
type layout struct {
	cols settlement.Columns
	// attrs are the attribute and metadata columns the file has.
	attrs []attrColumn
}

type attrColumn struct {
	name string
	at   int
}

// personal columns are never read.
var personal = []string{"customer_email", "customer_name", "customer_description", "customer_shipping", "shipping_address"}

// metadataPrefixes mark metadata columns, which are kept as attributes.
var metadataPrefixes = []string{"payment_metadata[", "refund_metadata[", "transfer_metadata[", "charge_metadata["}

// Parse reads a report from r, calling emit for each row; see
// settlement.Parser for what it returns.
func (p *Parser) Parse(r io.Reader, emit func(settlement.Transaction) error) (settlement.Summary, error) {
	tally := settlement.NewTally(settlement.FormatStripe, p.File)
	fail := func(line int, col, format string, args ...any) error {
		return settlement.Errorf(settlement.FormatStripe, p.File, settlement.Place{Line: line, Column: col}, format, args...)
	}
	cr := csv.NewReader(settlement.SkipBOM(r))
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return tally.Summary(), fail(0, "", "the file is empty; a Stripe report starts with a header line")
	}
	if err != nil {
		return tally.Summary(), settlement.CSVError(settlement.FormatStripe, p.File, err)
	}
	h := settlement.NewHeader(header)
	for _, col := range []string{"currency", "net"} {
		if !h.Has(col) {
			return tally.Summary(), fail(1, col, "the header has no %s column; is this a Stripe itemized report?", col)
		}
	}
	if h.Has("gross") != h.Has("fee") {
		return tally.Summary(), fail(1, "", "the header has only one of gross and fee")
	}
	lay := layout{cols: h.Columns(columnNames[:]...)}
	for _, col := range attributes {
		if i := h.Index(col); i >= 0 {
			lay.attrs = append(lay.attrs, attrColumn{col, i})
		}
	}
	for _, name := range header {
		n := strings.ToLower(strings.TrimSpace(name))
		for _, pre := range metadataPrefixes {
			if strings.HasPrefix(n, pre) && !isPersonal(n) {
				lay.attrs = append(lay.attrs, attrColumn{n, h.Index(n)})
			}
		}
	}
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return tally.Result()
		}
		if err != nil {
			return tally.Summary(), settlement.CSVError(settlement.FormatStripe, p.File, err)
		}
		line, _ := cr.FieldPos(0)
		if settlement.BlankRecord(rec) {
			continue
		}
		tx, err := p.row(&lay, rec, line, tally)
		if err != nil {
			return tally.Summary(), err
		}
		if err := tally.Emit(emit, tx); err != nil {
			return tally.Summary(), err
		}
	}
}

// row turns one report row into a transaction.
func (p *Parser) row(lay *layout, rec []string, line int, tally *settlement.Tally) (settlement.Transaction, error) {
	fail := func(col int, format string, args ...any) error {
		return settlement.Errorf(settlement.FormatStripe, p.File, settlement.Place{Line: line, Column: columnNames[col]}, format, args...)
	}
	get := func(col int) string { return lay.cols.Get(rec, col) }
	cur := strings.ToUpper(get(cCurrency))
	exp, ok := event.MinorUnits(cur)
	if !ok {
		return settlement.Transaction{}, fail(cCurrency, "%q is not an ISO 4217 currency code", get(cCurrency))
	}
	amount := func(col int) (int64, error) {
		n, err := parseAmount(get(col), exp)
		if err != nil {
			return 0, fail(col, "%v", err)
		}
		return n, nil
	}
	net, err := amount(cNet)
	if err != nil {
		return settlement.Transaction{}, err
	}
	id := get(cID)
	cat := strings.ToLower(get(cCategory))
	typ, known := categories[cat]
	if !known {
		typ = settlement.TypeOther
	}
	tx := settlement.Transaction{
		Format: settlement.FormatStripe, File: p.File, Line: line,
		Amount: event.Amount(net), Currency: cur, Direction: settlement.DirectionOf(event.Amount(net)),
		Type: typ, Code: cat,
		References: settlement.References{
			Bank:         id,
			Batch:        get(cBatch),
			Payment:      firstOf(get(cSource), get(cCharge)),
			Merchant:     firstOf(get(cOrderID), get(cMetaReference)),
			CardLastFour: settlement.LastFour(get(cLast4)),
		},
		Description: settlement.CleanText(get(cDescription)),
	}
	if lay.cols.Has(cGross) {
		gross, err := amount(cGross)
		if err != nil {
			return tx, err
		}
		fee, err := amount(cFee)
		if err != nil {
			return tx, err
		}
		tx.Breakdown = &settlement.Breakdown{
			Gross: event.Money{Amount: event.Amount(gross), Currency: cur},
			Fee:   event.Money{Amount: event.Amount(fee), Currency: cur},
			Net:   event.Money{Amount: event.Amount(net), Currency: cur},
		}
		want, ok := settlement.Sub(gross, fee)
		switch {
		case !ok:
			return tx, fail(cFee, "gross − fee overflows")
		case want != net:
			tally.Mismatch(settlement.Place{Line: line, Column: "net"}, "balance transaction %s: net %s but gross %s − fee %s = %s",
				orDash(id), settlement.FormatMoney(net, cur), settlement.FormatMoney(gross, cur), settlement.FormatMoney(fee, cur), settlement.FormatMoney(want, cur))
		default:
			tally.Checked()
		}
	}
	var col int
	if tx.BookingDate, col, err = dateOf(get, cCreatedUTC, cCreated); err != nil {
		return tx, fail(col, "%v", err)
	}
	if tx.ValueDate, col, err = dateOf(get, cAvailableUTC, cAvailable); err != nil {
		return tx, fail(col, "%v", err)
	}
	if v, oc := get(cFacingAmount), strings.ToUpper(get(cFacingCurrency)); v != "" && oc != "" && oc != cur {
		if oexp, ok := event.MinorUnits(oc); ok {
			n, err := parseAmount(v, oexp)
			if err != nil {
				return tx, fail(cFacingAmount, "%v", err)
			}
			tx.Original = &event.Money{Amount: event.Amount(n), Currency: oc}
		}
	}
	n := 0
	for _, a := range lay.attrs {
		if settlement.Field(rec, a.at) != "" {
			n++
		}
	}
	if n > 0 {
		tx.Attributes = make(map[string]string, n)
		for _, a := range lay.attrs {
			tx.SetAttr(a.name, settlement.Field(rec, a.at))
		}
	}
	return tx, nil
}

// parseAmount reads a Stripe amount: major units, '.' as the decimal mark,
// or ',' when the report was run with a comma decimal separator; never
// grouped.
func parseAmount(v string, exp int) (int64, error) {
	d := settlement.Decimal{Comma: strings.Contains(v, ",") && !strings.Contains(v, ".")}
	return d.Parse(v, exp)
}

// dateOf reads the UTC column if present (an instant in UTC), else the
// report-time-zone column (a wall-clock time, zone not stated in the file),
// and names the column it read.
func dateOf(get func(int) string, utcCol, localCol int) (settlement.Date, int, error) {
	layouts := []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"}
	if v := get(utcCol); v != "" {
		if t, ok := clock(v); ok {
			return settlement.Instant(t), utcCol, nil
		}
		if d, err := settlement.ParseDateLayouts(v, time.UTC, layouts...); err == nil {
			return d, utcCol, nil
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return settlement.Instant(t.UTC()), utcCol, nil
		}
		return settlement.Date{}, utcCol, fmt.Errorf("%q is not a date-time (YYYY-MM-DD hh:mm:ss)", v)
	}
	if v := get(localCol); v != "" {
		if t, ok := clock(v); ok {
			return settlement.LocalDateTime(t), localCol, nil
		}
		d, err := settlement.ParseDateLayouts(v, nil, layouts...)
		return d, localCol, err
	}
	return settlement.Date{}, utcCol, nil
}

// clock reads "YYYY-MM-DD hh:mm:ss", the layout Stripe writes, as a time
// in UTC without time.Parse (a fifth of a row's parsing otherwise). It
// takes only what that layout accepts with the same result; anything else
// is left to the general path, which words the errors.
func clock(v string) (time.Time, bool) {
	if len(v) != 19 || v[4] != '-' || v[7] != '-' || v[10] != ' ' || v[13] != ':' || v[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		x := 0
		for _, c := range []byte(v[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			x = x*10 + int(c-'0')
		}
		return x
	}
	y, mo, d, h, mi, sec := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	if t.Day() != d { // 31 February
		return time.Time{}, false
	}
	return t, true
}

func isPersonal(col string) bool {
	for _, p := range personal {
		if strings.Contains(col, p) {
			return true
		}
	}
	return false
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
