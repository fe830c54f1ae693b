package adyen

import (
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/settlement"
)

// Parser reads Adyen Settlement details reports. The zero value is ready
// to use.
type Parser struct {
	// File names the file in transactions and errors.
	File string
}

var _ settlement.Parser = (*Parser)(nil)

// Columns of the report the parser reads, by position in columnNames.
const (
	colMerchantAccount = iota
	colPspReference
	colMerchantRef
	colPaymentMethod
	colCreationDate
	colTimeZone
	colType
	colModificationRef
	colGrossCurrency
	colGrossDebit
	colGrossCredit
	colExchangeRate
	colNetCurrency
	colNetDebit
	colNetCredit
	colBatchNumber
	colAuthCode
	colAuthorisationCode
	colAcquirerAuthCode
	colCardNumber
	colPaymentMethodVariant
	colModificationMerchantRef
	colCompanyAccount
	colStore
	colCommission
	colMarkup
	colSchemeFees
	colInterchange
	nColumns
)

// columnNames are the report's names of the columns.
var columnNames = [nColumns]string{ //nolint:gosec // G101: column names ("Credit", "Auth Code"), not credentials
	colMerchantAccount: "Merchant Account", colPspReference: "Psp Reference", colMerchantRef: "Merchant Reference",
	colPaymentMethod: "Payment Method", colCreationDate: "Creation Date", colTimeZone: "TimeZone", colType: "Type",
	colModificationRef: "Modification Reference", colGrossCurrency: "Gross Currency", colGrossDebit: "Gross Debit (GC)",
	colGrossCredit: "Gross Credit (GC)", colExchangeRate: "Exchange Rate", colNetCurrency: "Net Currency",
	colNetDebit: "Net Debit (NC)", colNetCredit: "Net Credit (NC)", colBatchNumber: "Batch Number",
	colAuthCode: "Auth Code", colAuthorisationCode: "Authorisation Code", colAcquirerAuthCode: "Acquirer Auth Code",
	colCardNumber: "Card Number", colPaymentMethodVariant: "Payment Method Variant",
	colModificationMerchantRef: "Modification Merchant Reference", colCompanyAccount: "Company Account", colStore: "Store",
	colCommission: "Commission (NC)", colMarkup: "Markup (NC)", colSchemeFees: "Scheme Fees (NC)", colInterchange: "Interchange (NC)",
}

// fees are the cost columns, by the name they get in Breakdown.Fees.
var fees = []struct {
	col  int
	name string
}{
	{colCommission, "commission"},
	{colMarkup, "markup"},
	{colSchemeFees, "scheme_fees"},
	{colInterchange, "interchange"},
}

// types maps the report's Type values (lower-cased, spaces removed).
var types = map[string]settlement.Type{
	"settled":                      settlement.TypePayment,
	"settledbulk":                  settlement.TypePayment,
	"refunded":                     settlement.TypeRefund,
	"refundedbulk":                 settlement.TypeRefund,
	"refundedreversed":             settlement.TypeReversal,
	"refundedexternallyreversed":   settlement.TypeReversal,
	"chargeback":                   settlement.TypeChargeback,
	"secondchargeback":             settlement.TypeChargeback,
	"chargebackexternally":         settlement.TypeChargeback,
	"chargebackreversed":           settlement.TypeChargebackReversal,
	"chargebackreversedexternally": settlement.TypeChargebackReversal,
	"fee":                          settlement.TypeFee,
	"misccosts":                    settlement.TypeFee,
	"paymentcost":                  settlement.TypeFee,
	"invoicededuction":             settlement.TypeFee,
	"merchantpayout":               settlement.TypePayout,
	"balancetransfer":              settlement.TypeTransfer,
	"depositcorrection":            settlement.TypeAdjustment,
	"reserveadjustment":            settlement.TypeAdjustment,
}

// zones are the TimeZone abbreviations Adyen reports write, with their UTC
// offsets in hours. Ambiguous ones (CST, IST) are left out.
var zones = map[string]int{
	"UTC": 0, "GMT": 0, "WET": 0, "BST": 1, "WEST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
	"GST": 4, "SGT": 8, "HKT": 8, "AWST": 8, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
	"EST": -5, "EDT": -4, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8,
	"HST": -10, "BRT": -3, "ART": -3,
}

