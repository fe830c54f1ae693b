package obs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// RequestIDHeader carries a request's ID in and out.
const RequestIDHeader = "X-Request-ID"

type ctxKey int

const (
	requestIDKey ctxKey = iota
	eventIDKey
)

// WithRequestID returns ctx carrying a request ID.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID is the ID of the request ctx belongs to ("" outside one).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithEventID returns ctx carrying the ID of the event being handled; log
// lines written with it carry event_id.
func WithEventID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, eventIDKey, id)
}

// EventID is the ID of the event ctx is about ("" if none).
func EventID(ctx context.Context) string {
	id, _ := ctx.Value(eventIDKey).(string)
	return id
}

// saneRequestID accepts a caller's X-Request-ID: 1 to 128 characters of
// letters, digits and -_.:/ — anything else (which could forge log
// fields or smuggle data into logs) is replaced by a generated ID.
func saneRequestID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '/':
		default:
			return false
		}
	}
	return true
}

// NewRequestID returns a random 16-byte hex ID.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Handler wraps an API: every request gets an ID (the caller's
// X-Request-ID if sane, else a new one), echoed in the response's
// X-Request-ID and carried in its context for log lines; with tracing on,
// a server span continues the caller's traceparent. log, if set, gets one
// debug line per request (method, route, status, duration). Requests to
// the quiet routes ("METHOD /path": heartbeats, health checks, scrapes)
// get a span only when the caller sent a traceparent, so they do not flood
// the trace store with one-span traces.
func Handler(t *Tracing, log *slog.Logger, next http.Handler, quiet ...string) http.Handler {
	skip := make(map[string]bool, len(quiet))
	for _, q := range quiet {
		skip[q] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !saneRequestID(id) {
			id = NewRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		ctx := WithRequestID(r.Context(), id)
		var span trace.Span
		if t != nil && (!skip[r.Method+" "+r.URL.Path] || r.Header.Get("traceparent") != "") {
			ctx, span = t.Start(t.Extract(ctx, r.Header), r.Method+" "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path),
					attribute.String("tillsync.request_id", id)))
		}
		rw := &StatusWriter{ResponseWriter: w}
		r = r.WithContext(ctx)
		next.ServeHTTP(rw, r)
		status := rw.Status()
		if span != nil {
			if r.Pattern != "" {
				// Span names are "METHOD route" (OpenTelemetry's HTTP
				// conventions), whether or not the pattern names a method.
				route := r.Pattern
				if _, path, ok := strings.Cut(route, " "); ok {
					route = path
				}
				span.SetName(r.Method + " " + route)
				span.SetAttributes(attribute.String("http.route", route))
			}
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			span.End()
		}
		if log != nil && log.Enabled(ctx, slog.LevelDebug) {
			log.DebugContext(ctx, "request", "method", r.Method, "path", r.URL.Path, "route", r.Pattern,
				"status", status, "took", time.Since(start))
		}
	})
}

// StatusWriter records the status of a response for middleware (request
// logs, audit trails); it passes on Flush (SSE) and Unwrap
// (http.ResponseController).
type StatusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first status written.
func (w *StatusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes on to the writer beneath (Server-Sent Events).
func (w *StatusWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the writer beneath (http.ResponseController).
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status is the status the handler answered (200 when it wrote nothing or
// only a body).
func (w *StatusWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
