package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

const defaultConnectTimeout = 10 * time.Second

// migrations are applied in order, each once, recorded in schema_migrations.
// Never edit one that has shipped: add a new one. {{SEQ}} is the log
// sequence column, the one type the two engines spell differently. Times are
// integer microseconds since the Unix epoch, UTC; quantities are thousandths
// of a unit; money is integer minor units.
var migrations = []string{
	`CREATE TABLE events (
		seq         {{SEQ}},
		id          TEXT NOT NULL UNIQUE,
		type        TEXT NOT NULL,
		location    TEXT NOT NULL,
		source      TEXT NOT NULL,
		occurred_at BIGINT NOT NULL,
		zone        TEXT NOT NULL,
		received_at BIGINT NOT NULL,
		stored_at   BIGINT NOT NULL,
		store_seq   BIGINT NOT NULL,
		fingerprint TEXT NOT NULL,
		body        TEXT NOT NULL
	);
	CREATE INDEX events_location_store_seq ON events (location, store_seq);
	CREATE TABLE positions (
		sku         TEXT NOT NULL,
		location    TEXT NOT NULL,
		count_qty   BIGINT NOT NULL,
		count_at    BIGINT NOT NULL,
		count_event TEXT NOT NULL,
		delta       BIGINT NOT NULL,
		reserved    BIGINT NOT NULL,
		in_transit  BIGINT NOT NULL,
		updated_seq BIGINT NOT NULL,
		PRIMARY KEY (sku, location)
	);
	CREATE INDEX positions_location ON positions (location, sku);
	CREATE INDEX positions_updated_seq ON positions (updated_seq);
	CREATE TABLE moves (
		seq      BIGINT NOT NULL,
		event_id TEXT NOT NULL,
		sku      TEXT NOT NULL,
		location TEXT NOT NULL,
		delta    BIGINT NOT NULL,
		at       BIGINT NOT NULL
	);
	CREATE INDEX moves_key_at ON moves (sku, location, at);
	CREATE TABLE docs (
		kind      TEXT NOT NULL,
		doc_id    TEXT NOT NULL,
		location  TEXT NOT NULL,
		channel   TEXT NOT NULL,
		cancelled INTEGER NOT NULL,
		placed    INTEGER NOT NULL,
		PRIMARY KEY (kind, doc_id)
	);
	CREATE TABLE doc_lines (
		kind    TEXT NOT NULL,
		doc_id  TEXT NOT NULL,
		sku     TEXT NOT NULL,
		ordered BIGINT NOT NULL,
		settled BIGINT NOT NULL,
		PRIMARY KEY (kind, doc_id, sku)
	);
	CREATE TABLE voids (
		target_id TEXT PRIMARY KEY,
		void_id   TEXT NOT NULL,
		at        BIGINT NOT NULL,
		applied   INTEGER NOT NULL
	);
	CREATE TABLE oversells (
		seq       BIGINT NOT NULL,
		event_id  TEXT NOT NULL,
		kind      TEXT NOT NULL,
		sku       TEXT NOT NULL,
		location  TEXT NOT NULL,
		order_id  TEXT NOT NULL,
		requested BIGINT NOT NULL,
		on_hand   BIGINT NOT NULL,
		reserved  BIGINT NOT NULL,
		at        BIGINT NOT NULL
	);
	CREATE INDEX oversells_seq ON oversells (seq);
	CREATE TABLE store_health (
		location            TEXT PRIMARY KEY,
		last_contact        BIGINT NOT NULL,
		events_received     BIGINT NOT NULL,
		backlog             BIGINT NOT NULL,
		oldest_unsynced_at  BIGINT NOT NULL,
		edge_id             TEXT NOT NULL
	);
	CREATE TABLE cursors (
		name       TEXT PRIMARY KEY,
		seq        BIGINT NOT NULL,
		updated_at BIGINT NOT NULL
	);`,
	// 2: ERP destinations — dead letters, pause and replay requests,
	// delivered documents, and what each summary carried.
	`CREATE TABLE dead_letters (
		destination     TEXT NOT NULL,
		external_id     TEXT NOT NULL,
		thread          TEXT NOT NULL,
		seq             BIGINT NOT NULL,
		kind            TEXT NOT NULL,
		attempts        INTEGER NOT NULL,
		class           TEXT NOT NULL,
		error           TEXT NOT NULL,
		first_failed_at BIGINT NOT NULL,
		last_failed_at  BIGINT NOT NULL,
		state           TEXT NOT NULL,
		document        TEXT NOT NULL,
		PRIMARY KEY (destination, external_id)
	);
	CREATE INDEX dead_letters_state ON dead_letters (destination, state, seq);
	CREATE TABLE destination_state (
		name        TEXT PRIMARY KEY,
		paused      INTEGER NOT NULL,
		replay_from BIGINT NOT NULL,
		updated_at  BIGINT NOT NULL
	);
	CREATE TABLE deliveries (
		destination  TEXT NOT NULL,
		external_id  TEXT NOT NULL,
		kind         TEXT NOT NULL,
		seq          BIGINT NOT NULL,
		events       INTEGER NOT NULL,
		delivered_at BIGINT NOT NULL,
		PRIMARY KEY (destination, external_id)
	);
	CREATE TABLE summary_items (
		destination TEXT NOT NULL,
		summary_id  TEXT NOT NULL,
		event_id    TEXT NOT NULL,
		PRIMARY KEY (destination, summary_id, event_id)
	);
	CREATE INDEX summary_items_event ON summary_items (destination, event_id);
	CREATE TABLE summary_parts (
		destination TEXT NOT NULL,
		period_key  TEXT NOT NULL,
		parts       INTEGER NOT NULL,
		PRIMARY KEY (destination, period_key)
	);`,
	// 3: where each order and transfer was placed in the log, so an ERP
	// destination can hold a fulfilment or transfer receipt until the
	// document it settles has been posted.
	`ALTER TABLE docs ADD COLUMN placed_seq BIGINT NOT NULL DEFAULT 0`,
	// 4: the audit trail: append-only (nothing updates it; only the
	// retention job deletes what is older than the retention).
	`CREATE TABLE audit_log (
		id     {{SEQ}},
		at     BIGINT NOT NULL,
		actor  TEXT NOT NULL,
		role   TEXT NOT NULL,
		action TEXT NOT NULL,
		target TEXT NOT NULL,
		remote TEXT NOT NULL,
		result TEXT NOT NULL,
		status INTEGER NOT NULL
	);
	CREATE INDEX audit_log_at ON audit_log (at)`,
	// 5: the exceptions inbox: one row per problem (unique dedup key) and
	// an append-only trail of what happened to each; indexes for every
	// list filter with keyset paging on id. dead_letters_parked lets the
	// inbox find newly parked dead letters without a full scan.
	`CREATE TABLE inbox_exceptions (
		id          {{SEQ}},
		dedup_key   TEXT NOT NULL UNIQUE,
		kind        TEXT NOT NULL,
		severity    TEXT NOT NULL,
		state       TEXT NOT NULL,
		location    TEXT NOT NULL,
		zone        TEXT NOT NULL,
		subject     TEXT NOT NULL,
		title       TEXT NOT NULL,
		evidence    TEXT NOT NULL,
		suggestions TEXT NOT NULL,
		actions     TEXT NOT NULL,
		assignee    TEXT NOT NULL,
		occurrences BIGINT NOT NULL,
		observation TEXT NOT NULL,
		first_seen  BIGINT NOT NULL,
		last_seen   BIGINT NOT NULL,
		updated_at  BIGINT NOT NULL,
		resolved_at BIGINT NOT NULL
	);
	CREATE INDEX inbox_exceptions_state ON inbox_exceptions (state, id);
	CREATE INDEX inbox_exceptions_kind ON inbox_exceptions (kind, state, id);
	CREATE INDEX inbox_exceptions_severity ON inbox_exceptions (severity, state, id);
	CREATE INDEX inbox_exceptions_location ON inbox_exceptions (location, state, id);
	CREATE INDEX inbox_exceptions_assignee ON inbox_exceptions (assignee, state, id);
	CREATE TABLE inbox_audit (
		id           {{SEQ}},
		exception_id BIGINT NOT NULL,
		at           BIGINT NOT NULL,
		actor        TEXT NOT NULL,
		action       TEXT NOT NULL,
		from_state   TEXT NOT NULL,
		to_state     TEXT NOT NULL,
		note         TEXT NOT NULL,
		detail       TEXT NOT NULL
	);
	CREATE INDEX inbox_audit_exception ON inbox_audit (exception_id, id);
	CREATE INDEX dead_letters_parked ON dead_letters (state, last_failed_at)`,
	// 6: SKU quarantine: events with a code neither the catalog nor a
	// mapping resolves wait here (the original JSON and fingerprint, so a
	// retry is a duplicate) until a rule or catalog change releases them
	// into the log; mapping_repairs records each automatic repair with its
	// evidence.
	`CREATE TABLE quarantine (
		id             TEXT PRIMARY KEY,
		location       TEXT NOT NULL,
		source         TEXT NOT NULL,
		type           TEXT NOT NULL,
		occurred_at    BIGINT NOT NULL,
		fingerprint    TEXT NOT NULL,
		body           TEXT NOT NULL,
		codes          TEXT NOT NULL,
		state          TEXT NOT NULL,
		quarantined_at BIGINT NOT NULL,
		released_at    BIGINT NOT NULL,
		seq            BIGINT NOT NULL,
		note           TEXT NOT NULL
	);
	CREATE INDEX quarantine_state ON quarantine (state, quarantined_at);
	CREATE TABLE mapping_repairs (
		event_id   TEXT NOT NULL,
		line       INTEGER NOT NULL,
		source     TEXT NOT NULL,
		code       TEXT NOT NULL,
		sku        TEXT NOT NULL,
		confidence DOUBLE PRECISION NOT NULL,
		evidence   TEXT NOT NULL,
		detail     TEXT NOT NULL,
		who        TEXT NOT NULL,
		at         BIGINT NOT NULL,
		PRIMARY KEY (event_id, line)
	);
	CREATE INDEX mapping_repairs_code ON mapping_repairs (source, code)`,
}

func (s *Store) migrate(ctx context.Context) error {
	seqType := "INTEGER PRIMARY KEY"
	if s.dialect == Postgres {
		seqType = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate %s: %w", s, err)
	}
	defer func() { _ = tx.Rollback() }()
	if s.dialect == Postgres {
		// Replicas starting together migrate one at a time.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7245001)`); err != nil {
			return fmt.Errorf("store: migrate %s: lock: %w", s, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate %s: %w", s, err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("store: migrate %s: read version: %w", s, err)
	}
	if have > len(migrations) {
		return fmt.Errorf("store: %s has schema version %d but this tillsync knows only %d: run a newer tillsync", s, have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		for _, stmt := range strings.Split(strings.ReplaceAll(migrations[v-1], "{{SEQ}}", seqType), ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("store: migration %d on %s: %w", v, s, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`),
			v, time.Now().UnixMicro()); err != nil {
			return fmt.Errorf("store: record migration %d: %w", v, err)
		}
	}
	return tx.Commit()
}
