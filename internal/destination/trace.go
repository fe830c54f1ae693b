package destination

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/tillsync/tillsync/internal/erp"
)

// startSpan starts the span of one call to the ERP: a child of the first
// event's trace (so one sale's trace runs from the till to the ERP), linked
// to the others'. The connector's outbound requests carry it as their
// traceparent.
func (d *ERPDestination) startSpan(ctx context.Context, docs []erp.Document) (context.Context, trace.Span) {
	if !d.trace.Enabled() {
		return ctx, nil
	}
	var ids []string
	for _, doc := range docs {
		ids = append(ids, doc.EventIDs...)
	}
	return d.trace.StartForEvents(ctx, "tillsync.destination.deliver", ids, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("tillsync.destination", d.cfg.Name), attribute.Int("tillsync.documents", len(docs))))
}

func endSpan(span trace.Span, errs []error, callErr error) {
	if span == nil {
		return
	}
	failed := 0
	for _, e := range errs {
		if e != nil {
			failed++
		}
	}
	span.SetAttributes(attribute.Int("tillsync.failed", failed))
	switch {
	case callErr != nil:
		// The class only: an ERP's message may quote the document.
		c, _ := erp.Classify(callErr)
		span.SetStatus(codes.Error, "call failed: "+c.String())
	case failed > 0:
		span.SetStatus(codes.Error, "some documents failed")
	}
	span.End()
}
