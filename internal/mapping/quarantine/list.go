package quarantine

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tillsync/tillsync/internal/mapping"
	"github.com/tillsync/tillsync/internal/store"
)

// EventSummary is one quarantined event as the API lists it. Times are
// UTC; Zone is the store's.
type EventSummary struct {
	ID            string                 `json:"id"`
	Type          string                 `json:"type"`
	Location      string                 `json:"location"`
	Source        string                 `json:"source"`
	OccurredAt    time.Time              `json:"occurred_at"`
	Zone          string                 `json:"zone,omitempty"`
	QuarantinedAt time.Time              `json:"quarantined_at"`
	Codes         []store.UnresolvedCode `json:"codes"`
	State         string                 `json:"state"`
	Seq           int64                  `json:"seq,omitempty"`
	ReleasedAt    *time.Time             `json:"released_at,omitempty"`
}

// Summary is what the quarantine holds: counts, the unknown codes with the
// events waiting for each, and a page of events.
type Summary struct {
	Held     int64          `json:"held"`
	Released int64          `json:"released"`
	Codes    []*CodeSummary `json:"codes"`
	Events   []EventSummary `json:"events"`
}

// List summarises the quarantine: every unknown code, and up to limit
// events in a state (store.QuarantineHeld or store.QuarantineReleased),
// oldest first.
func (q *Quarantine) List(ctx context.Context, state string, limit int) (Summary, error) {
	var s Summary
	var err error
	if s.Held, err = q.st.CountQuarantined(ctx, store.QuarantineHeld); err != nil {
		return s, err
	}
	if s.Released, err = q.st.CountQuarantined(ctx, store.QuarantineReleased); err != nil {
		return s, err
	}
	if s.Codes, err = q.groups(ctx); err != nil {
		return s, err
	}
	if s.Codes == nil {
		s.Codes = []*CodeSummary{}
	}
	rows, err := q.st.Quarantined(ctx, state, time.Time{}, "", limit)
	if err != nil {
		return s, err
	}
	s.Events = make([]EventSummary, 0, len(rows))
	for _, r := range rows {
		es := EventSummary{ID: r.ID, Type: r.Type, Location: r.Location, Source: r.Source, OccurredAt: r.OccurredAt,
			QuarantinedAt: r.QuarantinedAt, Codes: r.Codes, State: r.State, Seq: r.Seq}
		if e, err := decode(r); err == nil {
			es.Zone = e.Zone
		}
		if !r.ReleasedAt.IsZero() {
			at := r.ReleasedAt
			es.ReleasedAt = &at
		}
		s.Events = append(s.Events, es)
	}
	return s, nil
}

// Load builds the resolver a hub runs with: the catalog file (CSV or
// JSON), optional per-source mappings (CSV source,code,sku), optional
// rules file (JSON lines, appended and synced on every decision; in memory
// when ""), and the auto-apply threshold (mapping.DefaultThreshold when
// 0). The returned closer closes the rules file.
func Load(catalog, mappings, rules string, threshold float64) (*mapping.Resolver, io.Closer, error) {
	cat, err := mapping.Load(catalog)
	if err != nil {
		return nil, nil, fmt.Errorf("catalog.file: %w", err)
	}
	if mappings != "" {
		f, err := os.Open(mappings)
		if err != nil {
			return nil, nil, fmt.Errorf("catalog.mappings: %w", err)
		}
		err = cat.ReadMappings(f)
		_ = f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("catalog.mappings %s: %w", mappings, err)
		}
	}
	var rs mapping.Rules = mapping.NewMemRules()
	var closer io.Closer = io.NopCloser(nil)
	if rules != "" {
		fr, err := mapping.OpenFileRules(rules)
		if err != nil {
			return nil, nil, fmt.Errorf("catalog.rules: %w", err)
		}
		rs, closer = fr, fr
	}
	return mapping.NewResolver(cat, mapping.Options{Rules: rs, Threshold: threshold}), closer, nil
}
