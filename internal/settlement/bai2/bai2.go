package bai2

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/settlement"
)

// maxLine bounds one physical record; BAI2 records are usually 80 bytes.
const maxLine = 1 << 20

// Parser reads BAI2 files. The zero value is ready to use.
type Parser struct {
	// File names the file in transactions and errors.
	File string
	// DefaultCurrency is the currency of groups and accounts that name none
	// (default USD, as the specification says).
	DefaultCurrency string
}

var _ settlement.Parser = (*Parser)(nil)

// Parse reads a BAI2 file from r, calling emit for each 16 transaction
// detail; see settlement.Parser for what it returns.
func (p *Parser) Parse(r io.Reader, emit func(settlement.Transaction) error) (settlement.Summary, error) {
	cur := p.DefaultCurrency
	if cur == "" {
		cur = "USD"
	}
	s := &state{
		file: p.File, emit: emit, defaultCurrency: cur,
		tally: settlement.NewTally(settlement.FormatBAI2, p.File),
	}
	if _, ok := event.MinorUnits(cur); !ok {
		return s.tally.Summary(), s.fail(settlement.Place{}, "default currency %q is not an ISO 4217 code", cur)
	}
	if err := s.read(r); err != nil {
		return s.tally.Summary(), err
	}
	return s.tally.Result()
}

// stage is where in the file's structure the parser is: what the last
// record opened and so which records may come next.
type stage int

const (
	beforeFile stage = iota // nothing yet: expect 01
	inFile                  // after 01 or 98: expect 02 or 99
	inGroup                 // after 02 or 49: expect 03 or 98
	inAccount               // after 03 or 16: expect 16 or 49
	afterFile               // after 99: expect nothing
)

var expected = map[stage]string{
	beforeFile: "a 01 file header",
	inFile:     "a 02 group header or the 99 file trailer",
	inGroup:    "a 03 account identifier or the 98 group trailer",
	inAccount:  "a 16 transaction detail or the 49 account trailer",
	afterFile:  "nothing after the 99 file trailer",
}

// scope counts the physical records and sums the amounts of a file, group
// or account, to check its trailer.
type scope struct {
	line    int
	records int64
	sum     int64
	items   int64 // groups in a file, accounts in a group
}

// record is one logical record: a physical record and its 88
// continuations.
type record struct {
	code  string
	line  int
	parts []string // each physical record's fields text, after "NN,"
}

func (r *record) at() settlement.Place { return settlement.Place{Record: r.code, Line: r.line} }

type state struct {
	file            string
	emit            func(settlement.Transaction) error
	tally           *settlement.Tally
	defaultCurrency string

	stage   stage
	pending *record
	line    int // last line read

	fileScope scope
	group     scope
	account   scope

	// group header
	asOf        settlement.Date
	groupCur    string
	groupStatus string
	acctNumber  string
	acctCur     string
	acctExp     int
}

func (s *state) fail(at settlement.Place, format string, args ...any) error {
	return settlement.Errorf(settlement.FormatBAI2, s.file, at, format, args...)
}

func (s *state) read(r io.Reader) error {
	sc := bufio.NewScanner(settlement.SkipBOM(r))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for sc.Scan() {
		s.line++
		if err := s.physical(sc.Text()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return s.fail(settlement.Place{Line: s.line + 1}, "line is longer than %d bytes", maxLine)
		}
		return fmt.Errorf("bai2: read: %w", err)
	}
	if err := s.flush(); err != nil {
		return err
	}
	switch s.stage {
	case afterFile:
		return nil
	case beforeFile:
		return s.fail(settlement.Place{}, "the file has no records")
	}
	return s.fail(settlement.Place{Line: s.line}, "the file ends before its 99 file trailer (expected %s)", expected[s.stage])
}

