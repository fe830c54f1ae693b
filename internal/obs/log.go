package obs

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// NewLogHandler wraps next so that a record logged with a context gets
// that context's request_id, trace_id and span_id, and event_id when the
// context is about one event (WithEventID). Put it above the redacting
// handler: redact.NewLogHandler must stay in the chain.
func NewLogHandler(next slog.Handler) slog.Handler { return &logHandler{next: next} }

type logHandler struct{ next slog.Handler }

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, rec slog.Record) error {
	rid, eid := RequestID(ctx), EventID(ctx)
	sc := trace.SpanContextFromContext(ctx)
	if rid == "" && eid == "" && !sc.IsValid() {
		return h.next.Handle(ctx, rec)
	}
	rec = rec.Clone()
	if rid != "" {
		rec.AddAttrs(slog.String("request_id", rid))
	}
	if eid != "" {
		rec.AddAttrs(slog.String("event_id", eid))
	}
	if sc.IsValid() {
		rec.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.next.Handle(ctx, rec)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &logHandler{next: h.next.WithAttrs(as)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name)}
}