// Parse reads a report from r, calling emit for each line; see
// settlement.Parser for what it returns.
func (p *Parser) Parse(r io.Reader, emit func(settlement.Transaction) error) (settlement.Summary, error) {
	tally := settlement.NewTally(settlement.FormatAdyen, p.File)
	fail := func(line int, col, format string, args ...any) error {
		return settlement.Errorf(settlement.FormatAdyen, p.File, settlement.Place{Line: line, Column: col}, format, args...)
	}
	cr := csv.NewReader(settlement.SkipBOM(r))
	cr.FieldsPerRecord = -1 // trailing Reserved columns are sometimes left off
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return tally.Summary(), fail(0, "", "the file is empty; a Settlement details report starts with a header line")
	}
	if err != nil {
		return tally.Summary(), settlement.CSVError(settlement.FormatAdyen, p.File, err)
	}
	h := settlement.NewHeader(header)
	cols := h.Columns(columnNames[:]...)
	for _, col := range []int{colType, colNetCurrency, colNetDebit, colNetCredit} {
		if !cols.Has(col) {
			return tally.Summary(), fail(1, columnNames[col], "the header has no %q column; is this an Adyen Settlement details report?", columnNames[col])
		}
	}
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return tally.Result()
		}
		if err != nil {
			return tally.Summary(), settlement.CSVError(settlement.FormatAdyen, p.File, err)
		}
		line, _ := cr.FieldPos(0)
		if settlement.BlankRecord(rec) {
			continue
		}
		tx, err := p.row(cols, rec, line, tally)
		if err != nil {
			return tally.Summary(), err
		}
		if err := tally.Emit(emit, tx); err != nil {
			return tally.Summary(), err
		}
	}
}

// row turns one report line into a transaction.
func (p *Parser) row(cols settlement.Columns, rec []string, line int, tally *settlement.Tally) (settlement.Transaction, error) {
	fail := func(col int, format string, args ...any) error {
		return settlement.Errorf(settlement.FormatAdyen, p.File, settlement.Place{Line: line, Column: columnNames[col]}, format, args...)
	}
	get := func(col int) string { return cols.Get(rec, col) }
	// pair reads a debit and a credit column as one signed amount (credit
	// minus debit); present reports whether either had a value.
	pair := func(cur string, debitCol, creditCol int) (amount int64, present, credit bool, err error) {
		exp, ok := event.MinorUnits(cur)
		var d, c int64
		for _, x := range []struct {
			col int
			dst *int64
		}{{debitCol, &d}, {creditCol, &c}} {
			v := get(x.col)
			if v == "" {
				continue
			}
			if !ok {
				return 0, false, false, fail(x.col, "currency %q is not an ISO 4217 code", cur)
			}
			if *x.dst, err = settlement.ParseAmount(v, exp); err != nil {
				return 0, false, false, fail(x.col, "%v", err)
			}
			present = true
		}
		amount, ok = settlement.Sub(c, d)
		if !ok {
			return 0, false, false, fail(creditCol, "credit − debit overflows")
		}
		return amount, present, get(creditCol) != "", nil
	}

	kind := get(colType)
	if kind == "" {
		return settlement.Transaction{}, fail(colType, "is empty")
	}
	netCur := strings.ToUpper(get(colNetCurrency))
	net, present, credit, err := pair(netCur, colNetDebit, colNetCredit)
	if err != nil {
		return settlement.Transaction{}, err
	}
	if !present {
		return settlement.Transaction{}, fail(colNetCredit, "a %s line with neither Net Debit (NC) nor Net Credit (NC)", kind)
	}
	typ, known := types[strings.ToLower(strings.ReplaceAll(kind, " ", ""))]
	if !known {
		typ = settlement.TypeOther
	}
	dir := settlement.DirectionOf(event.Amount(net))
	if net == 0 && !credit {
		dir = settlement.Debit
	}
	psp := get(colPspReference)
	tx := settlement.Transaction{
		Format: settlement.FormatAdyen, File: p.File, Line: line,
		Account: get(colMerchantAccount), Amount: event.Amount(net), Currency: netCur, Direction: dir,
		Type: typ, Code: kind,
		References: settlement.References{
			Bank:     get(colModificationRef),
			Batch:    get(colBatchNumber),
			Merchant: get(colMerchantRef),
			Payment:  psp,
			AuthCode: firstOf(get(colAuthCode), get(colAuthorisationCode), get(colAcquirerAuthCode)),
		},
	}
	if cols.Has(colCardNumber) {
		tx.References.CardLastFour = settlement.LastFour(get(colCardNumber))
	}
	tx.BookingDate, err = creationDate(get(colCreationDate), get(colTimeZone))
	if err != nil {
		return tx, fail(colCreationDate, "%v", err)
	}
	if tx.BookingDate.HasTime() && !tx.BookingDate.HasZone() {
		tx.SetAttr("time_zone", get(colTimeZone))
	}

	// Gross, fees and the breakdown.
	grossCur := strings.ToUpper(get(colGrossCurrency))
	gross, hasGross, _, err := pair(grossCur, colGrossDebit, colGrossCredit)
	if err != nil {
		return tx, err
	}
	netExp, _ := event.MinorUnits(netCur)
	var fee int64
	parts := map[string]event.Amount{}
	for _, f := range fees {
		v := get(f.col)
		if v == "" {
			continue
		}
		n, err := settlement.ParseAmount(v, netExp)
		if err != nil {
			return tx, fail(f.col, "%v", err)
		}
		parts[f.name] = event.Amount(n)
		var ok bool
		if fee, ok = settlement.Add(fee, n); !ok {
			return tx, fail(f.col, "the fees overflow")
		}
	}
	if hasGross {
		rate := get(colExchangeRate)
		if rate != "" {
			if err := settlement.CheckDecimal(rate); err != nil {
				return tx, fail(colExchangeRate, "%v", err)
			}
		}
		tx.Breakdown = &settlement.Breakdown{
			Gross: event.Money{Amount: event.Amount(gross), Currency: grossCur},
			Fee:   event.Money{Amount: event.Amount(fee), Currency: netCur},
			Net:   event.Money{Amount: event.Amount(net), Currency: netCur},
			Fees:  parts, ExchangeRate: rate,
		}
		if len(parts) == 0 {
			tx.Breakdown.Fees = nil
		}
		if grossCur == netCur {
			want, ok := settlement.Sub(gross, fee)
			switch {
			case !ok:
				return tx, fail(colNetCredit, "gross − fees overflows")
			case want != net:
				tally.Mismatch(settlement.Place{Line: line, Column: netColumn(credit)}, "%s %s: net %s but gross %s − fees %s = %s",
					kind, orDash(firstOf(psp, tx.References.Bank)), settlement.FormatMoney(net, netCur), settlement.FormatMoney(gross, grossCur),
					settlement.FormatMoney(fee, netCur), settlement.FormatMoney(want, netCur))
			default:
				tally.Checked()
			}
		}
	} else if len(parts) > 0 {
		tx.Breakdown = &settlement.Breakdown{
			Fee:  event.Money{Amount: event.Amount(fee), Currency: netCur},
			Net:  event.Money{Amount: event.Amount(net), Currency: netCur},
			Fees: parts,
		}
	}
	tx.SetAttr("payment_method", get(colPaymentMethod))
	tx.SetAttr("payment_method_variant", get(colPaymentMethodVariant))
	tx.SetAttr("modification_merchant_reference", get(colModificationMerchantRef))
	tx.SetAttr("company_account", get(colCompanyAccount))
	tx.SetAttr("store", get(colStore))
	return tx, nil
}

