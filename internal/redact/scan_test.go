package redact

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func hitStrings(hits []Hit) []string {
	var s []string
	for _, h := range hits {
		s = append(s, h.String())
	}
	return s
}

func TestScanText(t *testing.T) {
	t.Parallel()
	log := strings.Join([]string{
		`2026-11-27T10:15:00Z INFO sale receipt=0001-2026-000123 total=12990`,
		`2026-11-27T10:15:01Z WARN note="card 4111 1111 1111 1111 cvv 123"`,
		`{"level":"info","order_id":625519802133508710,"note":"paid with 5555555555554444","cvv":"999"}`,
		`swipe %B4111111111111111^DOE/JOHN^2812101000000000000000000?`,
		`masked 411111******1111 and •••• 4242 and GTIN 4006381333931`,
	}, "\n")
	hits, err := Scan(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		":2:38: pan (visa) 411111******1111",
		":2:62: cvv ***",
		":3:65: pan (mastercard) 555555******4444",
		":3:90: cvv ***",
		":4:7: track (visa) track data of 411111******1111",
	}
	if got := hitStrings(hits); !slices.Equal(got, want) {
		t.Errorf("hits:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestScanLongLine(t *testing.T) {
	t.Parallel()
	line := strings.Repeat("x", 200<<10) + " 4111111111111111\nnext 5555555555554444"
	hits, err := Scan(strings.NewReader(line))
	if err != nil || len(hits) != 2 || hits[0].Line != 1 || hits[0].Column != 200<<10+2 || hits[1].Line != 2 {
		t.Errorf("hits %+v, %v", hits, err)
	}
}

func TestScanPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("logs/app.log", "ok line\nleaked 6011 1111 1111 1117 here\n")
	write("clean.txt", "nothing to see, order 625519802133508710? no: only in id fields\n"[:14])
	write("image.bin", "\x89PNG\r\n\x1a\n\x00\x00 4111111111111111")

	dbPath := filepath.Join(dir, "data", "edge.db")
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o750); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT, data TEXT, raw BLOB, amount INTEGER, ratio REAL)`,
		`INSERT INTO events VALUES (1, 'e1', '{"id":"e1","data":{"notes":"fine","order_id":"625519802133508710"}}', NULL, 1299, 0.5)`,
		`INSERT INTO events VALUES (2, 'e2', '{"id":"e2","data":{"notes":"card 4012 8888 8888 1881"}}', X'3B343131313131313131313131313131313D32383132313031303030303030303030303030303F', 4111111111111111, 1.5)`,
		`CREATE TABLE "odd ""name""" (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID`,
		`INSERT INTO "odd ""name""" VALUES ('a', 'cvv: 123'), ('b', 'qty 123')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}

	plain, _ := setup(t)
	rep, err := plain.ScanPath(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range rep.Hits {
		got = append(got, strings.TrimPrefix(h.String(), dir+string(filepath.Separator)))
	}
	want := []string{
		"data/edge.db: table events row 2 column data byte 34: pan (visa) 401288******1881",
		"data/edge.db: table events row 2 column raw byte 1: track (visa) track data of 411111******1111",
		"data/edge.db: table events row 2 column amount byte 1: pan (visa) 411111******1111",
		`data/edge.db: table odd "name" row 1 column v byte 6: cvv ***`,
		"logs/app.log:2:8: pan (discover) 601111******1117",
	}
	if !slices.Equal(got, want) {
		t.Errorf("hits:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep.Files != 2 || rep.Databases != 1 || len(rep.Binary) != 1 || !strings.HasSuffix(rep.Binary[0], "image.bin") {
		t.Errorf("report: %d files, %d databases, binary %v", rep.Files, rep.Databases, rep.Binary)
	}
	after, err := os.ReadFile(dbPath)
	if err != nil || string(after) != string(before) {
		t.Errorf("the scan changed the database (%v)", err)
	}
}

func TestScanFileMissing(t *testing.T) {
	t.Parallel()
	plain, _ := setup(t)
	if _, _, err := plain.ScanFile(context.Background(), filepath.Join(t.TempDir(), "nope.db")); err == nil {
		t.Error("no error for a missing file")
	}
}
