package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
)

// The ledger part of an append runs in three steps of queued statements
// (see steps): what the events refer to is read with the events' insert;
// the positions and counts they touch once the refers-to are known; the
// changes are written with the read of the log head.

// queueRefs queues the reads of what events refer to — their orders and
// transfers, void marks, the events they void or return — into l.
func (s *Store) queueRefs(st steps, l *inventory.Ledger, evs []*event.Event) {
	refs := inventory.RefsOf(evs)
	s.queueDocs(st, l, refs.Docs)
	s.queueVoids(st, l, refs.VoidMarks)
	s.queueEvents(st, refs.Targets, func(e *Stored) { l.LoadTarget(e.Event) })
}

// queueTouched queues the reads of the positions applied events touch —
// those the cache does not hold — and of the movements after each stock
// count they carry, into l. It returns what to give the cache if the
// append commits.
func (s *Store) queueTouched(st steps, l *inventory.Ledger, applied []inventory.Applied, before int64) *cacheFill {
	evs := make([]*event.Event, len(applied))
	for i, a := range applied {
		evs[i] = a.Event
	}
	keys, counts := l.Touched(evs)
	base, known := s.positions.use(before, keys)
	fill := &cacheFill{base: base, positions: make(map[inventory.Key]inventory.Position, len(keys))}
	load := func(k inventory.Key, p inventory.Position) {
		l.LoadPosition(k, p)
		fill.positions[k] = p
	}
	missing := keys
	if len(known) > 0 {
		missing = make([]inventory.Key, 0, len(keys)-len(known))
		for _, k := range keys {
			if p, ok := known[k]; ok {
				load(k, p)
			} else {
				missing = append(missing, k)
			}
		}
	}
	s.queuePositions(st, missing, load)
	for _, kt := range counts {
		st.query(s.rebind(`SELECT COALESCE(SUM(delta), 0) FROM moves WHERE sku = ? AND location = ? AND at > ?`),
			[]any{kt.SKU, kt.Location, kt.At.UnixMicro()}, func(r rows) error {
				var sum int64
				for r.Next() {
					if err := r.Scan(&sum); err != nil {
						return fmt.Errorf("store: sum movements of %s@%s: %w", kt.SKU, kt.Location, err)
					}
				}
				l.LoadMovesAfter(kt, event.Qty(sum))
				return nil
			})
	}
	return fill
}

// applyLedger applies events to the ledger l loaded for them and queues
// the writes of the changes, completing fill with the changed positions.
func (s *Store) applyLedger(st steps, l *inventory.Ledger, applied []inventory.Applied, fill *cacheFill) (*inventory.Changes, error) {
	ch, err := l.Apply(applied)
	if err != nil {
		return nil, err
	}
	last := applied[len(applied)-1].Seq
	s.queueChanges(st, ch, last)
	for k, p := range ch.Positions {
		fill.positions[k] = p
	}
	return ch, nil
}

// cacheFill is what an append gives the position cache when it commits.
type cacheFill struct {
	base      int64
	positions map[inventory.Key]inventory.Position
}

// queueIn queues head + " IN (ids)" for SQLite, in chunks, or head +
// " = ANY(ids)" for PostgreSQL, one statement whatever the count.
func (s *Store) queueIn(st steps, head string, ids []string, read func(rows) error) {
	if len(ids) == 0 {
		return
	}
	if s.dialect == Postgres {
		st.query(s.rebind(head+` = ANY(?)`), []any{ids}, read)
		return
	}
	_ = inChunks(ids, func(chunk []string) error {
		st.query(head+` IN (`+marks(len(chunk))+`)`, anys(chunk), read)
		return nil
	})
}

