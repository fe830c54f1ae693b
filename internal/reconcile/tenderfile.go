package reconcile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/settlement"
)

// TenderColumns is the header of a tenders CSV file, the export `tillsync
// reconcile --tenders` reads besides JSON lines of sale and return events.
// Amounts are in major units of the currency ("42.50"); at is RFC 3339 UTC.
var TenderColumns = []string{"event", "tender", "location", "zone", "processor", "at", "currency", "amount", "tip", "reference", "card_last4", "auth_code"}

// TenderWriter writes a tenders CSV file.
type TenderWriter struct {
	w   *bufio.Writer
	buf []byte
}

// NewTenderWriter writes the header to w.
func NewTenderWriter(w io.Writer) (*TenderWriter, error) {
	tw := &TenderWriter{w: bufio.NewWriterSize(w, 256<<10)}
	_, err := tw.w.WriteString(strings.Join(TenderColumns, ",") + "\n")
	return tw, err
}

// Write writes one tender.
func (tw *TenderWriter) Write(t *Tender) error {
	exp, ok := event.MinorUnits(t.Currency)
	if !ok {
		return fmt.Errorf("tender %s: %q is not an ISO 4217 currency code", t.Key(), t.Currency)
	}
	b := tw.buf[:0]
	for k, v := range []string{t.Event, strconv.Itoa(t.Index), t.Location, t.Zone, t.Processor, t.At.UTC().Format(time.RFC3339),
		t.Currency, settlement.FormatMinor(int64(t.Amount), exp), settlement.FormatMinor(int64(t.Tip), exp), t.Reference, t.Last4, t.AuthCode} {
		if k > 0 {
			b = append(b, ',')
		}
		if strings.ContainsAny(v, ",\"\r\n") {
			b = append(b, '"')
			b = append(b, strings.ReplaceAll(v, `"`, `""`)...)
			b = append(b, '"')
			continue
		}
		b = append(b, v...)
	}
	b = append(b, '\n')
	tw.buf = b
	_, err := tw.w.Write(b)
	return err
}

// Flush writes what is buffered.
func (tw *TenderWriter) Flush() error { return tw.w.Flush() }

// ReadTenders reads a tenders file: the CSV of TenderColumns, or JSON lines
// of canonical events (the hub's log export), whose card tenders it takes.
// It calls emit for each tender; an error names the file and line.
func ReadTenders(r io.Reader, file string, emit func(Tender) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	head, _ := br.Peek(1)
	if len(head) == 1 && head[0] == '{' {
		return readEventLines(br, file, emit)
	}
	return readTenderCSV(br, file, emit)
}

func readEventLines(br *bufio.Reader, file string, emit func(Tender) error) error {
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var e event.Event
		if err := json.Unmarshal(b, &e); err != nil {
			return fmt.Errorf("%s line %d: not a tillsync event: %w", file, n, err)
		}
		for _, t := range TendersFromEvent(&e) {
			if err := emit(t); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s line %d: %w", file, n+1, err)
	}
	return nil
}

// interner shares the strings that repeat (stores, zones, processors,
// currencies, card last fours) so a large file holds each once. Each column
// remembers its last value, which a file sorted by store mostly repeats.
type interner struct {
	m    map[string]string
	last [16]string
}

func (in *interner) get(col int, b []byte) string {
	if l := in.last[col]; l == string(b) {
		return l
	}
	s, ok := in.m[string(b)]
	if !ok {
		s = string(b)
		if len(in.m) < 1<<16 {
			in.m[s] = s
		}
	}
	in.last[col] = s
	return s
}

// parseMinor reads "1234.50" in a currency of exp decimals without
// allocating; anything else goes to settlement.ParseAmount, which also
// words the errors.
func parseMinor(b []byte, exp int) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	d := b
	if neg {
		d = d[1:]
	}
	var n int64
	frac := -1
	for _, c := range d {
		switch {
		case c >= '0' && c <= '9' && n < 1e15:
			n = n*10 + int64(c-'0')
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0:
			frac = 0
		default:
			return settlement.ParseAmount(string(b), exp)
		}
	}
	if len(d) == 0 || frac == 0 || frac > exp {
		return settlement.ParseAmount(string(b), exp)
	}
	if frac < 0 {
		frac = 0
	}
	for ; frac < exp; frac++ {
		n *= 10
	}
	if neg {
		n = -n
	}
	return n, nil
}

