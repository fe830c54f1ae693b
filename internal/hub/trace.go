package hub

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/obs"
)

// tracedSubmitter remembers, for each event a webhook source submits, the
// trace of the webhook request it came in — before the commit wakes the
// destinations — so its ERP delivery continues that trace.
type tracedSubmitter struct {
	next  intake.Submitter
	trace *obs.Tracing
}

func (s tracedSubmitter) Submit(ctx context.Context, events []*event.Event) ([]intake.Outcome, error) {
	if sc := trace.SpanContextFromContext(ctx); s.trace.Enabled() && sc.IsValid() {
		for _, e := range events {
			s.trace.Remember(e.ID, sc)
		}
	}
	return s.next.Submit(ctx, events)
}