// queueDocs queues the reads of orders and transfers into l (an empty one
// for those not stored yet).
func (s *Store) queueDocs(st steps, l *inventory.Ledger, refs []inventory.DocRef) {
	if len(refs) == 0 {
		return
	}
	want := make(map[inventory.DocRef]*inventory.Doc, len(refs))
	ids := make([]string, 0, len(refs))
	for _, r := range refs {
		want[r] = inventory.NewDoc(r)
		ids = append(ids, r.ID)
	}
	// With the kinds, a closed set of constants, the primary key (kind,
	// doc_id) finds the rows.
	kindIn := `kind IN ('` + string(inventory.DocOrder) + `','` + string(inventory.DocTransfer) + `') AND doc_id`
	s.queueIn(st, `SELECT kind, doc_id, location, channel, cancelled, placed, placed_seq FROM docs WHERE `+kindIn, ids, func(r rows) error {
		for r.Next() {
			var ref inventory.DocRef
			var loc, ch string
			var cancelled, placed int
			var placedSeq int64
			if err := r.Scan(&ref.Kind, &ref.ID, &loc, &ch, &cancelled, &placed, &placedSeq); err != nil {
				return fmt.Errorf("store: load orders and transfers: %w", err)
			}
			if d := want[ref]; d != nil {
				d.Location, d.Channel, d.Cancelled, d.Placed, d.PlacedSeq = loc, ch, cancelled != 0, placed != 0, placedSeq
			}
		}
		return nil
	})
	s.queueIn(st, `SELECT kind, doc_id, sku, ordered, settled FROM doc_lines WHERE `+kindIn, ids, func(r rows) error {
		for r.Next() {
			var ref inventory.DocRef
			var sku string
			var ordered, settled int64
			if err := r.Scan(&ref.Kind, &ref.ID, &sku, &ordered, &settled); err != nil {
				return fmt.Errorf("store: load order and transfer lines: %w", err)
			}
			if d := want[ref]; d != nil {
				d.Lines[sku] = &inventory.DocLine{Ordered: event.Qty(ordered), Settled: event.Qty(settled)}
			}
		}
		return nil
	})
	st.after(func() error {
		for _, d := range want {
			l.LoadDoc(d)
		}
		return nil
	})
}

func (s *Store) queueVoids(st steps, l *inventory.Ledger, ids []string) {
	s.queueIn(st, `SELECT target_id, void_id, at, applied FROM voids WHERE target_id`, ids, func(r rows) error {
		for r.Next() {
			var m inventory.VoidMark
			var at int64
			var applied int
			if err := r.Scan(&m.TargetID, &m.VoidID, &at, &applied); err != nil {
				return fmt.Errorf("store: load voids: %w", err)
			}
			m.At, m.Applied = time.UnixMicro(at).UTC(), applied != 0
			l.LoadVoid(m)
		}
		return nil
	})
}

// loadPositions reads positions by key and calls load for each key asked
// for, with the zero Position for keys not stored yet.
func (s *Store) loadPositions(ctx context.Context, q queryExecer, keys []inventory.Key, load func(inventory.Key, inventory.Position)) error {
	st := newSQLSteps(ctx, q)
	s.queuePositions(st, keys, load)
	return st.flush(ctx)
}

// queuePositions queues the read of positions by key; load is called for
// each key asked for, with the zero Position for keys not stored yet.
func (s *Store) queuePositions(st steps, keys []inventory.Key, load func(inventory.Key, inventory.Position)) {
	if len(keys) == 0 {
		return
	}
	found := make(map[inventory.Key]bool, len(keys))
	read := func(r rows) error {
		for r.Next() {
			k, p, _, err := scanPosition(r)
			if err != nil {
				return fmt.Errorf("store: load positions: %w", err)
			}
			found[k] = true
			load(k, p)
		}
		return nil
	}
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
		st.query(`SELECT `+positionColsOf("p")+` FROM unnest($1::text[], $2::text[]) AS k(sku, location)
			CROSS JOIN LATERAL (SELECT * FROM positions WHERE positions.sku = k.sku AND positions.location = k.location LIMIT 1) p`,
			[]any{skus, locs}, read)
	} else {
		_ = inChunks(keys, func(chunk []inventory.Key) error {
			args := make([]any, 0, 2*len(chunk))
			for _, k := range chunk {
				args = append(args, k.SKU, k.Location)
			}
			st.query(`SELECT `+positionCols+` FROM positions WHERE (sku, location) IN (VALUES `+values(len(chunk), 2)+`)`, args, read)
			return nil
		})
	}
	st.after(func() error {
		for _, k := range keys {
			if !found[k] {
				load(k, inventory.Position{})
			}
		}
		return nil
	})
}

const positionCols = `sku, location, count_qty, count_at, count_event, delta, reserved, in_transit, updated_seq`

