package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
)

// applyLedger loads the part of the ledger the events touch, applies them
// and writes the changes, inside the append transaction.
func (s *Store) applyLedger(ctx context.Context, tx querier, w writer, applied []inventory.Applied) (*inventory.Changes, error) {
	if len(applied) == 0 {
		return &inventory.Changes{}, nil
	}
	evs := make([]*event.Event, len(applied))
	for i, a := range applied {
		evs[i] = a.Event
	}
	l, err := s.loadLedger(ctx, tx, evs)
	if err != nil {
		return nil, err
	}
	ch, err := l.Apply(applied)
	if err != nil {
		return nil, err
	}
	if err := s.writeChanges(ctx, w, ch, applied[len(applied)-1].Seq); err != nil {
		return nil, err
	}
	return ch, nil
}

func (s *Store) loadLedger(ctx context.Context, q querier, evs []*event.Event) (*inventory.Ledger, error) {
	l := inventory.NewPartial()
	refs := inventory.RefsOf(evs)
	if err := s.loadDocs(ctx, q, l, refs.Docs); err != nil {
		return nil, err
	}
	if err := s.loadVoids(ctx, q, l, refs.VoidMarks); err != nil {
		return nil, err
	}
	targets, err := s.eventsByID(ctx, q, refs.Targets)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		l.LoadTarget(t.Event)
	}
	keys, counts := l.Touched(evs)
	if err := s.loadPositions(ctx, q, keys, l.LoadPosition); err != nil {
		return nil, err
	}
	for _, kt := range counts {
		var sum int64
		err := q.QueryRowContext(ctx, s.rebind(`SELECT COALESCE(SUM(delta), 0) FROM moves WHERE sku = ? AND location = ? AND at > ?`),
			kt.SKU, kt.Location, kt.At.UnixMicro()).Scan(&sum)
		if err != nil {
			return nil, fmt.Errorf("store: sum movements of %s@%s: %w", kt.SKU, kt.Location, err)
		}
		l.LoadMovesAfter(kt, event.Qty(sum))
	}
	return l, nil
}

