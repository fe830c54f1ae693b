package bench

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestERPSmoke runs one tiny detail case and a tiny summary run and checks
// only that they were correct: every document in the simulated NetSuite
// exactly once. Speed is not asserted.
func TestERPSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("drains backlogs into a simulated ERP; skipped with -short")
	}
	t.Parallel()
	tiny := ERPCase{Limit: 3, Latency: 20 * time.Millisecond}
	var progress strings.Builder
	opt := ERPOptions{Cases: []ERPCase{tiny}, Documents: 60,
		SummaryEvents: 60, SummaryStores: 2, SummaryHours: 2, SummaryCase: tiny, Progress: &progress}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := ERP(ctx, opt)
	if err != nil {
		t.Fatalf("ERP: %v\nprogress:\n%s", err, progress.String())
	}

	if len(rep.Detail) != 1 {
		t.Fatalf("%d detail results, want 1", len(rep.Detail))
	}
	d := rep.Detail[0]
	if d.Error != "" || d.Lost != 0 || d.Duplicates != 0 || d.DeadLetters != 0 {
		t.Errorf("detail: %+v", d)
	}
	if d.Documents != 60 || d.Requests < 60 || d.Seconds <= 0 || d.AchievedDocsPerS <= 0 || d.CeilingDocsPerS != 150 {
		t.Errorf("detail not measured: %+v", d)
	}
	s := rep.Summary
	if s == nil || s.Error != "" || s.Lost != 0 || s.Duplicates != 0 || s.DeadLetters != 0 {
		t.Fatalf("summary: %+v", s)
	}
	if s.Events != 60 || s.Summaries < s.Periods || s.Periods < 2 || s.Requests < int64(s.Summaries) || s.EventsPerRequest <= 0 {
		t.Errorf("summary not measured: %+v", s)
	}

	var out strings.Builder
	if err := WriteERPTable(&out, rep, opt); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ceiling/s", "events/request"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Detail  []map[string]any `json:"detail"`
		Summary map[string]any   `json:"summary"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"limit", "latency_ms", "ceiling_docs_per_s", "achieved_docs_per_s", "ratio", "target", "requests",
		"rejections", "rejection_share", "lost", "duplicates", "documents", "seconds"} {
		if _, ok := back.Detail[0][k]; !ok {
			t.Errorf("JSON detail lacks %q: %s", k, b)
		}
	}
	for _, k := range []string{"events", "summaries", "requests", "events_per_request", "target", "lost", "duplicates"} {
		if _, ok := back.Summary[k]; !ok {
			t.Errorf("JSON summary lacks %q: %s", k, b)
		}
	}
}

// The detail workload has IDs NetSuite takes as they are and IDs the
// connector rewrites, so the smoke test's loss check covers both.
func TestERPLoadIDs(t *testing.T) {
	t.Parallel()
	evs, err := detailBacklog(newCatalog(50, 3), 30, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	kept, rewritten := 0, 0
	for _, e := range evs {
		if netsuiteID(e.ID) == e.ID {
			kept++
		} else {
			rewritten++
		}
	}
	if kept == 0 || rewritten == 0 {
		t.Errorf("%d IDs kept and %d rewritten, want some of each", kept, rewritten)
	}
}