// physical takes one line: an 88 continues the pending record, anything else
// completes it and starts the next.
func (s *state) physical(text string) error {
	text = strings.TrimRight(text, " \t\r\x00")
	if strings.TrimSpace(text) == "" {
		return nil // blank lines (and fixed-length padding) carry nothing
	}
	if len(text) < 2 || !isDigits(text[:2]) || (len(text) > 2 && text[2] != ',' && text[2] != '/') {
		return s.fail(settlement.Place{Line: s.line}, "%q does not start with a two-digit record code and a comma", clip(text))
	}
	code, rest := text[:2], ""
	if len(text) > 3 {
		rest = text[3:]
	}
	if code == "88" {
		if s.pending == nil {
			return s.fail(settlement.Place{Record: code, Line: s.line}, "a continuation record with no record before it to continue")
		}
		s.pending.parts = append(s.pending.parts, rest)
		return nil
	}
	if err := s.flush(); err != nil {
		return err
	}
	s.pending = &record{code: code, line: s.line, parts: []string{rest}}
	return nil
}

// flush handles the pending logical record.
func (s *state) flush() error {
	rec := s.pending
	if rec == nil {
		return nil
	}
	s.pending = nil
	want := map[string]stage{"01": beforeFile, "02": inFile, "03": inGroup, "16": inAccount, "49": inAccount, "98": inGroup, "99": inFile}
	st, known := want[rec.code]
	if !known {
		return s.fail(rec.at(), "unknown record code %s (BAI2 has 01, 02, 03, 16, 49, 88, 98 and 99)", rec.code)
	}
	if st != s.stage {
		return s.fail(rec.at(), "out of place: expected %s", expected[s.stage])
	}
	n := int64(len(rec.parts))
	f := newFields(rec)
	switch rec.code {
	case "01":
		s.fileScope = scope{line: rec.line, records: n}
		return s.fileHeader(rec, f)
	case "02":
		s.fileScope.records += n
		s.fileScope.items++
		s.group = scope{line: rec.line, records: n}
		return s.groupHeader(rec, f)
	case "03":
		s.fileScope.records += n
		s.group.records += n
		s.group.items++
		s.account = scope{line: rec.line, records: n}
		return s.accountHeader(rec, f)
	case "16":
		s.fileScope.records += n
		s.group.records += n
		s.account.records += n
		return s.detail(rec, f)
	case "49":
		s.fileScope.records += n
		s.group.records += n
		s.account.records += n
		return s.accountTrailer(rec, f)
	case "98":
		s.fileScope.records += n
		s.group.records += n
		return s.groupTrailer(rec, f)
	default: // "99"
		s.fileScope.records += n
		return s.fileTrailer(rec, f)
	}
}

// 01: sender, receiver, creation date, creation time, file ID, physical
// record length, block size, version number.
func (s *state) fileHeader(rec *record, f *fields) error {
	f.skip(2)
	if _, err := parseDay(f.get()); err != nil {
		return s.fail(rec.at(), "file creation date: %v", err)
	}
	if _, err := parseClock(f.get()); err != nil {
		return s.fail(rec.at(), "file creation time: %v", err)
	}
	f.skip(3)
	if v := f.get(); v != "2" {
		return s.fail(rec.at(), "version number %q: this is not a BAI version 2 file", v)
	}
	s.stage = inFile
	return nil
}

// 02: ultimate receiver, originator, group status, as-of date, as-of time,
// currency code, as-of-date modifier.
func (s *state) groupHeader(rec *record, f *fields) error {
	f.skip(2)
	switch status := f.get(); status {
	case "", "1":
		s.groupStatus = ""
	case "2":
		s.groupStatus = "deletion"
	case "3":
		s.groupStatus = "correction"
	case "4":
		s.groupStatus = "test"
	default:
		return s.fail(rec.at(), "group status %q is not 1 (update), 2 (deletion), 3 (correction) or 4 (test only)", status)
	}
	day, err := parseDay(f.get())
	if err != nil {
		return s.fail(rec.at(), "as-of date: %v", err)
	}
	s.asOf = day
	if _, err := parseClock(f.get()); err != nil {
		return s.fail(rec.at(), "as-of time: %v", err)
	}
	cur := f.get()
	if cur == "" {
		cur = s.defaultCurrency
	}
	if _, ok := event.MinorUnits(cur); !ok {
		return s.fail(rec.at(), "currency code %q is not an ISO 4217 code", cur)
	}
	s.groupCur = cur
	switch m := f.get(); m {
	case "", "1", "2", "3", "4":
	default:
		return s.fail(rec.at(), "as-of-date modifier %q is not 1, 2, 3 or 4", m)
	}
	s.stage = inGroup
	return nil
}

