package redact

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver for ScanFile
)

// Hit is card data found by a scan, located but never shown in full.
type Hit struct {
	// File is the file scanned (ScanFile, ScanPath).
	File string
	// Line and Column (1-based; the column counts bytes) locate a hit in
	// text. In a database cell, Line is 0 and Column is the byte offset in
	// the cell plus one.
	Line, Column int
	// Table, Row (the rowid, or the row's position for tables without one)
	// and Field locate a hit in a SQLite database.
	Table string
	Row   int64
	Field string
	Kind  Kind
	// Brand is the card network of a PAN or track, when known.
	Brand string
	// Masked shows what was found the way Req. 3.4.1 allows: the BIN and
	// last four digits of a PAN ("411111******1111"), asterisks for a
	// CVV or PIN.
	Masked string
}

// String formats a hit for people: "app.log:12:7: pan (visa)
// 411111******1111", "edge.db: table events row 3 column data: cvv ***".
func (h Hit) String() string {
	var b strings.Builder
	b.WriteString(h.File)
	if h.Table != "" {
		fmt.Fprintf(&b, ": table %s row %d column %s", h.Table, h.Row, h.Field)
		if h.Column > 0 {
			fmt.Fprintf(&b, " byte %d", h.Column)
		}
	} else {
		fmt.Fprintf(&b, ":%d:%d", h.Line, h.Column)
	}
	b.WriteString(": ")
	b.WriteString(h.Kind.String())
	if h.Brand != "" {
		fmt.Fprintf(&b, " (%s)", h.Brand)
	}
	b.WriteByte(' ')
	b.WriteString(h.Masked)
	return b.String()
}

func newHit(sp span, found []byte) Hit {
	h := Hit{Kind: sp.kind, Brand: sp.brand.String()}
	d := appendDigits(nil, found)
	switch sp.kind {
	case PAN:
		if len(d) >= 12 {
			h.Masked = string(maskPAN(nil, d, false))
		} else {
			h.Masked = strings.Repeat("*", len(d))
		}
	case Track:
		h.Masked = "track data"
		if i := bytes.IndexAny(found, "^=Dd"); i >= 13 {
			if p := appendDigits(nil, found[:i]); len(p) >= 12 && len(p) <= 19 {
				h.Masked += " of " + string(maskPAN(nil, p, false))
			}
		}
	default:
		h.Masked = strings.Repeat("*", len(d))
	}
	return h
}

// Scan reads text (a log, an export) line by line with the card-data rules
// of the default Redactor and reports PANs and sensitive authentication
// data with line and column. Lines that are JSON objects are walked as JSON,
// so their field names count as context.
func Scan(r io.Reader) ([]Hit, error) { return backstop.Scan(r) }

// Scan reads text line by line and reports the card data in it; see the
// package-level Scan. Personal data is not reported.
func (r *Redactor) Scan(rd io.Reader) ([]Hit, error) {
	var hits []Hit
	br := bufio.NewReaderSize(rd, 64<<10)
	var long []byte
	for line := 1; ; line++ {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], b...)
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = br.ReadSlice('\n')
				long = append(long, b...)
			}
			b = long
		}
		if len(b) > 0 {
			hits = r.scanChunk(hits, b, func(h *Hit) { h.Line = line })
		}
		if errors.Is(err, io.EOF) {
			return hits, nil
		}
		if err != nil {
			return hits, fmt.Errorf("scan: read: %w", err)
		}
	}
}

// scanChunk appends the hits in one line or cell; at fills in their place.
// Column is set from the byte offset.
func (r *Redactor) scanChunk(hits []Hit, b []byte, at func(*Hit)) []Hit {
	add := func(off int, sp span, found []byte) {
		h := newHit(sp, found)
		h.Column = off + 1
		at(&h)
		hits = append(hits, h)
	}
	if looksJSON(b) {
		w := walker{r: r, in: b}
		w.collect = func(off int, sp span, found []byte) { add(off, sp, found) }
		n := len(hits)
		err := w.document()
		w.release()
		if err == nil {
			return hits
		}
		hits = hits[:n] // not JSON after all: scan it as text
	}
	bp := getSpans()
	inspect(r, b, 0, false, bp)
	for _, sp := range *bp {
		add(sp.start, sp, b[sp.start:sp.end])
	}
	putSpans(bp)
	return hits
}

