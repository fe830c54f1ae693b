package camt053

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/settlement"
)

// namespacePrefix is common to every camt.053 version's namespace.
const namespacePrefix = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."

// Versions are the camt.053.001 message versions the parser reads.
var Versions = []string{"02", "03", "04", "05", "06", "07", "08"}

// Parser reads camt.053 statements. The zero value is ready to use.
type Parser struct {
	// File names the file in transactions and errors.
	File string
}

var _ settlement.Parser = (*Parser)(nil)

// Parse reads a camt.053 document from r, calling emit for each entry; see
// settlement.Parser for what it returns.
func (p *Parser) Parse(r io.Reader, emit func(settlement.Transaction) error) (settlement.Summary, error) {
	d := xml.NewDecoder(settlement.SkipBOM(r))
	d.CharsetReader = settlement.CharsetReader
	s := &state{
		file: p.File, emit: emit, d: d,
		tally: settlement.NewTally(settlement.FormatCamt053, p.File),
	}
	if err := s.document(); err != nil {
		return s.tally.Summary(), err
	}
	return s.tally.Result()
}

type state struct {
	file  string
	emit  func(settlement.Transaction) error
	d     *xml.Decoder
	tally *settlement.Tally

	version string
	stmts   int
	st      *statement
}

// statement is what the checks at the end of a Stmt need.
type statement struct {
	index   int
	line    int
	path    string
	id      string
	account string
	acctCcy string
	entries int

	opening, closing *bal
	summary          *txsSummary
	summaryLine      int

	// booked entries, signed, per currency
	booked map[string]int64
	// all entries: counts and unsigned sums, per direction
	nCredit, nDebit     int64
	sumCredit, sumDebit int64
	currencies          map[string]bool
}

type bal struct {
	code     string
	amount   int64
	currency string
}

func (s *state) fail(at settlement.Place, format string, args ...any) error {
	return settlement.Errorf(settlement.FormatCamt053, s.file, at, format, args...)
}

func (s *state) line() int {
	l, _ := s.d.InputPos()
	return l
}

// xmlError turns a decoder error into an error at its line.
func (s *state) xmlError(err error, element string) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return s.fail(settlement.Place{Line: se.Line, Element: element}, "malformed XML: %s", se.Msg)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return s.fail(settlement.Place{Line: s.line(), Element: element}, "the document ends early")
	}
	return s.fail(settlement.Place{Line: s.line(), Element: element}, "%v", err)
}

// next returns the next start or end element, skipping text, comments and
// processing instructions.
func (s *state) next(element string) (xml.Token, error) {
	for {
		tok, err := s.d.Token()
		if err != nil {
			return nil, s.xmlError(err, element)
		}
		switch t := tok.(type) {
		case xml.StartElement, xml.EndElement:
			return t, nil
		}
	}
}

func (s *state) document() error {
	var root xml.StartElement
	for found := false; !found; {
		tok, err := s.d.Token()
		if errors.Is(err, io.EOF) {
			return s.fail(settlement.Place{}, "the file has no XML document")
		}
		if err != nil {
			return s.xmlError(err, "")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			root, found = t, true
		case xml.EndElement:
			return s.xmlError(errors.New("unexpected end element"), "")
		}
	}
	if root.Name.Local != "Document" {
		return s.fail(settlement.Place{Line: s.line()}, "the root element is not a camt.053 Document")
	}
	ns := root.Name.Space
	v, isCamt := strings.CutPrefix(ns, namespacePrefix)
	if !isCamt {
		return s.fail(settlement.Place{Line: s.line(), Element: "Document"}, "namespace %q is not camt.053 (%sNN)", ns, namespacePrefix)
	}
	supported := false
	for _, sv := range Versions {
		supported = supported || v == sv
	}
	if !supported {
		return s.fail(settlement.Place{Line: s.line(), Element: "Document"}, "camt.053.001.%s is not a supported version (.02 to .08 are)", v)
	}
	s.version = v
	sawStatement := false
	for {
		tok, err := s.next("Document")
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if !sawStatement {
				return s.fail(settlement.Place{Line: s.line(), Element: "Document"}, "no BkToCstmrStmt with a statement")
			}
			return s.trailing()
		case xml.StartElement:
			if t.Name.Local != "BkToCstmrStmt" {
				return s.fail(settlement.Place{Line: s.line(), Element: t.Name.Local}, "expected BkToCstmrStmt in Document")
			}
			if err := s.message(); err != nil {
				return err
			}
			sawStatement = s.stmts > 0
		}
	}
}