// 03: account number, currency code, then repeated (type code, amount,
// item count, funds type with its fields).
func (s *state) accountHeader(rec *record, f *fields) error {
	s.acctNumber = f.get()
	if s.acctNumber == "" {
		return s.fail(rec.at(), "the customer account number is empty")
	}
	cur := f.get()
	if cur == "" {
		cur = s.groupCur
	}
	exp, ok := event.MinorUnits(cur)
	if !ok {
		return s.fail(rec.at(), "currency code %q is not an ISO 4217 code", cur)
	}
	s.acctCur, s.acctExp = cur, exp
	for f.more() {
		code, amount, count := f.get(), f.get(), f.get()
		if _, err := s.fundsType(f); err != nil {
			return s.fail(rec.at(), "%v", err)
		}
		if code == "" && amount == "" && count == "" {
			continue // a defaulted summary
		}
		n, err := parseTypeCode(code)
		if err != nil {
			return s.fail(rec.at(), "%v", err)
		}
		amt, err := parseAmount(amount, isStatus(n))
		if err != nil {
			return s.fail(rec.at(), "amount for type code %s: %v", code, err)
		}
		if count != "" && !isDigits(count) {
			return s.fail(rec.at(), "item count %q for type code %s is not a number", count, code)
		}
		if err := s.addToAccount(rec, amt); err != nil {
			return err
		}
	}
	s.stage = inAccount
	return nil
}

func (s *state) addToAccount(rec *record, amt int64) error {
	sum, ok := settlement.Add(s.account.sum, amt)
	if !ok {
		return s.fail(rec.at(), "the account's amounts overflow")
	}
	s.account.sum = sum
	return nil
}

// 16: type code, amount, funds type with its fields, bank reference,
// customer reference, text (to the end of the record and its 88s).
func (s *state) detail(rec *record, f *fields) error {
	code := f.get()
	n, err := parseTypeCode(code)
	if err != nil {
		return s.fail(rec.at(), "%v", err)
	}
	amt, err := parseAmount(f.get(), false)
	if err != nil {
		return s.fail(rec.at(), "amount: %v", err)
	}
	ft, err := s.fundsType(f)
	if err != nil {
		return s.fail(rec.at(), "%v", err)
	}
	bankRef, custRef := f.get(), f.get()
	text := f.text()
	if err := s.addToAccount(rec, amt); err != nil {
		return err
	}
	if n == nonMonetary {
		return nil // information only: no money moved
	}
	dir, err := detailDirection(n)
	if err != nil {
		return s.fail(rec.at(), "%v", err)
	}
	info, known := detailCodes[n]
	if !known {
		info.typ = settlement.TypeOther
	}
	tx := settlement.Transaction{
		Format: settlement.FormatBAI2, File: s.file, Line: rec.line,
		Account: s.acctNumber, BookingDate: s.asOf, ValueDate: ft.valueDate,
		Amount: settlement.Signed(amt, dir), Currency: s.acctCur, Direction: dir,
		Type: settlement.Hint(info.typ, dir, text), Code: code,
		References:  settlement.References{Bank: bankRef, Customer: custRef},
		Description: settlement.CleanText(text),
	}
	tx.SetAttr("type_name", info.name)
	tx.SetAttr("funds_type", ft.code)
	tx.SetAttr("group_status", s.groupStatus)
	return s.tally.Emit(s.emit, tx)
}