// sqliteHeader starts every SQLite 3 database file.
const sqliteHeader = "SQLite format 3\x00"

// FileKind is what ScanFile made of a file.
type FileKind uint8

// What ScanFile made of a file.
const (
	FileText     FileKind = iota + 1 // scanned line by line
	FileDatabase                     // a SQLite database: every cell of every table scanned
	FileBinary                       // neither: skipped
)

// ScanFile scans one file: a SQLite database (recognised by its header) is
// opened read-only and every TEXT, BLOB and INTEGER cell of every table is
// scanned; other files are scanned as text unless they look binary (a NUL
// byte in the first 8 KiB), which are skipped.
func (r *Redactor) ScanFile(ctx context.Context, path string) ([]Hit, FileKind, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("scan: %w", err)
	}
	defer f.Close() //nolint:errcheck // read-only
	head := make([]byte, 8<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, 0, fmt.Errorf("scan %s: %w", path, err)
	}
	head = head[:n]
	if bytes.HasPrefix(head, []byte(sqliteHeader)) {
		hits, err := r.scanSQLite(ctx, path)
		return hits, FileDatabase, err
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return nil, FileBinary, nil
	}
	hits, err := r.Scan(io.MultiReader(bytes.NewReader(head), f))
	for i := range hits {
		hits[i].File = path
	}
	if err != nil {
		return hits, FileText, fmt.Errorf("scan %s: %w", path, err)
	}
	return hits, FileText, nil
}

func (r *Redactor) scanSQLite(ctx context.Context, path string) ([]Hit, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", path, err)
	}
	// mode=ro: SQLite opens the file read-only; query_only refuses writes
	// on the connection as well.
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("scan %s: open database: %w", path, err)
	}
	defer db.Close() //nolint:errcheck // read-only
	db.SetMaxOpenConns(1)
	tables, err := sqliteTables(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", path, err)
	}
	var hits []Hit
	for _, t := range tables {
		if hits, err = r.scanTable(ctx, db, t, hits); err != nil {
			return hits, fmt.Errorf("scan %s: table %s: %w", path, t, err)
		}
	}
	for i := range hits {
		hits[i].File = path
	}
	return hits, nil
}

func sqliteTables(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return names, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (r *Redactor) scanTable(ctx context.Context, db *sql.DB, table string, hits []Hit) ([]Hit, error) {
	withRowid := true
	rows, err := db.QueryContext(ctx, "SELECT rowid, * FROM "+quoteIdent(table))
	if err != nil {
		// WITHOUT ROWID tables (and views of them) have no rowid.
		withRowid = false
		if rows, err = db.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table)); err != nil {
			return hits, err
		}
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return hits, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	first := 0
	if withRowid {
		first = 1
	}
	var cell []byte
	for n := int64(1); rows.Next(); n++ {
		if err := rows.Scan(ptrs...); err != nil {
			return hits, err
		}
		row := n
		if withRowid {
			if id, ok := vals[0].(int64); ok {
				row = id
			}
		}
		for c := first; c < len(cols); c++ {
			switch v := vals[c].(type) {
			case string:
				cell = append(cell[:0], v...)
			case []byte:
				cell = append(cell[:0], v...)
			case int64:
				cell = strconv.AppendInt(cell[:0], v, 10)
			default:
				continue // NULL, REAL, times
			}
			col := cols[c]
			hits = r.scanChunk(hits, cell, func(h *Hit) {
				h.Table, h.Row, h.Field = table, row, col
			})
		}
	}
	return hits, rows.Err()
}

// ScanReport is what ScanPath found.
type ScanReport struct {
	Hits      []Hit
	Files     int      // text files scanned
	Databases int      // SQLite databases scanned
	Binary    []string // files skipped as binary
}

// ScanPath scans a file, or every regular file under a directory (symbolic
// links are not followed), with ScanFile.
func (r *Redactor) ScanPath(ctx context.Context, root string) (ScanReport, error) {
	var rep ScanReport
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		hits, kind, err := r.ScanFile(ctx, path)
		if err != nil {
			return err
		}
		rep.Hits = append(rep.Hits, hits...)
		switch kind {
		case FileText:
			rep.Files++
		case FileDatabase:
			rep.Databases++
		case FileBinary:
			rep.Binary = append(rep.Binary, path)
		}
		return nil
	})
	return rep, err
}