// readTenderCSV reads the CSV form. Lines without quotes are split in
// place, without allocating the line; quoted lines go through encoding/csv.
func readTenderCSV(br *bufio.Reader, file string, emit func(Tender) error) error {
	fail := func(line int, col, format string, args ...any) error {
		where := fmt.Sprintf("%s line %d", file, line)
		if col != "" {
			where += " column " + col
		}
		return fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
	}
	hdr, err := br.ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || hdr == "") {
		return fail(1, "", "no header line; a tenders file starts with %s", strings.Join(TenderColumns, ","))
	}
	names := strings.Split(strings.TrimRight(strings.TrimPrefix(hdr, "\ufeff"), "\r\n"), ",")
	col := make([]int, len(TenderColumns))
	for k, want := range TenderColumns {
		col[k] = -1
		for i, n := range names {
			if strings.EqualFold(strings.TrimSpace(n), want) {
				col[k] = i
			}
		}
		if col[k] < 0 && k != 4 && k != 8 && k != 9 && k != 10 && k != 11 && k != 3 {
			return fail(1, want, "the header has no %s column (columns: %s)", want, strings.Join(TenderColumns, ","))
		}
	}
	in := &interner{m: map[string]string{}}
	var own []byte
	fields := make([][]byte, 0, len(names))
	get := func(k int) []byte {
		if c := col[k]; c >= 0 && c < len(fields) {
			return fields[c]
		}
		return nil
	}
	for n := 2; ; n++ {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return fail(n, "", "line longer than %d bytes", br.Size())
		}
		if len(raw) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: %w", file, err)
		}
		line := bytes.TrimRight(raw, "\r\n")
		if len(line) == 0 {
			continue
		}
		fields = fields[:0]
		if bytes.IndexByte(line, '"') >= 0 {
			cr := csv.NewReader(bytes.NewReader(line))
			rec, cerr := cr.Read()
			if cerr != nil {
				return fail(n, "", "%v", cerr)
			}
			for _, f := range rec {
				fields = append(fields, []byte(f))
			}
		} else {
			for {
				i := bytes.IndexByte(line, ',')
				if i < 0 {
					fields = append(fields, line)
					break
				}
				fields = append(fields, line[:i])
				line = line[i+1:]
			}
		}
		// The tender's own strings share one allocation.
		ev, ref, auth := get(0), get(9), get(11)
		own = append(append(append(own[:0], ev...), ref...), auth...)
		str := string(own)
		t := Tender{
			Event: str[:len(ev)], Location: in.get(2, get(2)), Zone: in.get(3, get(3)), Processor: in.get(4, get(4)),
			Currency: in.get(6, get(6)), Reference: str[len(ev) : len(ev)+len(ref)], Last4: in.get(10, get(10)), AuthCode: str[len(ev)+len(ref):],
		}
		if t.Event == "" {
			return fail(n, "event", "is empty")
		}
		idx, perr := strconv.Atoi(string(get(1)))
		if perr != nil || idx < 0 {
			return fail(n, "tender", "%q is not a tender index (0, 1, …)", get(1))
		}
		t.Index = idx
		if t.At, perr = time.Parse(time.RFC3339, string(get(5))); perr != nil {
			return fail(n, "at", "%q is not an RFC 3339 time (2026-03-02T14:05:00Z)", get(5))
		}
		t.At = t.At.UTC()
		exp, ok := event.MinorUnits(t.Currency)
		if !ok {
			return fail(n, "currency", "%q is not an ISO 4217 currency code", t.Currency)
		}
		a, perr := parseMinor(get(7), exp)
		if perr != nil {
			return fail(n, "amount", "%v", perr)
		}
		t.Amount = event.Amount(a)
		if v := get(8); len(v) > 0 {
			tip, perr := parseMinor(v, exp)
			if perr != nil {
				return fail(n, "tip", "%v", perr)
			}
			t.Tip = event.Amount(tip)
		}
		if eerr := emit(t); eerr != nil {
			return eerr
		}
		if errors.Is(err, io.EOF) {
			return nil // the last line had no newline
		}
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
}

// ReadSettlement parses a settlement file with p and calls add for each
// line (a batch booking gives its children and itself).
func ReadSettlement(p settlement.Parser, r io.Reader, add func(Line) error) (settlement.Summary, error) {
	// Lines of one payout come together, and most share a currency: share
	// those strings, so a large file holds each once (and comparing them
	// while matching does not read memory).
	var batch, cur string
	return p.Parse(r, func(tx settlement.Transaction) error {
		if len(tx.Children) == 0 {
			l := LineFromTransaction(&tx)
			if l.Refs.Batch == batch {
				l.Refs.Batch = batch
			} else {
				batch = l.Refs.Batch
			}
			if l.Currency == cur {
				l.Currency = cur
			} else {
				cur = l.Currency
			}
			return add(l)
		}
		for _, l := range LinesFromTransaction(&tx) {
			if err := add(l); err != nil {
				return err
			}
		}
		return nil
	})
}