// trailing refuses anything but whitespace and comments after the document.
func (s *state) trailing() error {
	for {
		tok, err := s.d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return s.xmlError(err, "")
		}
		if _, ok := tok.(xml.StartElement); ok {
			return s.fail(settlement.Place{Line: s.line()}, "another element after the Document")
		}
	}
}

// message reads BkToCstmrStmt: GrpHdr (skipped), Stmt*, SplmtryData.
func (s *state) message() error {
	for {
		tok, err := s.next("BkToCstmrStmt")
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if t.Name.Local != "Stmt" {
				if err := s.d.Skip(); err != nil {
					return s.xmlError(err, t.Name.Local)
				}
				continue
			}
			s.stmts++
			if err := s.statement(); err != nil {
				return err
			}
		}
	}
}

// statement reads one Stmt, element by element, and checks it at its end.
func (s *state) statement() error {
	st := &statement{
		index: s.stmts, line: s.line(), path: "Stmt[" + strconv.Itoa(s.stmts) + "]",
		booked: map[string]int64{}, currencies: map[string]bool{},
	}
	s.st = st
	for {
		tok, err := s.next(st.path)
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return s.checkStatement(st)
		case xml.StartElement:
			at := settlement.Place{Line: s.line(), Element: st.path + "/" + t.Name.Local}
			var derr error
			switch t.Name.Local {
			case "Id":
				derr = s.d.DecodeElement(&st.id, &t)
				st.id = strings.TrimSpace(st.id)
			case "Acct":
				var a account
				derr = s.d.DecodeElement(&a, &t)
				st.account, st.acctCcy = a.number(), strings.TrimSpace(a.Ccy)
			case "Bal":
				var b balance
				if derr = s.d.DecodeElement(&b, &t); derr == nil {
					if err := s.balance(st, b, at); err != nil {
						return err
					}
				}
			case "TxsSummry":
				var ts txsSummary
				if derr = s.d.DecodeElement(&ts, &t); derr == nil {
					st.summary, st.summaryLine = &ts, at.Line
				}
			case "Ntry":
				st.entries++
				at.Element = st.path + "/Ntry[" + strconv.Itoa(st.entries) + "]"
				var e entry
				if derr = s.d.DecodeElement(&e, &t); derr == nil {
					if err := s.entry(st, &e, at); err != nil {
						return err
					}
				}
			default:
				derr = s.d.Skip()
			}
			if derr != nil {
				return s.xmlError(derr, at.Element)
			}
		}
	}
}

// balance keeps the opening (OPBD, else PRCD) and closing (CLBD) booked
// balances (ISO 20022 ExternalBalanceType1Code: OPBD opening booked, PRCD
// previously closed booked — which many banks send instead of OPBD — and CLBD
// closing booked).
func (s *state) balance(st *statement, b balance, at settlement.Place) error {
	code := strings.TrimSpace(b.Tp.CdOrPrtry.Cd)
	if code == "" {
		return nil // a proprietary balance type: not one tillsync checks
	}
	cur := strings.TrimSpace(b.Amt.Ccy)
	amt, err := s.money(b.Amt.Value, cur, at.Element+"/Amt", at.Line)
	if err != nil {
		return err
	}
	dir, err := s.direction(b.CdtDbtInd, at.Element+"/CdtDbtInd", at.Line)
	if err != nil {
		return err
	}
	v := &bal{code: code, amount: int64(settlement.Signed(amt, dir)), currency: cur}
	switch code {
	case "OPBD":
		if st.opening == nil || st.opening.code != "OPBD" {
			st.opening = v
		}
	case "PRCD":
		if st.opening == nil {
			st.opening = v
		}
	case "CLBD":
		if st.closing == nil {
			st.closing = v
		}
	}
	return nil
}