func (s *Store) loadDocs(ctx context.Context, q querier, l *inventory.Ledger, refs []inventory.DocRef) error {
	if len(refs) == 0 {
		return nil
	}
	want := make(map[inventory.DocRef]*inventory.Doc, len(refs))
	ids := make([]string, 0, len(refs))
	for _, r := range refs {
		want[r] = inventory.NewDoc(r)
		ids = append(ids, r.ID)
	}
	err := inChunks(ids, func(chunk []string) error {
		rows, err := q.QueryContext(ctx, s.rebind(`SELECT kind, doc_id, location, channel, cancelled, placed, placed_seq FROM docs WHERE doc_id IN (`+marks(len(chunk))+`)`), anys(chunk)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r inventory.DocRef
			var loc, ch string
			var cancelled, placed int
			var placedSeq int64
			if err := rows.Scan(&r.Kind, &r.ID, &loc, &ch, &cancelled, &placed, &placedSeq); err != nil {
				return err
			}
			if d := want[r]; d != nil {
				d.Location, d.Channel, d.Cancelled, d.Placed, d.PlacedSeq = loc, ch, cancelled != 0, placed != 0, placedSeq
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows2, err := q.QueryContext(ctx, s.rebind(`SELECT kind, doc_id, sku, ordered, settled FROM doc_lines WHERE doc_id IN (`+marks(len(chunk))+`)`), anys(chunk)...)
		if err != nil {
			return err
		}
		defer rows2.Close()
		for rows2.Next() {
			var r inventory.DocRef
			var sku string
			var ordered, settled int64
			if err := rows2.Scan(&r.Kind, &r.ID, &sku, &ordered, &settled); err != nil {
				return err
			}
			if d := want[r]; d != nil {
				d.Lines[sku] = &inventory.DocLine{Ordered: event.Qty(ordered), Settled: event.Qty(settled)}
			}
		}
		return rows2.Err()
	})
	if err != nil {
		return fmt.Errorf("store: load orders and transfers: %w", err)
	}
	for _, d := range want {
		l.LoadDoc(d)
	}
	return nil
}

func (s *Store) loadVoids(ctx context.Context, q querier, l *inventory.Ledger, ids []string) error {
	err := inChunks(ids, func(chunk []string) error {
		rows, err := q.QueryContext(ctx, s.rebind(`SELECT target_id, void_id, at, applied FROM voids WHERE target_id IN (`+marks(len(chunk))+`)`), anys(chunk)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m inventory.VoidMark
			var at int64
			var applied int
			if err := rows.Scan(&m.TargetID, &m.VoidID, &at, &applied); err != nil {
				return err
			}
			m.At, m.Applied = time.UnixMicro(at).UTC(), applied != 0
			l.LoadVoid(m)
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("store: load voids: %w", err)
	}
	return nil
}

// loadPositions reads positions by key and calls load for each key asked
// for, with the zero Position for keys not stored yet.
func (s *Store) loadPositions(ctx context.Context, q querier, keys []inventory.Key, load func(inventory.Key, inventory.Position)) error {
	found := make(map[inventory.Key]bool, len(keys))
	read := func(rows *sql.Rows, err error) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, p, _, err := scanPosition(rows)
			if err != nil {
				return err
			}
			found[k] = true
			load(k, p)
		}
		return rows.Err()
	}
	var err error
	if s.dialect == Postgres {
		// One probe of the primary key per key. Given (sku, location) IN
		// (VALUES …), PostgreSQL estimates the match badly and hashes a
		// scan of the whole table — milliseconds per append at a few
		// thousand positions, a stall at millions. LIMIT 1 keeps the
		// subquery from being flattened into such a join.
		skus, locs := make([]string, len(keys)), make([]string, len(keys))
		for i, k := range keys {
			skus[i], locs[i] = k.SKU, k.Location
		}
		err = read(q.QueryContext(ctx, `SELECT `+positionColsOf("p")+` FROM unnest($1::text[], $2::text[]) AS k(sku, location)
			CROSS JOIN LATERAL (SELECT * FROM positions WHERE positions.sku = k.sku AND positions.location = k.location LIMIT 1) p`, skus, locs))
	} else {
		err = inChunks(keys, func(chunk []inventory.Key) error {
			args := make([]any, 0, 2*len(chunk))
			for _, k := range chunk {
				args = append(args, k.SKU, k.Location)
			}
			return read(q.QueryContext(ctx, `SELECT `+positionCols+` FROM positions WHERE (sku, location) IN (VALUES `+values(len(chunk), 2)+`)`, args...))
		})
	}
	if err != nil {
		return fmt.Errorf("store: load positions: %w", err)
	}
	for _, k := range keys {
		if !found[k] {
			load(k, inventory.Position{})
		}
	}
	return nil
}

const positionCols = `sku, location, count_qty, count_at, count_event, delta, reserved, in_transit, updated_seq`

// positionColsOf is positionCols qualified by a table alias.
func positionColsOf(alias string) string {
	return alias + "." + strings.ReplaceAll(positionCols, ", ", ", "+alias+".")
}

func scanPosition(rows *sql.Rows) (inventory.Key, inventory.Position, int64, error) {
	var k inventory.Key
	var p inventory.Position
	var countQty, countAt, delta, reserved, inTransit, seq int64
	if err := rows.Scan(&k.SKU, &k.Location, &countQty, &countAt, &p.CountEvent, &delta, &reserved, &inTransit, &seq); err != nil {
		return k, p, 0, err
	}
	p.CountQty, p.Delta, p.Reserved, p.InTransit = event.Qty(countQty), event.Qty(delta), event.Qty(reserved), event.Qty(inTransit)
	if countAt != 0 {
		p.CountAt = time.UnixMicro(countAt).UTC()
	}
	return k, p, seq, nil
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeChanges persists one Apply's changes.
func (s *Store) writeChanges(ctx context.Context, w writer, ch *inventory.Changes, seq int64) error {
	if err := s.insertRows(ctx, w, `INSERT INTO moves (seq, event_id, sku, location, delta, at) VALUES `, "", 6, len(ch.Moves), func(i int, a []any) []any {
		m := ch.Moves[i]
		return append(a, m.Seq, m.EventID, m.SKU, m.Location, int64(m.Delta), m.At.UnixMicro())
	}); err != nil {
		return fmt.Errorf("store: write movements: %w", err)
	}
	keys := ch.Keys()
	if err := s.insertRows(ctx, w, `INSERT INTO positions (`+positionCols+`) VALUES `,
		` ON CONFLICT (sku, location) DO UPDATE SET count_qty = excluded.count_qty, count_at = excluded.count_at,
		count_event = excluded.count_event, delta = excluded.delta, reserved = excluded.reserved,
		in_transit = excluded.in_transit, updated_seq = excluded.updated_seq`, 9, len(keys), func(i int, a []any) []any {
			k := keys[i]
			p := ch.Positions[k]
			return append(a, k.SKU, k.Location, int64(p.CountQty), micros(p.CountAt), p.CountEvent, int64(p.Delta),
				int64(p.Reserved), int64(p.InTransit), seq)
		}); err != nil {
		return fmt.Errorf("store: write positions: %w", err)
	}
	docs := make([]*inventory.Doc, 0, len(ch.Docs))
	var lines [][]any
	for _, d := range ch.Docs {
		docs = append(docs, d)
		for sku, ln := range d.Lines {
			lines = append(lines, []any{string(d.Kind), d.ID, sku, int64(ln.Ordered), int64(ln.Settled)})
		}
	}
	if err := s.insertRows(ctx, w, `INSERT INTO docs (kind, doc_id, location, channel, cancelled, placed, placed_seq) VALUES `,
		` ON CONFLICT (kind, doc_id) DO UPDATE SET location = excluded.location, channel = excluded.channel,
		cancelled = excluded.cancelled, placed = excluded.placed, placed_seq = excluded.placed_seq`, 7, len(docs), func(i int, a []any) []any {
			d := docs[i]
			return append(a, string(d.Kind), d.ID, d.Location, d.Channel, boolInt(d.Cancelled), boolInt(d.Placed), d.PlacedSeq)
		}); err != nil {
		return fmt.Errorf("store: write orders and transfers: %w", err)
	}
	if err := s.insertRows(ctx, w, `INSERT INTO doc_lines (kind, doc_id, sku, ordered, settled) VALUES `,
		` ON CONFLICT (kind, doc_id, sku) DO UPDATE SET ordered = excluded.ordered, settled = excluded.settled`, 5, len(lines),
		func(i int, a []any) []any { return append(a, lines[i]...) }); err != nil {
		return fmt.Errorf("store: write order and transfer lines: %w", err)
	}
	voids := make([]inventory.VoidMark, 0, len(ch.Voids))
	for _, m := range ch.Voids {
		voids = append(voids, m)
	}
	if err := s.insertRows(ctx, w, `INSERT INTO voids (target_id, void_id, at, applied) VALUES `,
		` ON CONFLICT (target_id) DO UPDATE SET void_id = excluded.void_id, at = excluded.at, applied = excluded.applied`, 4, len(voids), func(i int, a []any) []any {
			m := voids[i]
			return append(a, m.TargetID, m.VoidID, m.At.UnixMicro(), boolInt(m.Applied))
		}); err != nil {
		return fmt.Errorf("store: write voids: %w", err)
	}
	if err := s.insertRows(ctx, w, `INSERT INTO oversells (seq, event_id, kind, sku, location, order_id, requested, on_hand, reserved, at) VALUES `,
		"", 10, len(ch.Oversells), func(i int, a []any) []any {
			o := ch.Oversells[i]
			return append(a, seq, o.EventID, string(o.Kind), o.SKU, o.Location, o.OrderID, int64(o.Requested),
				int64(o.OnHand), int64(o.Reserved), o.At.UnixMicro())
		}); err != nil {
		return fmt.Errorf("store: write oversells: %w", err)
	}
	if err := w.flush(ctx); err != nil {
		return fmt.Errorf("store: write ledger changes: %w", err)
	}
	return nil
}

// insertRows runs a multi-row INSERT in chunks; row appends row i's values.
func (s *Store) insertRows(ctx context.Context, w writer, head, tail string, cols, n int, row func(i int, args []any) []any) error {
	for start, end := 0, 0; start < n; start = end {
		end = chunkEnd(start, n)
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		if err := w.exec(ctx, s.rebind(head+values(end-start, cols)+tail), args...); err != nil {
			return err
		}
	}
	return nil
}

// PlacedSeqs returns, for orders and transfers, the log sequence of the
// event that placed each (absent: not placed yet).
func (s *Store) PlacedSeqs(ctx context.Context, refs []inventory.DocRef) (map[inventory.DocRef]int64, error) {
	out := map[inventory.DocRef]int64{}
	ids := make([]string, 0, len(refs))
	want := map[inventory.DocRef]bool{}
	for _, r := range refs {
		ids = append(ids, r.ID)
		want[r] = true
	}
	err := inChunks(ids, func(chunk []string) error {
		rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT kind, doc_id, placed_seq FROM docs WHERE placed = 1 AND doc_id IN (`+marks(len(chunk))+`)`), anys(chunk)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r inventory.DocRef
			var seq int64
			if err := rows.Scan(&r.Kind, &r.ID, &seq); err != nil {
				return err
			}
			if want[r] {
				out[r] = seq
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: read where documents were placed: %w", err)
	}
	return out, nil
}