func netColumn(credit bool) string {
	if credit {
		return columnNames[colNetCredit]
	}
	return columnNames[colNetDebit]
}

// creationDate reads "2026-03-02 11:26:49" with the TimeZone column: an
// instant when the zone is an offset or a known abbreviation, else a
// wall-clock time in an unknown zone.
func creationDate(v, zone string) (settlement.Date, error) {
	if v == "" {
		return settlement.Date{}, nil
	}
	var loc *time.Location
	if off, ok := zoneOffset(zone); ok {
		loc = time.FixedZone(zone, off)
	}
	return settlement.ParseDateLayouts(v, loc, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02")
}

// zoneOffset reads a zone abbreviation ("CET") or offset ("+01:00",
// "UTC+1", "GMT-05:00") as seconds east of UTC.
func zoneOffset(z string) (int, bool) {
	z = strings.ToUpper(strings.TrimSpace(z))
	if h, ok := zones[z]; ok {
		return h * 3600, true
	}
	for _, pre := range []string{"UTC", "GMT"} {
		z = strings.TrimPrefix(z, pre)
	}
	if len(z) < 2 || (z[0] != '+' && z[0] != '-') {
		return 0, false
	}
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	hh, mm, _ := strings.Cut(z[1:], ":")
	if mm == "" && len(hh) == 4 {
		hh, mm = hh[:2], hh[2:]
	}
	h, err := strconv.Atoi(hh)
	if err != nil || h > 14 || len(hh) > 2 {
		return 0, false
	}
	m := 0
	if mm != "" {
		if m, err = strconv.Atoi(mm); err != nil || m > 59 || len(mm) != 2 {
			return 0, false
		}
	}
	return sign * (h*3600 + m*60), true
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
