package csv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var received = time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)

// memLog is a Submitter that keeps events once by ID, like the hub's log.
type memLog struct {
	mu     sync.Mutex
	events map[string]*event.Event
	order  []string
	calls  int
	fail   error
}

func newMemLog() *memLog { return &memLog{events: map[string]*event.Event{}} }

func (l *memLog) Submit(_ context.Context, evs []*event.Event) ([]intake.Outcome, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.fail != nil {
		return nil, l.fail
	}
	outs := make([]intake.Outcome, len(evs))
	for i, e := range evs {
		if old, ok := l.events[e.ID]; ok {
			if old.Fingerprint() == e.Fingerprint() {
				outs[i].Status = intake.StatusDuplicate
			} else {
				outs[i] = intake.Outcome{Status: intake.StatusRejected, Err: &intake.Error{Code: intake.CodeIDConflict, Message: "the ID is already used by a different event"}}
			}
			continue
		}
		l.events[e.ID] = e
		l.order = append(l.order, e.ID)
		outs[i] = intake.Outcome{Status: intake.StatusAccepted, Seq: int64(len(l.order))}
	}
	return outs, nil
}

func (l *memLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.order)
}

func (l *memLog) all() []*event.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*event.Event, len(l.order))
	for i, id := range l.order {
		out[i] = l.events[id]
	}
	return out
}

// englishMapping reads testdata/sales_comma.csv and bad.csv.
func englishMapping() Mapping {
	return Mapping{
		Columns: Columns{Receipt: "receipt", Timestamp: "timestamp", Location: "store", SKU: "sku", Description: "description",
			Quantity: "qty", UnitPrice: "price", Tender: "tender", Type: "type"},
		Zone: "Europe/Berlin", Currency: "EUR",
	}
}

// germanMapping reads testdata/kasse_semikolon.csv: BOM, CRLF, ';',
// decimal commas, dd.mm.yyyy times, returns as negative quantities.
func germanMapping() Mapping {
	return Mapping{
		Columns: Columns{Receipt: "Beleg", Timestamp: "Datum", Location: "Filiale", SKU: "Artikel", Description: "Bezeichnung",
			Quantity: "Menge", UnitPrice: "Preis", Tender: "Zahlart"},
		DecimalComma: true, NegativeIsReturn: true, Zone: "Europe/Berlin", Currency: "EUR",
		Tenders: map[string]event.TenderKind{"bar": event.TenderCash, "EC": event.TenderCard},
	}
}

type bundle struct {
	w   *Watcher
	log *memLog
}

// setup returns a watcher over fresh folders, with files from testdata
// copied into its drop folder.
func setup(t *testing.T, m Mapping, files ...string) *bundle {
	t.Helper()
	root := t.TempDir()
	b := &bundle{log: newMemLog()}
	b.w = &Watcher{Dir: filepath.Join(root, "in"), Done: filepath.Join(root, "done"), Failed: filepath.Join(root, "failed"),
		Mapping: m, Submit: b.log, Now: func() time.Time { return received }, Interval: 5 * time.Millisecond}
	if err := os.MkdirAll(b.w.Dir, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		drop(t, b.w.Dir, f, filepath.Base(f))
	}
	return b
}

func drop(t *testing.T, dir, src, name string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil { //nolint:gosec // G703: test paths under t.TempDir
		t.Fatal(err)
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o600); err != nil { //nolint:gosec // G703: golden file under testdata
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed; got:\n%s\nwant:\n%s", path, got, want)
	}
}

func eventsJSON(t *testing.T, evs []*event.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, e := range evs {
		b, err := json.MarshalIndent(e, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteString("\n")
	}
	return buf.Bytes()
}

// Good files import whole and move to done; their events are kept as
// golden files.
func TestIngestGood(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		file    string
		mapping Mapping
		events  int
	}{
		{"sales_comma.csv", englishMapping(), 6},
		{"kasse_semikolon.csv", germanMapping(), 3},
	} {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.mapping, filepath.Join("testdata", tt.file))
			res, err := b.w.Ingest(context.Background(), filepath.Join(b.w.Dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Problems) > 0 || res.Events != tt.events || res.Accepted != tt.events {
				t.Fatalf("result %+v", res)
			}
			if _, err := os.Stat(filepath.Join(b.w.Done, tt.file)); err != nil {
				t.Errorf("not in done: %v", err)
			}
			if _, err := os.Stat(filepath.Join(b.w.Dir, tt.file)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("still in the drop folder: %v", err)
			}
			checkGolden(t, strings.TrimSuffix(tt.file, ".csv")+".golden", eventsJSON(t, b.log.all()))
		})
	}
}