// money reads a non-negative camt amount into minor units of its currency.
func (s *state) money(value, cur, element string, line int) (int64, error) {
	at := settlement.Place{Element: element, Line: line}
	exp, ok := event.MinorUnits(cur)
	if !ok {
		return 0, s.fail(at, "currency %q is not an ISO 4217 code", cur)
	}
	v := strings.TrimSpace(value)
	if strings.HasPrefix(v, "-") {
		return 0, s.fail(at, "amount %q is negative; camt.053 amounts are unsigned with CdtDbtInd", v)
	}
	n, err := settlement.ParseAmount(v, exp)
	if err != nil {
		return 0, s.fail(at, "amount: %v", err)
	}
	return n, nil
}

func (s *state) direction(v, element string, line int) (settlement.Direction, error) {
	switch strings.TrimSpace(v) {
	case "CRDT":
		return settlement.Credit, nil
	case "DBIT":
		return settlement.Debit, nil
	}
	return "", s.fail(settlement.Place{Element: element, Line: line}, "credit/debit indicator %q is not CRDT or DBIT", v)
}

func (s *state) date(c *dateChoice, element string, line int) (settlement.Date, error) {
	if c == nil {
		return settlement.Date{}, nil
	}
	v, name := c.Dt, "/Dt"
	if strings.TrimSpace(v) == "" {
		v, name = c.DtTm, "/DtTm"
	}
	d, err := settlement.ParseISODate(v)
	if err != nil {
		return settlement.Date{}, s.fail(settlement.Place{Element: element + name, Line: line}, "%v", err)
	}
	return d, nil
}

// entry turns one Ntry into a transaction (with children for a batch) and
// counts it for the statement's checks.
func (s *state) entry(st *statement, e *entry, at settlement.Place) error {
	if e.Amt == nil {
		return s.fail(at, "the entry has no Amt")
	}
	cur := strings.TrimSpace(e.Amt.Ccy)
	mag, err := s.money(e.Amt.Value, cur, at.Element+"/Amt", at.Line)
	if err != nil {
		return err
	}
	dir, err := s.direction(e.CdtDbtInd, at.Element+"/CdtDbtInd", at.Line)
	if err != nil {
		return err
	}
	booking, err := s.date(e.BookgDt, at.Element+"/BookgDt", at.Line)
	if err != nil {
		return err
	}
	value, err := s.date(e.ValDt, at.Element+"/ValDt", at.Line)
	if err != nil {
		return err
	}
	code, typ := e.BkTxCd.code(dir)
	tx := settlement.Transaction{
		Format: settlement.FormatCamt053, File: s.file, Line: at.Line, Element: at.Element,
		Account: st.account, Statement: st.id, BookingDate: booking, ValueDate: value,
		Amount: settlement.Signed(mag, dir), Currency: cur, Direction: dir, Type: typ, Code: code,
		References: settlement.References{Bank: strings.TrimSpace(e.AcctSvcrRef)},
	}
	if e.BkTxCd.Prtry.Cd != "" && e.BkTxCd.Domn.Cd != "" {
		tx.SetAttr("proprietary_code", strings.TrimSpace(e.BkTxCd.Prtry.Cd))
	}
	tx.SetAttr("entry_ref", strings.TrimSpace(e.NtryRef))
	// A statement's entries are booked; Sts says otherwise only for pending
	// (PDNG), information-only (INFO) or future (FUTR) entries, which are
	// kept out of the balance check.
	status := e.Sts.value()
	booked := status == "" || status == "BOOK"
	if !booked {
		tx.SetAttr("status", status)
	}
	if reversal := strings.TrimSpace(e.RvslInd); reversal == "true" || reversal == "1" {
		tx.Type = settlement.TypeReversal
		tx.SetAttr("reversal", "true")
	}
	applyCard(&tx, e.CardTx)
	if orig := original(e.AmtDtls, cur, dir); orig != nil {
		tx.Original = orig
	}
	if err := s.details(&tx, e, at); err != nil {
		return err
	}
	tx.Description = joinText(tx.Description, e.AddtlNtryInf)
	tx.Type = settlement.Hint(tx.Type, dir, tx.Description+" "+tx.Attributes["counterparty"])

	// Count for the statement's checks.
	st.currencies[cur] = true
	if dir == settlement.Credit {
		st.nCredit++
		if st.sumCredit, err = s.sum(st.sumCredit, mag, at); err != nil {
			return err
		}
	} else {
		st.nDebit++
		if st.sumDebit, err = s.sum(st.sumDebit, mag, at); err != nil {
			return err
		}
	}
	if booked {
		if st.booked[cur], err = s.sum(st.booked[cur], int64(tx.Amount), at); err != nil {
			return err
		}
	}
	return s.tally.Emit(s.emit, tx)
}

