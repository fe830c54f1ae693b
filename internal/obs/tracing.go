package obs

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing is a process's tracer and the trace context of the events it
// handled recently. A nil *Tracing, and one built from a config without an
// endpoint, is off: every method is a cheap no-op.
type Tracing struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	prop   propagation.TraceContext
	events *contexts
}

// RememberEvents is how many events' trace contexts a process keeps (for
// the uplink and the destinations to continue their traces). Older ones
// are forgotten: their later spans start new traces linked to nothing.
const RememberEvents = 1 << 16

// New builds tracing from config for a service ("tillsync-hub",
// "tillsync-edge"). Without telemetry.otlp_endpoint (or a test exporter)
// it returns nil: tracing off.
func New(ctx context.Context, cfg Config, service string) (*Tracing, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	if cfg.ServiceName != "" {
		service = cfg.ServiceName
	}
	res := resource.NewSchemaless(attribute.String("service.name", service))
	ratio := cfg.SampleRatio
	if ratio <= 0 {
		ratio = 1
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	}
	if cfg.Exporter != nil {
		// Tests and embedders: every span reaches the exporter when it ends.
		opts = append(opts, sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(cfg.Exporter)))
	}
	if cfg.OTLPEndpoint != "" {
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.OTLPEndpoint), otlptracehttp.WithHeaders(cfg.Headers))
		if err != nil {
			return nil, fmt.Errorf("telemetry.otlp_endpoint: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	return &Tracing{tp: tp, tracer: tp.Tracer("github.com/tillsync/tillsync"), events: newContexts(RememberEvents)}, nil
}

// Enabled reports whether spans are recorded.
func (t *Tracing) Enabled() bool { return t != nil }

// Shutdown flushes spans not yet exported and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

// Start starts a span, child of the span in ctx if any. Off, it returns
// ctx and a no-op span.
func (t *Tracing) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if t == nil {
		return ctx, noop.Span{}
	}
	return t.tracer.Start(ctx, name, opts...)
}

// Inject writes the traceparent of the span in ctx into h.
func (t *Tracing) Inject(ctx context.Context, h http.Header) {
	if t == nil {
		return
	}
	t.prop.Inject(ctx, propagation.HeaderCarrier(h))
}

// Extract returns ctx with the remote span context of h's traceparent.
func (t *Tracing) Extract(ctx context.Context, h http.Header) context.Context {
	if t == nil {
		return ctx
	}
	return t.prop.Extract(ctx, propagation.HeaderCarrier(h))
}

// Remember keeps the trace context under which an event was accepted, for
// the steps after it (uplink, delivery) to continue.
func (t *Tracing) Remember(eventID string, sc trace.SpanContext) {
	if t == nil || eventID == "" || !sc.IsValid() {
		return
	}
	t.events.put(eventID, sc)
}

// EventContext is the remembered trace context of an event.
func (t *Tracing) EventContext(eventID string) (trace.SpanContext, bool) {
	if t == nil {
		return trace.SpanContext{}, false
	}
	return t.events.get(eventID)
}

// StartForEvents starts a span for work on several events (a delivery, an
// uplink batch): the first event with a remembered context is its parent,
// so a single event's trace runs on through it; every other event's
// context is a link. Without any, the span is a child of ctx's.
func (t *Tracing) StartForEvents(ctx context.Context, name string, eventIDs []string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if t == nil {
		return ctx, noop.Span{}
	}
	var parent trace.SpanContext
	var links []trace.Link
	for _, id := range eventIDs {
		sc, ok := t.events.get(id)
		if !ok {
			continue
		}
		if !parent.IsValid() {
			parent = sc
			continue
		}
		if sc.TraceID() != parent.TraceID() && len(links) < maxLinks {
			links = append(links, trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.String("tillsync.event_id", id)}})
		}
	}
	if parent.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, parent)
	}
	opts = append(opts, trace.WithLinks(links...), trace.WithAttributes(attribute.Int("tillsync.events", len(eventIDs))))
	return t.tracer.Start(ctx, name, opts...)
}

// maxLinks bounds the links of one span (a backlog batch holds thousands
// of events; the collector drops spans that are too large).
const maxLinks = 128