// 49: account control total, number of records. The control total is the
// algebraic sum of every amount field of the account's 03 and 16 records
// (availability amounts of funds types S and D, and item counts, are not
// amount fields); the record count covers 03 to 49, 88 continuations
// included (BAI2 specification, section 3, record 49).
func (s *state) accountTrailer(rec *record, f *fields) error {
	total, records, err := s.trailerFields(rec, f, "account control total", "number of records")
	if err != nil {
		return err
	}
	if total != s.account.sum {
		s.tally.Mismatch(rec.at(), "account %s control total %d but the 03/16 amounts add up to %d", s.acctNumber, total, s.account.sum)
	} else {
		s.tally.Checked()
	}
	if records != s.account.records {
		s.tally.Mismatch(rec.at(), "account %s record count %d but the account has %d records (03 to 49, 88s included)", s.acctNumber, records, s.account.records)
	} else {
		s.tally.Checked()
	}
	sum, ok := settlement.Add(s.group.sum, s.account.sum)
	if !ok {
		return s.fail(rec.at(), "the group's amounts overflow")
	}
	s.group.sum = sum
	s.stage = inGroup
	return nil
}

// 98: group control total (the sum of the group's account control totals,
// compared with what the accounts' amounts add up to, so that a wrong 49 is
// reported once, at the 49), number of accounts, number of records (02 to
// 98).
func (s *state) groupTrailer(rec *record, f *fields) error {
	total, accounts, err := s.trailerFields(rec, f, "group control total", "number of accounts")
	if err != nil {
		return err
	}
	records, err := count(f.get())
	if err != nil {
		return s.fail(rec.at(), "number of records: %v", err)
	}
	s.check(rec, total, s.group.sum, "group control total %d but the group's accounts add up to %d")
	s.check(rec, accounts, s.group.items, "group account count %d but the group has %d accounts")
	s.check(rec, records, s.group.records, "group record count %d but the group has %d records (02 to 98)")
	sum, ok := settlement.Add(s.fileScope.sum, s.group.sum)
	if !ok {
		return s.fail(rec.at(), "the file's amounts overflow")
	}
	s.fileScope.sum = sum
	s.stage = inFile
	return nil
}

// 99: file control total (the sum of the group control totals), number of
// groups, number of records (01 to 99).
func (s *state) fileTrailer(rec *record, f *fields) error {
	total, groups, err := s.trailerFields(rec, f, "file control total", "number of groups")
	if err != nil {
		return err
	}
	records, err := count(f.get())
	if err != nil {
		return s.fail(rec.at(), "number of records: %v", err)
	}
	s.check(rec, total, s.fileScope.sum, "file control total %d but the file's groups add up to %d")
	s.check(rec, groups, s.fileScope.items, "file group count %d but the file has %d groups")
	s.check(rec, records, s.fileScope.records, "file record count %d but the file has %d records (01 to 99)")
	s.stage = afterFile
	return nil
}

func (s *state) check(rec *record, declared, actual int64, format string) {
	if declared != actual {
		s.tally.Mismatch(rec.at(), format, declared, actual)
		return
	}
	s.tally.Checked()
}

// trailerFields reads a trailer's signed control total and first count.
func (s *state) trailerFields(rec *record, f *fields, totalName, countName string) (int64, int64, error) {
	v := f.get()
	if v == "" {
		return 0, 0, s.fail(rec.at(), "the %s is empty", totalName)
	}
	total, err := parseAmount(v, true)
	if err != nil {
		return 0, 0, s.fail(rec.at(), "%s: %v", totalName, err)
	}
	n, err := count(f.get())
	if err != nil {
		return 0, 0, s.fail(rec.at(), "%s: %v", countName, err)
	}
	return total, n, nil
}

// funds is a parsed funds type.
type funds struct {
	code      string
	valueDate settlement.Date
}