func (s *state) sum(a, b int64, at settlement.Place) (int64, error) {
	v, ok := settlement.Add(a, b)
	if !ok {
		return 0, s.fail(at, "the statement's amounts overflow")
	}
	return v, nil
}

// details reads NtryDtls: one transaction detail without a batch merges
// into the entry; a batch, or several details, become children.
func (s *state) details(tx *settlement.Transaction, e *entry, at settlement.Place) error {
	var all []*txDetails
	var paths []string
	var btch *batch
	btchPath := ""
	for i := range e.NtryDtls {
		nd := &e.NtryDtls[i]
		base := fmt.Sprintf("%s/NtryDtls[%d]", at.Element, i+1)
		if nd.Btch != nil && btch == nil {
			btch, btchPath = nd.Btch, base+"/Btch"
		}
		for j := range nd.TxDtls {
			all = append(all, &nd.TxDtls[j])
			paths = append(paths, fmt.Sprintf("%s/TxDtls[%d]", base, j+1))
		}
	}
	if btch != nil {
		tx.References.Batch = firstOf(btch.PmtInfID, btch.MsgID)
		tx.SetAttr("batch_transactions", strings.TrimSpace(btch.NbOfTxs))
	}
	if len(all) == 1 && btch == nil {
		child, err := s.detail(tx, all[0], paths[0], at.Line)
		if err != nil {
			return err
		}
		mergeDetail(tx, child)
		return nil
	}
	if len(all) == 0 {
		return s.checkBatchHeader(tx, btch, btchPath, at, -1)
	}
	var sum int64
	complete := true
	for i, d := range all {
		child, err := s.detail(tx, d, paths[i], at.Line)
		if err != nil {
			return err
		}
		if child.Attributes["amount_reported"] == "false" || child.Currency != tx.Currency {
			complete = false
		} else if sum, err = s.sum(sum, int64(child.Amount), at); err != nil {
			return err
		}
		tx.Children = append(tx.Children, child)
	}
	if complete {
		if sum != int64(tx.Amount) {
			s.tally.Mismatch(at, "entry %s %s but its %d transaction details add up to %s",
				refOr(tx), settlement.FormatMoney(int64(tx.Amount), tx.Currency), len(all), settlement.FormatMoney(sum, tx.Currency))
		} else {
			s.tally.Checked()
		}
	}
	return s.checkBatchHeader(tx, btch, btchPath, at, len(all))
}