// positionColsOf is positionCols qualified by a table alias.
func positionColsOf(alias string) string {
	return alias + "." + strings.ReplaceAll(positionCols, ", ", ", "+alias+".")
}

func scanPosition(rows rows) (inventory.Key, inventory.Position, int64, error) {
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

// queueChanges queues the writes of one Apply's changes.
func (s *Store) queueChanges(st steps, ch *inventory.Changes, seq int64) {
	s.insertRows(st, `INSERT INTO moves (seq, event_id, sku, location, delta, at) VALUES `, "", 6, len(ch.Moves), func(i int, a []any) []any {
		m := ch.Moves[i]
		return append(a, m.Seq, m.EventID, m.SKU, m.Location, int64(m.Delta), m.At.UnixMicro())
	})
	keys := ch.Keys()
	s.insertRows(st, `INSERT INTO positions (`+positionCols+`) VALUES `,
		` ON CONFLICT (sku, location) DO UPDATE SET count_qty = excluded.count_qty, count_at = excluded.count_at,
		count_event = excluded.count_event, delta = excluded.delta, reserved = excluded.reserved,
		in_transit = excluded.in_transit, updated_seq = excluded.updated_seq`, 9, len(keys), func(i int, a []any) []any {
			k := keys[i]
			p := ch.Positions[k]
			return append(a, k.SKU, k.Location, int64(p.CountQty), micros(p.CountAt), p.CountEvent, int64(p.Delta),
				int64(p.Reserved), int64(p.InTransit), seq)
		})
	docs := make([]*inventory.Doc, 0, len(ch.Docs))
	var lines [][]any
	for _, d := range ch.Docs {
		docs = append(docs, d)
		for sku, ln := range d.Lines {
			lines = append(lines, []any{string(d.Kind), d.ID, sku, int64(ln.Ordered), int64(ln.Settled)})
		}
	}
	s.insertRows(st, `INSERT INTO docs (kind, doc_id, location, channel, cancelled, placed, placed_seq) VALUES `,
		` ON CONFLICT (kind, doc_id) DO UPDATE SET location = excluded.location, channel = excluded.channel,
		cancelled = excluded.cancelled, placed = excluded.placed, placed_seq = excluded.placed_seq`, 7, len(docs), func(i int, a []any) []any {
			d := docs[i]
			return append(a, string(d.Kind), d.ID, d.Location, d.Channel, boolInt(d.Cancelled), boolInt(d.Placed), d.PlacedSeq)
		})
	s.insertRows(st, `INSERT INTO doc_lines (kind, doc_id, sku, ordered, settled) VALUES `,
		` ON CONFLICT (kind, doc_id, sku) DO UPDATE SET ordered = excluded.ordered, settled = excluded.settled`, 5, len(lines),
		func(i int, a []any) []any { return append(a, lines[i]...) })
	voids := make([]inventory.VoidMark, 0, len(ch.Voids))
	for _, m := range ch.Voids {
		voids = append(voids, m)
	}
	s.insertRows(st, `INSERT INTO voids (target_id, void_id, at, applied) VALUES `,
		` ON CONFLICT (target_id) DO UPDATE SET void_id = excluded.void_id, at = excluded.at, applied = excluded.applied`, 4, len(voids), func(i int, a []any) []any {
			m := voids[i]
			return append(a, m.TargetID, m.VoidID, m.At.UnixMicro(), boolInt(m.Applied))
		})
	s.insertRows(st, `INSERT INTO oversells (seq, event_id, kind, sku, location, order_id, requested, on_hand, reserved, at) VALUES `,
		"", 10, len(ch.Oversells), func(i int, a []any) []any {
			o := ch.Oversells[i]
			return append(a, seq, o.EventID, string(o.Kind), o.SKU, o.Location, o.OrderID, int64(o.Requested),
				int64(o.OnHand), int64(o.Reserved), o.At.UnixMicro())
		})
}

// insertRows queues a multi-row INSERT in chunks; row appends row i's
// values.
func (s *Store) insertRows(st steps, head, tail string, cols, n int, row func(i int, args []any) []any) {
	for start, end := 0, 0; start < n; start = end {
		end = chunkEnd(start, n)
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		st.exec(s.rebind(head+values(end-start, cols)+tail), args...)
	}
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
