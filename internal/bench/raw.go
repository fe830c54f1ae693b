package bench

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tillsync/tillsync/internal/store"
)

// The raw loops write what the hub's Append writes for the generated event
// kinds — the log rows, one movement per line, and the upsert of every
// position a batch touched — with everything else taken away: no HTTP, no
// JSON, no reads (positions are kept in memory), prepared statements. They
// are the floor of pure database work the hub is compared with.

// rawRows is one transaction's worth of rows.
type rawRows struct {
	events    []rawEvent
	moves     []rawMove
	positions []rawPosition
}

type rawEvent struct {
	id, typ, loc               string
	occurred, received, stored int64
	fingerprint, body          string
}

type rawMove struct {
	seq       int64
	eventID   string
	sku, loc  string
	delta, at int64
}

type rawPosition struct {
	sku, loc   string
	delta, seq int64
}

// rawWriter writes one batch in one durable transaction.
type rawWriter interface {
	write(ctx context.Context, rows *rawRows) error
	count(ctx context.Context) (int64, error)
	close() error
}

// rawChunk is how many rows go in one multi-row INSERT, as in the store.
const rawChunk = 400

const (
	eventsHead    = `INSERT INTO events (id, type, location, source, occurred_at, zone, received_at, stored_at, store_seq, fingerprint, body) VALUES `
	eventsTail    = ` ON CONFLICT (id) DO NOTHING`
	movesHead     = `INSERT INTO moves (seq, event_id, sku, location, delta, at) VALUES `
	positionsHead = `INSERT INTO positions (sku, location, count_qty, count_at, count_event, delta, reserved, in_transit, updated_seq) VALUES `
	positionsTail = ` ON CONFLICT (sku, location) DO UPDATE SET count_qty = excluded.count_qty, count_at = excluded.count_at,
		count_event = excluded.count_event, delta = excluded.delta, reserved = excluded.reserved,
		in_transit = excluded.in_transit, updated_seq = excluded.updated_seq`
)

// statement is one multi-row INSERT of a batch with its arguments.
type statement struct {
	sql  string
	args []any
}

// statements turns rows into multi-row INSERTs of at most rawChunk rows.
// dollar selects PostgreSQL's $n placeholders.
func (r *rawRows) statements(dollar bool, sqls *sqlCache) []statement {
	var out []statement
	for start := 0; start < len(r.events); start += rawChunk {
		chunk := r.events[start:min(start+rawChunk, len(r.events))]
		args := make([]any, 0, len(chunk)*11)
		for _, e := range chunk {
			args = append(args, e.id, e.typ, e.loc, "pos", e.occurred, zone, e.received, e.stored, int64(0), e.fingerprint, e.body)
		}
		out = append(out, statement{sqls.get(eventsHead, eventsTail, len(chunk), 11, dollar), args})
	}
	for start := 0; start < len(r.moves); start += rawChunk {
		chunk := r.moves[start:min(start+rawChunk, len(r.moves))]
		args := make([]any, 0, len(chunk)*6)
		for _, m := range chunk {
			args = append(args, m.seq, m.eventID, m.sku, m.loc, m.delta, m.at)
		}
		out = append(out, statement{sqls.get(movesHead, "", len(chunk), 6, dollar), args})
	}
	for start := 0; start < len(r.positions); start += rawChunk {
		chunk := r.positions[start:min(start+rawChunk, len(r.positions))]
		args := make([]any, 0, len(chunk)*9)
		for _, p := range chunk {
			args = append(args, p.sku, p.loc, int64(0), int64(0), "", p.delta, int64(0), int64(0), p.seq)
		}
		out = append(out, statement{sqls.get(positionsHead, positionsTail, len(chunk), 9, dollar), args})
	}
	return out
}

// sqlCache keeps built statement texts by shape.
type sqlCache map[string]string