// checkBatchHeader compares a Btch's NbOfTxs (with the details present,
// when any) and TtlAmt/CdtDbtInd with the entry.
func (s *state) checkBatchHeader(tx *settlement.Transaction, b *batch, path string, at settlement.Place, details int) error {
	if b == nil {
		return nil
	}
	bat := settlement.Place{Element: path, Line: at.Line}
	if n := strings.TrimSpace(b.NbOfTxs); n != "" && details >= 0 {
		if want, err := strconv.Atoi(n); err != nil {
			return s.fail(settlement.Place{Element: path + "/NbOfTxs", Line: at.Line}, "%q is not a number", n)
		} else if want != details {
			s.tally.Mismatch(bat, "batch of entry %s says %d transactions but the entry details %d", refOr(tx), want, details)
		} else {
			s.tally.Checked()
		}
	}
	if b.TotalAmt != nil {
		cur := strings.TrimSpace(b.TotalAmt.Ccy)
		mag, err := s.money(b.TotalAmt.Value, cur, path+"/TtlAmt", at.Line)
		if err != nil {
			return err
		}
		dir := tx.Direction
		if strings.TrimSpace(b.CdtDbtInd) != "" {
			if dir, err = s.direction(b.CdtDbtInd, path+"/CdtDbtInd", at.Line); err != nil {
				return err
			}
		}
		total := int64(settlement.Signed(mag, dir))
		if cur != tx.Currency || total != int64(tx.Amount) {
			s.tally.Mismatch(bat, "batch total %s but entry %s is %s", settlement.FormatMoney(total, cur), refOr(tx), settlement.FormatMoney(int64(tx.Amount), tx.Currency))
		} else {
			s.tally.Checked()
		}
	}
	return nil
}

// detail reads one TxDtls as a transaction under parent.
func (s *state) detail(parent *settlement.Transaction, d *txDetails, path string, line int) (settlement.Transaction, error) {
	c := settlement.Transaction{
		Format: parent.Format, File: parent.File, Line: line, Element: path,
		Account: parent.Account, Statement: parent.Statement,
		BookingDate: parent.BookingDate, ValueDate: parent.ValueDate,
		Currency: parent.Currency, Direction: parent.Direction, Type: parent.Type, Code: parent.Code,
	}
	if d.CdtDbtInd != "" {
		dir, err := s.direction(d.CdtDbtInd, path+"/CdtDbtInd", line)
		if err != nil {
			return c, err
		}
		c.Direction = dir
	}
	amt, amtPath := d.Amt, path+"/Amt"
	if amt == nil && d.AmtDtls.TxAmt != nil {
		amt, amtPath = &d.AmtDtls.TxAmt.Amt, path+"/AmtDtls/TxAmt/Amt"
	}
	if amt != nil {
		cur := strings.TrimSpace(amt.Ccy)
		mag, err := s.money(amt.Value, cur, amtPath, line)
		if err != nil {
			return c, err
		}
		c.Amount, c.Currency = settlement.Signed(mag, c.Direction), cur
	} else {
		c.SetAttr("amount_reported", "false")
	}
	if orig := original(d.AmtDtls, c.Currency, c.Direction); orig != nil {
		c.Original = orig
	}
	if code, typ := d.BkTxCd.code(c.Direction); code != "" {
		c.Code, c.Type = code, typ
	}
	r := d.Refs
	c.References = settlement.References{
		Bank:     strings.TrimSpace(r.AcctSvcrRef),
		Customer: strings.TrimSpace(r.InstrID),
		EndToEnd: strings.TrimSpace(r.EndToEndID),
		Batch:    firstOf(r.PmtInfID, r.MsgID),
	}
	if c.References.EndToEnd == "NOTPROVIDED" {
		c.References.EndToEnd = ""
	}
	c.SetAttr("tx_id", strings.TrimSpace(r.TxID))
	c.SetAttr("mandate_id", strings.TrimSpace(r.MndtID))
	c.SetAttr("cheque_number", strings.TrimSpace(r.ChqNb))
	var text []string
	text = append(text, d.RmtInf.Ustrd...)
	for _, st := range d.RmtInf.Strd {
		if ref := strings.TrimSpace(st.CdtrRefInf.Ref); ref != "" && c.References.Merchant == "" {
			c.References.Merchant = ref
		}
		text = append(text, st.AddtlRmtInf...)
	}
	text = append(text, d.AddtlTxInf)
	c.Description = joinText(text...)
	p := d.RltdPties
	if c.Direction == settlement.Credit {
		c.SetAttr("counterparty", firstOf(p.Dbtr.name(), p.UltmtDbtr.name()))
	} else {
		c.SetAttr("counterparty", firstOf(p.Cdtr.name(), p.UltmtCdtr.name()))
	}
	applyCard(&c, d.CardTx)
	c.Type = settlement.Hint(c.Type, c.Direction, c.Description+" "+c.Attributes["counterparty"])
	return c, nil
}

