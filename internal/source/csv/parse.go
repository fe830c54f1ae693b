package csv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	encsv "encoding/csv"

	"github.com/tillsync/tillsync/internal/event"
)

// Problem is one thing wrong with a file, and where.
type Problem struct {
	File string
	// Line is the 1-based line in the file (0: the file as a whole).
	Line int
	// Column is the 1-based field number (0: the whole row) and Name its
	// header.
	Column  int
	Name    string
	Message string
}

// String formats the problem as file:line:column: message, the form
// editors and people both read.
func (p Problem) String() string {
	switch {
	case p.Line == 0:
		return fmt.Sprintf("%s: %s", p.File, p.Message)
	case p.Column == 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
	return fmt.Sprintf("%s:%d:%d: column %q: %s", p.File, p.Line, p.Column, p.Name, p.Message)
}

// maxProblems bounds the problems reported for one file.
const maxProblems = 100

// field keys of the mapped columns.
const (
	fID, fReceipt, fType, fTimestamp, fLocation, fSKU, fDescription, fQuantity = "id", "receipt", "type", "timestamp", "location", "sku", "description", "quantity"
	fUnitPrice, fAmount, fRegister, fCashier, fTender, fReason                 = "unit_price", "amount", "register", "cashier", "tender", "reason"
)

func (c Columns) byField() map[string]string {
	return map[string]string{
		fID: c.ID, fReceipt: c.Receipt, fType: c.Type, fTimestamp: c.Timestamp, fLocation: c.Location, fSKU: c.SKU,
		fDescription: c.Description, fQuantity: c.Quantity, fUnitPrice: c.UnitPrice, fAmount: c.Amount,
		fRegister: c.Register, fCashier: c.Cashier, fTender: c.Tender, fReason: c.Reason,
	}
}

// item is one data row, read.
type item struct {
	line                                        int
	typ                                         event.Type
	at                                          time.Time
	loc, id, receipt, register, cashier, reason string
	tender                                      event.TenderKind
	sku, desc                                   string
	qty                                         event.Qty
	price                                       event.Amount
	hasPrice                                    bool
	amount                                      *event.Amount
	// typeFromSign: a negative sale quantity made this a return.
	typeFromSign bool
	// groupKey joins rows into one document.
	groupKey string
}

// doc is the rows that become one event.
type doc struct {
	items []*item
	ev    *event.Event
}

type parser struct {
	m        *compiled
	file     string
	hash     string
	cols     map[string]int // field key → index in the record
	names    map[int]string // column number → header
	problems []Problem
}

// Parsed is a file read and checked: its events (valid, in file order) or
// the problems that stop it from being imported.
type Parsed struct {
	SHA256   string
	Events   []*event.Event
	Problems []Problem
	// lines[i] is the first line of Events[i], for reporting refusals.
	lines []int
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// parse reads a whole file, builds its events and validates them (after
// prepare). Any problem means no events.
func parse(file string, data []byte, m *compiled, received time.Time, prepare func(*event.Event)) *Parsed {
	sum := sha256.Sum256(data)
	p := &parser{m: m, file: file, hash: hex.EncodeToString(sum[:]), cols: map[string]int{}, names: map[int]string{}}
	out := &Parsed{SHA256: p.hash}
	var docs []*doc
	// Rows that read cleanly are built and validated even when others did
	// not, so one pass reports every problem in the file.
	text, ok := p.decode(bytes.TrimPrefix(data, bom))
	if !ok {
		out.Problems = p.problems
		return out
	}
	for _, d := range p.read(text) {
		p.build(d, received, prepare)
		docs = append(docs, d)
	}
	if len(p.problems) > 0 {
		// Parsing and validation find problems in two passes: report them
		// in file order.
		sort.SliceStable(p.problems, func(i, j int) bool {
			a, b := p.problems[i], p.problems[j]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Column < b.Column
		})
		out.Problems = p.problems
		return out
	}
	for _, d := range docs {
		out.Events = append(out.Events, d.ev)
		out.lines = append(out.lines, d.items[0].line)
	}
	return out
}

func (p *parser) fail(line, col int, format string, args ...any) {
	if len(p.problems) >= maxProblems {
		return
	}
	pr := Problem{File: p.file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
	if col > 0 {
		pr.Name = p.names[col]
	}
	p.problems = append(p.problems, pr)
	if len(p.problems) == maxProblems {
		p.problems = append(p.problems, Problem{File: p.file, Message: "too many problems; the rest are not listed"})
	}
}

// failField reports a problem with a mapped field of a row.
func (p *parser) failField(line int, field, format string, args ...any) {
	col := 0
	if i, ok := p.cols[field]; ok {
		col = i + 1
	}
	p.fail(line, col, format, args...)
}

// decode returns the file as UTF-8: converted from Windows-1252, or
// checked, naming the first line that is not UTF-8.
func (p *parser) decode(data []byte) ([]byte, bool) {
	if p.m.Encoding == "windows-1252" {
		var b strings.Builder
		b.Grow(len(data))
		for _, c := range data {
			if r := cp1252[c]; r != 0 && c >= 0x80 && c <= 0x9F {
				b.WriteRune(r)
			} else {
				b.WriteRune(rune(c))
			}
		}
		return []byte(b.String()), true
	}
	if utf8.Valid(data) {
		return data, true
	}
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	p.fail(line, 0, "the file is not UTF-8 here; set encoding: windows-1252 for \"ANSI\" exports, or export as UTF-8")
	return nil, false
}

// cp1252 maps the bytes 0x80–0x9F where Windows-1252 differs from
// Latin-1; the rest of the byte range maps to the same code point.
var cp1252 = [256]rune{
	0x80: '€', 0x82: '‚', 0x83: 'ƒ', 0x84: '„', 0x85: '…', 0x86: '†', 0x87: '‡', 0x88: 'ˆ', 0x89: '‰',
	0x8A: 'Š', 0x8B: '‹', 0x8C: 'Œ', 0x8E: 'Ž', 0x91: '‘', 0x92: '’', 0x93: '“', 0x94: '”', 0x95: '•',
	0x96: '–', 0x97: '—', 0x98: '˜', 0x99: '™', 0x9A: 'š', 0x9B: '›', 0x9C: 'œ', 0x9E: 'ž', 0x9F: 'Ÿ',
}

// detectComma picks the separator the header line uses most, outside
// quotes: ',' or ';' (European exports) or tab.
func detectComma(data []byte) rune {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	counts := map[rune]int{}
	quoted := false
	for _, c := range string(line) {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t' || c == '|'):
			counts[c]++
		}
	}
	best, n := ',', 0
	for _, c := range []rune{',', ';', '\t', '|'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return best
}

// read parses the CSV and the values of every row, grouping rows into
// documents.
func (p *parser) read(data []byte) []*doc {
	if len(bytes.TrimSpace(data)) == 0 {
		p.fail(0, 0, "the file is empty")
		return nil
	}
	r := encsv.NewReader(bytes.NewReader(data))
	r.Comma = p.m.Comma
	if r.Comma == 0 {
		r.Comma = detectComma(data)
	}
	header, err := r.Read()
	if err != nil {
		p.csvError(err)
		return nil
	}
	seen := map[string]int{}
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		p.names[i+1] = strings.TrimSpace(h)
		if j, dup := seen[k]; dup && k != "" {
			p.fail(1, i+1, "header %q appears twice (also column %d)", h, j+1)
		}
		seen[k] = i
	}
	for field, name := range p.m.Columns.byField() {
		if name == "" {
			continue
		}
		i, ok := seen[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			p.fail(1, 0, "the mapping's %s column %q is not in the header (%s)", field, name, strings.Join(header, ", "))
			continue
		}
		p.cols[field] = i
	}
	if len(p.problems) > 0 {
		return nil
	}
	var docs []*doc
	groups := map[string]*doc{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.csvError(err)
			if !errors.Is(err, encsv.ErrFieldCount) {
				return nil // the reader cannot resync after a quoting error
			}
			continue
		}
		line, _ := r.FieldPos(0)
		if blank(rec) {
			continue
		}
		it := p.row(line, rec)
		if it == nil {
			continue
		}
		key := it.groupKey
		d, ok := groups[key]
		if !ok {
			d = &doc{}
			groups[key] = d
			docs = append(docs, d)
		} else if first := d.items[0]; first.typ != it.typ || first.loc != it.loc || !first.at.Equal(it.at) {
			p.failField(line, fID, "row belongs to the document of line %d but differs in type, location or time", first.line)
		}
		d.items = append(d.items, it)
	}
	if len(docs) == 0 && len(p.problems) == 0 {
		p.fail(0, 0, "the file has a header but no rows")
	}
	return docs
}

func (p *parser) csvError(err error) {
	var pe *encsv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, encsv.ErrFieldCount) {
			msg = "the row does not have as many fields as the header"
		} else if pe.Column > 0 {
			msg = fmt.Sprintf("%s (at character %d)", msg, pe.Column)
		}
		p.fail(pe.Line, 0, "%s", msg)
		return
	}
	p.fail(0, 0, "%v", err)
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// row reads one row's values; problems are reported and nil returned.
func (p *parser) row(line int, rec []string) *item {
	before := len(p.problems)
	get := func(field string) string {
		if i, ok := p.cols[field]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	it := &item{line: line, id: get(fID), receipt: get(fReceipt), register: get(fRegister), cashier: get(fCashier),
		reason: get(fReason), sku: get(fSKU), desc: get(fDescription)}
	it.typ = p.m.DefaultType
	if _, ok := p.cols[fType]; ok {
		v := get(fType)
		t, ok := p.m.types[strings.ToLower(v)]
		if !ok {
			p.failField(line, fType, "type %q is not known (sale, return, adjustment, receipt, count, or one mapped under types)", v)
		}
		it.typ = t
	}
	if v := get(fTimestamp); v == "" {
		p.failField(line, fTimestamp, "the timestamp is empty")
	} else if at, err := p.parseTime(v); err != nil {
		p.failField(line, fTimestamp, "%v", err)
	} else {
		it.at = at
	}
	it.loc = get(fLocation)
	if it.loc == "" {
		it.loc = p.m.Location
	}
	if it.loc == "" {
		p.failField(line, fLocation, "the location is empty")
	}
	if it.sku == "" {
		p.failField(line, fSKU, "the SKU is empty")
	}
	if v, err := normalizeDecimal(get(fQuantity), p.m.DecimalComma); err != nil {
		p.failField(line, fQuantity, "quantity %v", err)
	} else if q, err := event.ParseQty(v); err != nil {
		p.failField(line, fQuantity, "%v", err)
	} else {
		it.qty = q
	}
	if it.typ == event.TypeSale && p.m.NegativeIsReturn && it.qty < 0 {
		it.typ, it.qty = event.TypeReturn, -it.qty
		it.typeFromSign = true
	}
	if it.typ == event.TypeSale || it.typ == event.TypeReturn {
		p.prices(it, get)
		it.tender = p.m.DefaultTender
		if v := get(fTender); v != "" {
			k, ok := p.m.tenders[strings.ToLower(v)]
			if !ok {
				p.failField(line, fTender, "tender %q is not known (cash, card, gift_card, store_credit, or one mapped under tenders)", v)
			}
			it.tender = k
		}
	}
	switch {
	case it.id != "":
		it.groupKey = "id\x00" + it.id
	case it.receipt != "":
		it.groupKey = strings.Join([]string{"receipt", string(it.typ), it.loc, it.receipt}, "\x00")
	default:
		it.groupKey = "line\x00" + strconv.Itoa(line)
	}
	if _, ok := p.cols[fID]; ok && it.id == "" {
		p.failField(line, fID, "the ID is empty")
	}
	if len(p.problems) > before {
		return nil
	}
	return it
}

func (p *parser) prices(it *item, get func(string) string) {
	if v := get(fUnitPrice); v != "" {
		a, err := parseMoney(v, p.m.exp, p.m.DecimalComma)
		if err != nil {
			p.failField(it.line, fUnitPrice, "price %v", err)
			return
		}
		it.price, it.hasPrice = a, true
	}
	if v := get(fAmount); v != "" {
		a, err := parseMoney(v, p.m.exp, p.m.DecimalComma)
		if err != nil {
			p.failField(it.line, fAmount, "amount %v", err)
			return
		}
		if it.typeFromSign && a < 0 {
			a = -a
		}
		it.amount = &a
		if !it.hasPrice && it.qty > 0 {
			// Derive the unit price from the till's total: informational,
			// the amount is what counts.
			it.price = event.Amount((int64(a)*event.QtyScale + int64(it.qty)/2) / int64(it.qty))
			it.hasPrice = true
		}
	}
	if !it.hasPrice {
		p.failField(it.line, fUnitPrice, "a sale or return row needs a unit price or an amount")
	}
}

func (p *parser) parseTime(v string) (time.Time, error) {
	for _, layout := range p.m.TimeLayouts {
		if t, err := time.ParseInLocation(layout, v, p.m.zone); err == nil {
			return t.UTC(), nil
		}
	}
	names := make([]string, len(p.m.TimeLayouts))
	for i, l := range p.m.TimeLayouts {
		names[i] = l
		if l == time.RFC3339Nano || l == time.RFC3339 {
			names[i] = "RFC 3339"
		}
	}
	return time.Time{}, fmt.Errorf("time %q matches none of the layouts (%s)", v, strings.Join(names, " | "))
}

// build makes a document's event, prepares and validates it.
func (p *parser) build(d *doc, received time.Time, prepare func(*event.Event)) {
	first := d.items[0]
	id := p.m.IDPrefix + first.id
	if first.id == "" {
		id = fmt.Sprintf("%s%s:%d", p.m.IDPrefix, p.hash[:16], first.line)
	}
	e := &event.Event{ID: id, Type: first.typ, Location: first.loc, Source: p.m.Source, OccurredAt: first.at,
		Zone: p.m.Zone, ReceivedAt: received,
		Attributes: map[string]string{"csv_file": p.file, "csv_line": strconv.Itoa(first.line), "csv_sha256": p.hash}}
	switch first.typ {
	case event.TypeSale, event.TypeReturn:
		var lines []event.SaleLine
		var tenders []event.Tender
		for _, it := range d.items {
			l := event.SaleLine{LineID: strconv.Itoa(it.line), SKU: it.sku, Description: it.desc, Quantity: it.qty,
				UnitPrice: it.price, Amount: it.amount}
			lines = append(lines, l)
			total, ok := l.Total()
			if !ok {
				continue // validation reports the overflow
			}
			found := false
			for i := range tenders {
				if tenders[i].Kind == it.tender {
					tenders[i].Amount += event.Amount(total)
					found = true
				}
			}
			if !found {
				tenders = append(tenders, event.Tender{Kind: it.tender, Amount: event.Amount(total)})
			}
		}
		if first.typ == event.TypeSale {
			e.Body = &event.Sale{ReceiptNumber: first.receipt, Register: first.register, Cashier: first.cashier,
				Currency: p.m.Currency, Lines: lines, Tenders: tenders}
		} else {
			e.Body = &event.Return{ReceiptNumber: first.receipt, Register: first.register, Cashier: first.cashier,
				Currency: p.m.Currency, Lines: lines, Tenders: tenders, Reason: first.reason}
		}
	default:
		lines := make([]event.Line, len(d.items))
		for i, it := range d.items {
			lines[i] = event.Line{SKU: it.sku, Quantity: it.qty}
		}
		switch first.typ {
		case event.TypeAdjustment:
			reason := first.reason
			if reason == "" {
				reason = p.m.DefaultReason
			}
			e.Body = &event.Adjustment{Reason: reason, Lines: lines}
		case event.TypeReceipt:
			e.Body = &event.Receipt{Lines: lines}
		default:
			e.Body = &event.StockCount{Lines: lines, CountID: first.receipt}
		}
	}
	if prepare != nil {
		prepare(e)
	}
	e.Normalize()
	if err := e.Validate(); err != nil {
		var ve *event.ValidationError
		if !errors.As(err, &ve) {
			p.fail(first.line, 0, "%v", err)
			return
		}
		for _, pr := range ve.Problems {
			line, field := p.locate(d, pr.Field)
			p.failField(line, field, "%s: %s", pr.Field, pr.Message)
		}
		return
	}
	d.ev = e
}

var linePath = regexp.MustCompile(`^data\.lines\[(\d+)\](?:\.(\w+))?`)

// locate maps a validation problem's field path back to a row and column.
func (p *parser) locate(d *doc, path string) (line int, field string) {
	line = d.items[0].line
	if m := linePath.FindStringSubmatch(path); m != nil {
		if i, err := strconv.Atoi(m[1]); err == nil && i < len(d.items) {
			line = d.items[i].line
		}
		switch m[2] {
		case "sku", "quantity", "description", "amount":
			return line, m[2]
		case "unit_price":
			return line, fUnitPrice
		}
		return line, ""
	}
	switch {
	case path == "id":
		return line, fID
	case path == "location":
		return line, fLocation
	case path == "occurred_at":
		return line, fTimestamp
	case path == "data.reason":
		return line, fReason
	case strings.HasPrefix(path, "data.tenders"):
		return line, fTender
	}
	return line, ""
}

// normalizeDecimal turns a number as the export writes it into a plain
// decimal ("-1234.5"): with decimalComma ',' is the decimal mark and '.'
// may group thousands, else the other way round. Grouping must be in
// threes, so "12,50" is refused without decimal_comma instead of being
// read as 1250.
func normalizeDecimal(s string, decimalComma bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("is empty")
	}
	dec, group := ".", ","
	if decimalComma {
		dec, group = ",", "."
	}
	sign := ""
	if s[0] == '-' || s[0] == '+' {
		sign, s = s[:1], s[1:]
	}
	whole, frac, hasDec := strings.Cut(s, dec)
	if strings.Contains(frac, dec) || strings.Contains(frac, group) || (hasDec && frac == "") {
		return "", fmt.Errorf("%q is not a number", sign+s)
	}
	if strings.Contains(whole, group) {
		parts := strings.Split(whole, group)
		if len(parts[0]) == 0 || len(parts[0]) > 3 {
			return "", fmt.Errorf("%q: %q groups thousands here and the grouping is off (set decimal_comma for numbers like 12,50)", sign+s, group)
		}
		for _, g := range parts[1:] {
			if len(g) != 3 {
				return "", fmt.Errorf("%q: %q groups thousands here and the grouping is off (set decimal_comma for numbers like 12,50)", sign+s, group)
			}
		}
		whole = strings.Join(parts, "")
	}
	if strings.Trim(whole+frac, "0123456789") != "" || whole+frac == "" {
		return "", fmt.Errorf("%q is not a number", sign+s)
	}
	if frac != "" {
		return sign + whole + "." + frac, nil
	}
	return sign + whole, nil
}

// parseMoney reads an amount in major units into minor units of a currency
// with exp decimals, exactly: more decimals than the currency has is an
// error unless they are zeros.
func parseMoney(s string, exp int, decimalComma bool) (event.Amount, error) {
	v, err := normalizeDecimal(s, decimalComma)
	if err != nil {
		return 0, err
	}
	neg := strings.HasPrefix(v, "-")
	v = strings.TrimLeft(v, "+-")
	whole, frac, _ := strings.Cut(v, ".")
	frac = strings.TrimRight(frac, "0")
	if len(frac) > exp {
		return 0, fmt.Errorf("%q has more decimals than the currency's %d", s, exp)
	}
	frac += strings.Repeat("0", exp-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n == math.MinInt64 {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	if neg {
		n = -n
	}
	return event.Amount(n), nil
}