func (c *sqlCache) get(head, tail string, rows, cols int, dollar bool) string {
	key := head + strconv.Itoa(rows) + strconv.FormatBool(dollar)
	if q, ok := (*c)[key]; ok {
		return q
	}
	var b strings.Builder
	b.WriteString(head)
	n := 0
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			n++
			if dollar {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	b.WriteString(tail)
	if *c == nil {
		*c = sqlCache{}
	}
	(*c)[key] = b.String()
	return b.String()
}

// sqliteRaw writes with the hub's own SQLite settings (WAL,
// synchronous=FULL, one writer, immediate transactions) and schema.
type sqliteRaw struct {
	db    *sql.DB
	sqls  sqlCache
	stmts map[string]*sql.Stmt
}

func openSQLiteRaw(ctx context.Context, path string) (*sqliteRaw, error) {
	st, err := store.Open(ctx, "sqlite:"+path) // the schema
	if err != nil {
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	w, r, err := store.OpenSQLite(path)
	if err != nil {
		return nil, err
	}
	_ = r.Close()
	return &sqliteRaw{db: w, stmts: map[string]*sql.Stmt{}}, nil
}

func (w *sqliteRaw) write(ctx context.Context, rows *rawRows) error {
	stmts := rows.statements(false, &w.sqls)
	// Prepare new shapes before the transaction holds the one connection.
	for _, s := range stmts {
		if w.stmts[s.sql] == nil {
			stmt, err := w.db.PrepareContext(ctx, s.sql) //nolint:sqlclosecheck // kept for reuse; close closes it
			if err != nil {
				return fmt.Errorf("bench: raw SQLite prepare: %w", err)
			}
			w.stmts[s.sql] = stmt
		}
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("bench: raw SQLite begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, s := range stmts {
		// The transaction's copy of a statement closes with the transaction.
		if _, err := tx.StmtContext(ctx, w.stmts[s.sql]).ExecContext(ctx, s.args...); err != nil { //nolint:sqlclosecheck // see above
			return fmt.Errorf("bench: raw SQLite insert: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("bench: raw SQLite commit: %w", err)
	}
	return nil
}

func (w *sqliteRaw) count(ctx context.Context) (int64, error) {
	var n int64
	err := w.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n)
	return n, err
}

func (w *sqliteRaw) close() error {
	for _, s := range w.stmts {
		_ = s.Close()
	}
	return w.db.Close()
}

// pgRaw writes each batch as one pgx.Batch of multi-row INSERTs in one
// transaction, over a native pgx connection (statements are prepared and
// cached by pgx).
type pgRaw struct {
	conn *pgx.Conn
	sqls sqlCache
}

func openPostgresRaw(ctx context.Context, dsn string) (*pgRaw, error) {
	st, err := store.Open(ctx, dsn) // the schema
	if err != nil {
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("bench: raw PostgreSQL connect: %w", err)
	}
	return &pgRaw{conn: conn}, nil
}

func (w *pgRaw) write(ctx context.Context, rows *rawRows) error {
	tx, err := w.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("bench: raw PostgreSQL begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var b pgx.Batch
	for _, s := range rows.statements(true, &w.sqls) {
		b.Queue(s.sql, s.args...)
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("bench: raw PostgreSQL insert: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("bench: raw PostgreSQL commit: %w", err)
	}
	return nil
}

func (w *pgRaw) count(ctx context.Context) (int64, error) {
	var n int64
	err := w.conn.QueryRow(ctx, `SELECT COUNT(*) FROM events`).Scan(&n)
	return n, err
}

func (w *pgRaw) close() error { return w.conn.Close(context.Background()) }

// rawReplay feeds a raw writer the same kind of workload the hub took: the
// catalog seeded first (not timed), then total generated events in
// transactions of batch events, timing only the transactions.
type rawReplay struct {
	cat      *catalog
	w        rawWriter
	seq      int64
	pos      map[[2]string]int64
	streams  []*stream
	requestN int // events per client request: a batch is made of such runs, by location
	// next is each stream's next event number, then the rotation.
	next []int64
}

func newRawReplay(cat *catalog, w rawWriter, requestN int, at time.Time) (*rawReplay, error) {
	r := &rawReplay{cat: cat, w: w, pos: map[[2]string]int64{}, requestN: requestN}
	for i, loc := range cat.locations {
		s, err := newStream(newGenerator(cat, uint64(1000+i)), (*generator).next, "raw-"+loc+"-", loc, 1024, at, true)
		if err != nil {
			return nil, err
		}
		r.streams = append(r.streams, s)
	}
	r.next = make([]int64, len(r.streams)+1)
	return r, nil
}

// seed writes the catalog's stocking receipts.
func (r *rawReplay) seed(ctx context.Context, at time.Time) (int64, error) {
	var n int64
	for _, loc := range r.cat.locations {
		evs := r.cat.seed("seed", loc, at)
		rows := &rawRows{}
		touched := map[[2]string]bool{}
		for _, e := range evs {
			e.ReceivedAt = at
			b, err := e.MarshalJSON()
			if err != nil {
				return 0, err
			}
			fp := e.Fingerprint()
			r.seq++
			rows.events = append(rows.events, rawEvent{id: e.ID, typ: string(e.Type), loc: loc, occurred: at.UnixMicro(),
				received: at.UnixMicro(), stored: at.UnixMicro(), fingerprint: hex.EncodeToString(fp[:]), body: string(b)})
			for _, d := range lineDeltas(e) {
				k := [2]string{d.sku, loc}
				r.pos[k] += d.delta
				touched[k] = true
				rows.moves = append(rows.moves, rawMove{seq: r.seq, eventID: e.ID, sku: d.sku, loc: loc, delta: d.delta, at: at.UnixMicro()})
			}
		}
		for k := range touched {
			rows.positions = append(rows.positions, rawPosition{sku: k[0], loc: k[1], delta: r.pos[k], seq: r.seq})
		}
		if err := r.w.write(ctx, rows); err != nil {
			return 0, err
		}
		n += int64(len(evs))
	}
	return n, nil
}

// build makes the rows of the next batch of n events.
func (r *rawReplay) build(n int, stored time.Time) *rawRows {
	next := r.next
	rows := &rawRows{}
	touched := map[[2]string]bool{}
	for i := 0; i < n; {
		si := int(next[len(next)-1]) % len(r.streams) // rotate locations per request-sized run
		next[len(next)-1]++
		s := r.streams[si]
		for j := 0; j < r.requestN && i < n; j, i = j+1, i+1 {
			k := next[si]
			next[si]++
			t := s.template(k)
			r.seq++
			e := t.ev
			at := e.OccurredAt.UnixMicro()
			id := s.id(k)
			rows.events = append(rows.events, rawEvent{id: id, typ: string(e.Type), loc: s.loc, occurred: at,
				received: e.ReceivedAt.UnixMicro(), stored: stored.UnixMicro(), fingerprint: t.fp, body: string(s.appendEvent(nil, k))})
			for _, d := range lineDeltas(e) {
				key := [2]string{d.sku, s.loc}
				r.pos[key] += d.delta
				touched[key] = true
				rows.moves = append(rows.moves, rawMove{seq: r.seq, eventID: id, sku: d.sku, loc: s.loc, delta: d.delta, at: at})
			}
		}
	}
	for k := range touched {
		rows.positions = append(rows.positions, rawPosition{sku: k[0], loc: k[1], delta: r.pos[k], seq: r.seq})
	}
	return rows
}

// run writes total events in transactions of batch events and returns the
// time spent in transactions.
func (r *rawReplay) run(ctx context.Context, total int64, batch int) (time.Duration, error) {
	var took time.Duration
	for done := int64(0); done < total; {
		if err := ctx.Err(); err != nil {
			return took, err
		}
		n := int(min(int64(batch), total-done))
		rows := r.build(n, time.Now())
		start := time.Now()
		if err := r.w.write(ctx, rows); err != nil {
			return took, err
		}
		took += time.Since(start)
		done += int64(n)
	}
	return took, nil
}