// mergeDetail folds the one transaction detail of a single booking into
// the entry: its references, text and facts, not its amount.
func mergeDetail(tx *settlement.Transaction, c settlement.Transaction) {
	r := &tx.References
	r.Bank = firstOf(r.Bank, c.References.Bank)
	r.Customer = firstOf(r.Customer, c.References.Customer)
	r.EndToEnd = firstOf(r.EndToEnd, c.References.EndToEnd)
	r.Batch = firstOf(r.Batch, c.References.Batch)
	r.Merchant = firstOf(r.Merchant, c.References.Merchant)
	r.CardLastFour = firstOf(r.CardLastFour, c.References.CardLastFour)
	if tx.Original == nil {
		tx.Original = c.Original
	}
	tx.Description = joinText(tx.Description, c.Description)
	for k, v := range c.Attributes {
		if k == "amount_reported" {
			continue
		}
		if _, ok := tx.Attributes[k]; !ok {
			tx.SetAttr(k, v)
		}
	}
	if tx.Code == "" && c.Code != "" {
		tx.Code, tx.Type = c.Code, c.Type
	}
}

// applyCard takes the last four digits of a card's PAN and the terminal.
func applyCard(tx *settlement.Transaction, c *cardTx) {
	if c == nil {
		return
	}
	if last := settlement.LastFour(c.Card.PlainCardData.PAN); last != "" {
		tx.References.CardLastFour = last
	}
	tx.SetAttr("terminal", strings.TrimSpace(c.POI.ID.ID))
}

// original is the instructed amount when it is in another currency.
func original(a amountDetails, cur string, dir settlement.Direction) *event.Money {
	if a.InstdAmt == nil {
		return nil
	}
	oc := strings.TrimSpace(a.InstdAmt.Amt.Ccy)
	exp, ok := event.MinorUnits(oc)
	if !ok || oc == cur {
		return nil
	}
	n, err := settlement.ParseAmount(a.InstdAmt.Amt.Value, exp)
	if err != nil || n < 0 {
		return nil
	}
	return &event.Money{Amount: settlement.Signed(n, dir), Currency: oc}
}

// checkStatement verifies the balances and transaction summary of a
// statement.
func (s *state) checkStatement(st *statement) error {
	at := settlement.Place{Element: st.path, Line: st.line}
	name := st.id
	if name == "" {
		name = st.path
	}
	if o, c := st.opening, st.closing; o != nil && c != nil {
		others := []string{}
		for cur := range st.currencies {
			if cur != o.currency {
				others = append(others, cur)
			}
		}
		sort.Strings(others)
		switch {
		case o.currency != c.currency:
			s.tally.Mismatch(at, "statement %s: opening balance in %s but closing balance in %s", name, o.currency, c.currency)
		case len(others) > 0:
			s.tally.Mismatch(at, "statement %s: balances in %s but entries in %s", name, o.currency, strings.Join(others, ", "))
		default:
			moved := st.booked[o.currency]
			want, ok := settlement.Add(o.amount, moved)
			if !ok {
				return s.fail(at, "the statement's amounts overflow")
			}
			if want != c.amount {
				s.tally.Mismatch(at, "statement %s: opening balance (%s) %s + booked entries %s = %s but the closing balance (CLBD) is %s",
					name, o.code, settlement.FormatMoney(o.amount, o.currency), settlement.FormatMoney(moved, o.currency),
					settlement.FormatMoney(want, o.currency), settlement.FormatMoney(c.amount, c.currency))
			} else {
				s.tally.Checked()
			}
		}
	}
	if st.summary != nil {
		return s.checkSummary(st, name)
	}
	return nil
}