// A bad file is refused whole: nothing is submitted, and the error file
// names the file, line and column of every problem.
func TestIngestBad(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"bad.csv", "valid_after_parse.csv"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			b := setup(t, englishMapping(), filepath.Join("testdata", file))
			res, err := b.w.Ingest(context.Background(), filepath.Join(b.w.Dir, file))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Problems) == 0 {
				t.Fatal("no problems")
			}
			if b.log.calls != 0 || b.log.count() != 0 {
				t.Errorf("%d submits, %d events stored from a bad file", b.log.calls, b.log.count())
			}
			if _, err := os.Stat(filepath.Join(b.w.Failed, file)); err != nil {
				t.Errorf("not in failed: %v", err)
			}
			report, err := os.ReadFile(filepath.Join(b.w.Failed, file+".error.txt"))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, file+".error.txt", report)
		})
	}
}

func TestBadFileProblems(t *testing.T) {
	t.Parallel()
	m, err := englishMapping().compile()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/bad.csv")
	if err != nil {
		t.Fatal(err)
	}
	p := parse("bad.csv", data, m, received, nil)
	want := []struct {
		line, col int
		text      string
	}{
		{2, 6, "two"}, {3, 7, "decimal_comma"}, {4, 8, "cheque"}, {5, 2, "27/11/2026"}, {6, 4, "SKU is empty"},
		{7, 7, "more decimals"}, {8, 9, "swap"}, {9, 6, "greater than zero"}, {10, 0, "as many fields"},
	}
	if len(p.Problems) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(p.Problems), len(want), p.Problems)
	}
	for i, w := range want {
		got := p.Problems[i]
		if got.File != "bad.csv" || got.Line != w.line || got.Column != w.col || !strings.Contains(got.Message, w.text) {
			t.Errorf("problem %d: %s; want line %d column %d with %q", i, got, w.line, w.col, w.text)
		}
	}
	if len(p.Events) != 0 {
		t.Errorf("%d events from a bad file", len(p.Events))
	}
}