// fundsType reads a funds type and the fields it brings: V a value date and
// time, S three availability amounts, D a count and that many (days,
// amount) pairs. 0, 1, 2, Z and a defaulted field bring none.
func (s *state) fundsType(f *fields) (funds, error) {
	code := strings.ToUpper(f.get())
	switch code {
	case "", "0", "1", "2", "Z":
		return funds{code: code}, nil
	case "V":
		day, err := parseDay(f.get())
		if err != nil {
			return funds{}, fmt.Errorf("funds type V value date: %w", err)
		}
		clock, err := parseClock(f.get())
		if err != nil {
			return funds{}, fmt.Errorf("funds type V value time: %w", err)
		}
		fd := funds{code: code, valueDate: day}
		if clock >= 0 && !day.IsZero() {
			fd.valueDate = settlement.LocalDateTime(day.Time().Add(clock))
		}
		return fd, nil
	case "S":
		for _, name := range []string{"immediate", "one-day", "two-or-more-day"} {
			if _, err := parseAmount(f.get(), true); err != nil {
				return funds{}, fmt.Errorf("funds type S %s amount: %w", name, err)
			}
		}
		return funds{code: code}, nil
	case "D":
		v := f.get()
		n, err := count(v)
		if err != nil {
			return funds{}, fmt.Errorf("funds type D number of distributions: %w", err)
		}
		for i := int64(0); i < n; i++ {
			days, ok1 := f.next()
			amount, ok2 := f.next()
			if !ok1 || !ok2 {
				return funds{}, fmt.Errorf("funds type D: %d distributions announced, the record ends after %d", n, i)
			}
			if days == "" || !isDigits(days) {
				return funds{}, fmt.Errorf("funds type D distribution %d of %d: availability days %q is not a number", i+1, n, days)
			}
			if _, err := parseAmount(amount, true); err != nil {
				return funds{}, fmt.Errorf("funds type D distribution %d of %d: amount: %w", i+1, n, err)
			}
		}
		return funds{code: code}, nil
	}
	return funds{}, fmt.Errorf("funds type %q is not one of 0, 1, 2, V, S, D or Z", code)
}

// parseAmount reads a BAI2 amount: digits in the currency's minor units
// (implied decimals), empty meaning zero; signed allows a leading + or -.
func parseAmount(v string, signed bool) (int64, error) {
	if v == "" {
		return 0, nil
	}
	neg := false
	if signed && (v[0] == '+' || v[0] == '-') {
		neg, v = v[0] == '-', v[1:]
	}
	if v == "" || !isDigits(v) {
		return 0, fmt.Errorf("%q is not an amount (digits in minor units, no decimal point)", v)
	}
	n, err := settlement.ParseAmount(v, 0)
	if err != nil {
		return 0, err
	}
	if neg {
		n = -n
	}
	return n, nil
}

// count reads a required record or item count.
func count(v string) (int64, error) {
	if v == "" {
		return 0, errors.New("is empty")
	}
	if !isDigits(v) {
		return 0, fmt.Errorf("%q is not a number", v)
	}
	return settlement.ParseAmount(v, 0)
}

// parseDay reads a YYMMDD date (years 00–69 are 2000–2069, 70–99 are
// 1970–1999); empty is no date.
func parseDay(v string) (settlement.Date, error) {
	if v == "" {
		return settlement.Date{}, errors.New("is empty")
	}
	t, err := time.Parse("060102", v)
	if len(v) != 6 || err != nil {
		return settlement.Date{}, fmt.Errorf("%q is not a YYMMDD date", v)
	}
	return settlement.DayOf(t), nil
}

// parseClock reads an HHMM time (0000–2400; 9999 means end of day) as a
// duration since midnight, or -1 when empty or end of day.
func parseClock(v string) (time.Duration, error) {
	if v == "" || v == "9999" || v == "2400" {
		return -1, nil
	}
	t, err := time.Parse("1504", v)
	if len(v) != 4 || err != nil {
		return 0, fmt.Errorf("%q is not an HHMM time", v)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens a line for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