// checkSummary compares TxsSummry with the entries.
func (s *state) checkSummary(st *statement, name string) error {
	cur := st.acctCcy
	if st.opening != nil {
		cur = st.opening.currency
	}
	if cur == "" && len(st.currencies) == 1 {
		for c := range st.currencies {
			cur = c
		}
	}
	exp, ok := event.MinorUnits(cur)
	if !ok || len(st.currencies) > 1 {
		return nil // sums without a currency cannot be compared across currencies
	}
	at := settlement.Place{Element: st.path + "/TxsSummry", Line: st.summaryLine}
	check := func(what string, ns *numberAndSum, n, sum int64, net *int64) error {
		if ns == nil {
			return nil
		}
		if v := strings.TrimSpace(ns.NbOfNtries); v != "" {
			want, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return s.fail(settlement.Place{Element: at.Element + "/" + what + "/NbOfNtries", Line: at.Line}, "%q is not a number", v)
			}
			s.compare(at, want == n, "statement %s: %s number of entries %d but the statement has %d", name, what, want, n)
		}
		if v := strings.TrimSpace(ns.Sum); v != "" {
			want, err := settlement.ParseAmount(v, exp)
			if err != nil {
				return s.fail(settlement.Place{Element: at.Element + "/" + what + "/Sum", Line: at.Line}, "%v", err)
			}
			s.compare(at, want == sum, "statement %s: %s sum %s but the entries add up to %s", name, what, settlement.FormatMinor(want, exp), settlement.FormatMinor(sum, exp))
		}
		if net == nil {
			return nil
		}
		amt, ind := ns.TotalNetAmt, ns.CdtDbtInd
		if ns.TotalNet != nil {
			amt, ind = ns.TotalNet.Amt, ns.TotalNet.CdtDbtInd
		}
		if strings.TrimSpace(amt) == "" {
			return nil
		}
		mag, err := settlement.ParseAmount(strings.TrimSpace(amt), exp)
		if err != nil {
			return s.fail(settlement.Place{Element: at.Element + "/" + what + "/TtlNetNtry", Line: at.Line}, "%v", err)
		}
		dir, err := s.direction(ind, at.Element+"/"+what+"/CdtDbtInd", at.Line)
		if err != nil {
			return err
		}
		want := int64(settlement.Signed(mag, dir))
		s.compare(at, want == *net, "statement %s: net of all entries %s but the entries net %s", name, settlement.FormatMinor(want, exp), settlement.FormatMinor(*net, exp))
		return nil
	}
	total, ok1 := settlement.Add(st.sumCredit, st.sumDebit)
	net, ok2 := settlement.Sub(st.sumCredit, st.sumDebit)
	if !ok1 || !ok2 {
		return s.fail(at, "the statement's amounts overflow")
	}
	if err := check("TtlNtries", st.summary.All, st.nCredit+st.nDebit, total, &net); err != nil {
		return err
	}
	if err := check("TtlCdtNtries", st.summary.Credits, st.nCredit, st.sumCredit, nil); err != nil {
		return err
	}
	return check("TtlDbtNtries", st.summary.Debits, st.nDebit, st.sumDebit, nil)
}

func (s *state) compare(at settlement.Place, ok bool, format string, args ...any) {
	if ok {
		s.tally.Checked()
		return
	}
	s.tally.Mismatch(at, format, args...)
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// joinText joins the non-empty pieces of free text, each once.
func joinText(pieces ...string) string {
	var out []string
	seen := map[string]bool{}
	for _, p := range pieces {
		p = settlement.CleanText(p)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return strings.Join(out, " ")
}

func refOr(tx *settlement.Transaction) string {
	if tx.References.Bank != "" {
		return tx.References.Bank
	}
	return tx.Element
}
