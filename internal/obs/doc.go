// Package obs owns tillsync's observability plumbing: the OpenTelemetry
// tracer provider built from config (off by default, then a no-op with no
// cost), W3C traceparent propagation in and out of HTTP and in uplink
// batches, the trace context of each event as it travels edge → hub →
// destination, request IDs, and the slog handler that adds request, trace
// and event IDs to log lines from a request's context.
//
// It must not log or export event contents: spans carry IDs, counts and
// outcomes only. The redacting log handler (internal/redact) stays in the
// log chain below this package's handler.
package obs