// EventSpans are the spans of the events of one intake request. A nil
// *EventSpans (tracing off) does nothing.
type EventSpans struct{ spans []trace.Span }

// StartEvents starts the intake of events (ids, and their trace contexts
// from the uplink batch by the same index, "" for none). An event that came
// with its own trace context gets a span in that trace, linked to the
// request's span; one without belongs to the request's trace. Either way
// the context is remembered for the event's delivery.
func (t *Tracing) StartEvents(ctx context.Context, name string, ids, traceparents []string) *EventSpans {
	if t == nil {
		return nil
	}
	req := trace.SpanContextFromContext(ctx)
	var links []trace.Link
	if req.IsValid() {
		links = []trace.Link{{SpanContext: req}}
	}
	out := &EventSpans{spans: make([]trace.Span, len(ids))}
	for i, id := range ids {
		var tp string
		if i < len(traceparents) {
			tp = traceparents[i]
		}
		parent, ok := ParseTraceparent(tp)
		if !ok || parent.Equal(req) {
			t.Remember(id, req)
			continue
		}
		_, span := t.tracer.Start(trace.ContextWithRemoteSpanContext(ctx, parent), name, trace.WithLinks(links...),
			trace.WithAttributes(attribute.String("tillsync.event_id", id)))
		t.Remember(id, span.SpanContext())
		out.spans[i] = span
	}
	return out
}

// End ends event i's span with its outcome.
func (s *EventSpans) End(i int, seq int64, status string) {
	if s == nil || i >= len(s.spans) || s.spans[i] == nil {
		return
	}
	s.spans[i].SetAttributes(attribute.Int64("tillsync.seq", seq), attribute.String("tillsync.status", status))
	if status == "rejected" {
		s.spans[i].SetStatus(codes.Error, "rejected")
	}
	s.spans[i].End()
	s.spans[i] = nil
}

// Fail ends every span still open: nothing was stored.
func (s *EventSpans) Fail(err error) {
	if s == nil {
		return
	}
	for i, sp := range s.spans {
		if sp != nil {
			sp.SetStatus(codes.Error, "not stored")
			sp.End()
			s.spans[i] = nil
		}
	}
}

// Traceparent formats a span context as a W3C traceparent ("" if invalid).
func Traceparent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	return fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags())
}

// ParseTraceparent reads a W3C traceparent header value.
func ParseTraceparent(s string) (trace.SpanContext, bool) {
	if s == "" {
		return trace.SpanContext{}, false
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": s})
	sc := trace.SpanContextFromContext(ctx)
	return sc, sc.IsValid()
}

// Transport returns base (http.DefaultTransport if nil) made to send the
// traceparent of the request context's span, so the peer (an ERP, a
// webhook receiver) can join the trace. Off, it returns base unchanged.
func (t *Tracing) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if t == nil {
		return base
	}
	return &transport{t: t, base: base}
}

type transport struct {
	t    *Tracing
	base http.RoundTripper
}

func (tr *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !trace.SpanContextFromContext(r.Context()).IsValid() {
		return tr.base.RoundTrip(r)
	}
	r2 := r.Clone(r.Context()) // a RoundTripper must not change its request
	tr.t.Inject(r.Context(), r2.Header)
	return tr.base.RoundTrip(r2)
}

// contexts is a bounded map of event ID → span context; the oldest entry
// goes first.
type contexts struct {
	mu   sync.Mutex
	m    map[string]trace.SpanContext
	ring []string
	next int
}

func newContexts(n int) *contexts {
	return &contexts{m: make(map[string]trace.SpanContext, n), ring: make([]string, n)}
}

func (c *contexts) put(id string, sc trace.SpanContext) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[id]; ok {
		c.m[id] = sc
		return
	}
	if old := c.ring[c.next]; old != "" {
		delete(c.m, old)
	}
	c.ring[c.next] = id
	c.next = (c.next + 1) % len(c.ring)
	c.m[id] = sc
}

func (c *contexts) get(id string) (trace.SpanContext, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sc, ok := c.m[id]
	return sc, ok
}