// Dropping the same file again, under any name, adds nothing: its event
// IDs come from its content.
func TestReDropAddsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, englishMapping(), "testdata/sales_comma.csv")
	ctx := context.Background()
	first, err := b.w.Ingest(ctx, filepath.Join(b.w.Dir, "sales_comma.csv"))
	if err != nil || first.Accepted != 6 {
		t.Fatalf("%+v %v", first, err)
	}
	for _, name := range []string{"sales_comma.csv", "copy of sales.csv"} {
		drop(t, b.w.Dir, "testdata/sales_comma.csv", name)
		res, err := b.w.Ingest(ctx, filepath.Join(b.w.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 0 || res.Duplicates != 6 || len(res.Problems) != 0 {
			t.Errorf("%s again: %+v", name, res)
		}
	}
	if n := b.log.count(); n != 6 {
		t.Errorf("%d events stored, want 6", n)
	}
	// Both copies are kept in done, under distinct names.
	for _, name := range []string{"sales_comma.csv", "sales_comma.csv.1", "copy of sales.csv"} {
		if _, err := os.Stat(filepath.Join(b.w.Done, name)); err != nil {
			t.Errorf("done/%s: %v", name, err)
		}
	}
}

// With an ID column, a re-export with more rows adds only the new
// documents.
func TestIDColumn(t *testing.T) {
	t.Parallel()
	m := englishMapping()
	m.Columns.ID, m.Columns.Receipt = "receipt", ""
	m.IDPrefix = "csv:berlin-till:"
	b := setup(t, m)
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(b.w.Dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	head := "receipt,timestamp,store,sku,description,qty,price,tender,type\n"
	r1 := "R-1,2026-11-27 10:15:00,berlin,MUG-BLUE,Mug,2,12.00,card,sale\nR-1,2026-11-27 10:15:00,berlin,TOTE,Tote,1,9.00,card,sale\n"
	r2 := "R-2,2026-11-27 10:16:00,berlin,TOTE,Tote,1,9.00,cash,sale\n"
	write("monday.csv", head+r1)
	write("monday-again.csv", head+r1+r2)
	ctx := context.Background()
	a, err := b.w.Ingest(ctx, filepath.Join(b.w.Dir, "monday.csv"))
	if err != nil || a.Accepted != 1 {
		t.Fatalf("%+v %v", a, err)
	}
	c, err := b.w.Ingest(ctx, filepath.Join(b.w.Dir, "monday-again.csv"))
	if err != nil || c.Accepted != 1 || c.Duplicates != 1 {
		t.Fatalf("%+v %v", c, err)
	}
	evs := b.log.all()
	if evs[0].ID != "csv:berlin-till:R-1" || len(evs[0].Body.(*event.Sale).Lines) != 2 {
		t.Errorf("first event %s %+v", evs[0].ID, evs[0].Body)
	}
}

// A commit that fails leaves the file where it is; the next scan imports
// it.
func TestSubmitFailureKeepsFile(t *testing.T) {
	t.Parallel()
	b := setup(t, englishMapping(), "testdata/sales_comma.csv")
	b.log.fail = intake.ErrOverloaded
	path := filepath.Join(b.w.Dir, "sales_comma.csv")
	if _, err := b.w.Ingest(context.Background(), path); !errors.Is(err, intake.ErrOverloaded) {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("file gone after a failed commit: %v", err)
	}
	b.log.fail = nil
	if res, err := b.w.Ingest(context.Background(), path); err != nil || res.Accepted != 6 {
		t.Fatalf("%+v %v", res, err)
	}
}

// An ID reused for a different fact is refused by the log; the file goes
// to failed and the report says what was stored.
func TestIDConflict(t *testing.T) {
	t.Parallel()
	m := englishMapping()
	m.Columns.ID, m.Columns.Receipt = "receipt", ""
	b := setup(t, m)
	head := "receipt,timestamp,store,sku,description,qty,price,tender,type\n"
	for i, body := range []string{
		head + "R-1,2026-11-27 10:15:00,berlin,MUG-BLUE,Mug,2,12.00,card,sale\n",
		head + "R-1,2026-11-27 10:15:00,berlin,MUG-BLUE,Mug,3,12.00,card,sale\nR-2,2026-11-27 10:16:00,berlin,TOTE,Tote,1,9.00,cash,sale\n",
	} {
		name := []string{"a.csv", "b.csv"}[i]
		if err := os.WriteFile(filepath.Join(b.w.Dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := b.w.Ingest(context.Background(), filepath.Join(b.w.Dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	report, err := os.ReadFile(filepath.Join(b.w.Failed, "b.csv.error.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(report), "b.csv:2: event csv:R-1") || !strings.Contains(string(report), "1 event(s) stored, 1 refused") {
		t.Errorf("report:\n%s", report)
	}
}

// Run imports a file once it has stopped changing, and moves refused ones
// aside; other files in the folder are left alone.
func TestRun(t *testing.T) {
	t.Parallel()
	b := setup(t, englishMapping())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.w.Run(ctx) }()
	drop(t, b.w.Dir, "testdata/sales_comma.csv", "sales.csv")
	drop(t, b.w.Dir, "testdata/bad.csv", "bad.CSV")
	drop(t, b.w.Dir, "testdata/sales_comma.csv", ".partial.csv")
	drop(t, b.w.Dir, "testdata/sales_comma.csv", "notes.txt")
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, e1 := os.Stat(filepath.Join(b.w.Done, "sales.csv"))
		_, e2 := os.Stat(filepath.Join(b.w.Failed, "bad.CSV.error.txt"))
		if e1 == nil && e2 == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not imported in time: %v, %v", e1, e2)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".partial.csv", "notes.txt"} {
		if _, err := os.Stat(filepath.Join(b.w.Dir, name)); err != nil {
			t.Errorf("%s was touched: %v", name, err)
		}
	}
	if n := b.log.count(); n != 6 {
		t.Errorf("%d events, want 6", n)
	}
}

func TestNormalizeDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		comma bool
		want  string
		ok    bool
	}{
		{"12.50", false, "12.50", true},
		{"1,234.50", false, "1234.50", true},
		{"12,50", false, "", false},
		{"12,50", true, "12.50", true},
		{"1.234,50", true, "1234.50", true},
		{"1.23,4", true, "", false},
		{"-0,312", true, "-0.312", true},
		{"+3", false, "+3", true},
		{"", false, "", false},
		{"1e3", false, "", false},
		{".5", false, ".5", true},
		{"12.", false, "", false},
		{"1.2.3", false, "", false},
	}
	for _, tt := range tests {
		got, err := normalizeDecimal(tt.in, tt.comma)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("normalizeDecimal(%q, %v) = %q, %v; want %q ok=%v", tt.in, tt.comma, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseMoney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		exp  int
		want event.Amount
		ok   bool
	}{
		{"12.99", 2, 1299, true},
		{"12.9", 2, 1290, true},
		{"12", 2, 1200, true},
		{"12.990", 2, 1299, true},
		{"12.999", 2, 0, false},
		{"500", 0, 500, true},
		{"500.00", 0, 500, true},
		{"1.5", 0, 0, false},
		{"1.234", 3, 1234, true},
		{"-3.50", 2, -350, true},
		{"92233720368547758.08", 2, 0, false},
	}
	for _, tt := range tests {
		got, err := parseMoney(tt.in, tt.exp, false)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseMoney(%q, %d) = %d, %v; want %d ok=%v", tt.in, tt.exp, got, err, tt.want, tt.ok)
		}
	}
}

func TestMappingValidate(t *testing.T) {
	t.Parallel()
	_, err := Mapping{Zone: "Nowhere", Comma: ':', Types: map[string]event.Type{"x": event.TypeVoid}}.compile()
	if err == nil {
		t.Fatal("no error")
	}
	for _, field := range []string{"zone", "comma", "types.x", "columns", "timestamp", "location", "currency"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
	w := &Watcher{Dir: "/tmp/x", Done: "/tmp/x", Failed: "/tmp/y", Mapping: englishMapping()}
	if err := w.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "Submitter") || !strings.Contains(err.Error(), "other folders") {
		t.Errorf("watcher config: %v", err)
	}
}

func TestDetectComma(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]rune{
		"a,b,c\n1;2":       ',',
		"a;b;c\r\n1,5;2;3": ';',
		"\"a;b\",c\n":      ',',
		"a\tb\tc":          '\t',
		"single":           ',',
	} {
		if got := detectComma([]byte(in)); got != want {
			t.Errorf("detectComma(%q) = %q, want %q", in, got, want)
		}
	}
}

// "ANSI" exports are read with encoding: windows-1252; without it, bytes
// that are not UTF-8 are a problem on the line they are on.
func TestEncoding(t *testing.T) {
	t.Parallel()
	data := []byte("Beleg;Datum;Artikel;Bezeichnung;Menge;Preis\r\n1;27.11.2026 09:05;KAESE;K\xe4se \x80-Angebot;1;2,50\r\n")
	m := germanMapping()
	m.Columns.Location, m.Columns.Tender, m.Location = "", "", "berlin"
	m.Encoding = "windows-1252"
	c, err := m.compile()
	if err != nil {
		t.Fatal(err)
	}
	p := parse("ansi.csv", data, c, received, nil)
	if len(p.Problems) > 0 || len(p.Events) != 1 {
		t.Fatalf("%v", p.Problems)
	}
	if d := p.Events[0].Body.(*event.Sale).Lines[0].Description; d != "Käse €-Angebot" {
		t.Errorf("description %q", d)
	}
	m.Encoding = ""
	if c, err = m.compile(); err != nil {
		t.Fatal(err)
	}
	p = parse("ansi.csv", data, c, received, nil)
	if len(p.Problems) != 1 || p.Problems[0].Line != 2 || !strings.Contains(p.Problems[0].Message, "windows-1252") {
		t.Errorf("problems %v", p.Problems)
	}
}
