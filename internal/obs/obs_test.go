package obs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tillsync/tillsync/internal/obs"
	"github.com/tillsync/tillsync/internal/redact"
)

// jsonLogger logs JSON lines, at debug and up, into buf — through the
// same chain as the tillsync binary: IDs from the context, then redaction.
func jsonLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(obs.NewLogHandler(redact.NewLogHandler(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
}

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

func TestRequestIDInResponseAndLogs(t *testing.T) {
	var buf bytes.Buffer
	log := jsonLogger(&buf)
	h := obs.Handler(nil, log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "handling", "card", "4111 1111 1111 1111")
		w.WriteHeader(http.StatusTeapot)
	}))
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, tc := range []struct {
		name, sent string
		keep       bool
	}{
		{"caller's ID kept", "req-42.a:b/c_d", true},
		{"none sent", "", false},
		{"unsafe ID replaced", `x" level=ERROR msg=forged`, false},
		{"too long replaced", strings.Repeat("a", 129), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf.Reset()
			req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/v1/x", nil)
			if tc.sent != "" {
				req.Header.Set(obs.RequestIDHeader, tc.sent)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			id := rec.Header().Get(obs.RequestIDHeader)
			switch {
			case tc.keep && id != tc.sent:
				t.Fatalf("answered X-Request-ID %q, want the caller's %q", id, tc.sent)
			case !tc.keep && !hex32.MatchString(id):
				t.Fatalf("answered X-Request-ID %q, want a generated 32-hex ID", id)
			}
			got := lines(t, &buf)
			if len(got) != 2 { // the handler's line and the access line
				t.Fatalf("%d log lines, want 2: %s", len(got), buf.String())
			}
			for _, l := range got {
				if l["request_id"] != id {
					t.Errorf("log line %v has request_id %v, want %q", l["msg"], l["request_id"], id)
				}
			}
			if strings.Contains(buf.String(), "4111 1111 1111 1111") {
				t.Errorf("a card number reached the log: the redaction backstop must stay in the chain")
			}
			if got[1]["msg"] != "request" || got[1]["status"] != float64(http.StatusTeapot) {
				t.Errorf("access line %v", got[1])
			}
		})
	}
}

func TestEventIDAndTraceIDInLogs(t *testing.T) {
	var buf bytes.Buffer
	log := jsonLogger(&buf)
	tr, err := obs.New(context.Background(), obs.Config{Exporter: tracetest.NewInMemoryExporter()}, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := tr.Start(obs.WithEventID(context.Background(), "sale-1"), "work")
	log.WarnContext(ctx, "about an event")
	span.End()
	log.Warn("no context")
	got := lines(t, &buf)
	if got[0]["event_id"] != "sale-1" || got[0]["trace_id"] != span.SpanContext().TraceID().String() || got[0]["span_id"] != span.SpanContext().SpanID().String() {
		t.Errorf("line with a context: %v", got[0])
	}
	for _, k := range []string{"event_id", "trace_id", "request_id"} {
		if _, ok := got[1][k]; ok {
			t.Errorf("line without a context has %s: %v", k, got[1])
		}
	}
}

func TestQuietRoutesTracedOnlyWhenAsked(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr, _ := obs.New(context.Background(), obs.Config{Exporter: exp}, "test")
	h := obs.Handler(tr, nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), "POST /v1/edge/status")
	for _, tc := range []struct {
		method, path, traceparent string
		spans                     int
	}{
		{http.MethodPost, "/v1/edge/status", "", 0},
		{http.MethodPost, "/v1/edge/status", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 1},
		{http.MethodPost, "/v1/events", "", 1},
	} {
		exp.Reset()
		req := httptest.NewRequestWithContext(context.Background(), tc.method, tc.path, nil)
		if tc.traceparent != "" {
			req.Header.Set("traceparent", tc.traceparent)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got := len(exp.GetSpans()); got != tc.spans {
			t.Errorf("%s %s (traceparent %q): %d spans, want %d", tc.method, tc.path, tc.traceparent, got, tc.spans)
		}
		if tc.traceparent != "" && exp.GetSpans()[0].SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("the caller's trace was not continued")
		}
	}
}

func TestTracingOffIsFree(t *testing.T) {
	tr, err := obs.New(context.Background(), obs.Config{}, "test")
	if err != nil || tr != nil {
		t.Fatalf("New without an endpoint = %v, %v; want nil (off)", tr, err)
	}
	base := http.DefaultTransport
	if tr.Transport(base) != base {
		t.Error("off, Transport must return its base unchanged")
	}
	ctx, span := tr.Start(context.Background(), "x")
	if span.SpanContext().IsValid() || ctx != context.Background() {
		t.Error("off, Start must not make a span")
	}
	tr.Remember("e1", span.SpanContext())
	if _, ok := tr.EventContext("e1"); ok {
		t.Error("off, nothing is remembered")
	}
	tr.StartEvents(ctx, "x", []string{"e1"}, nil).End(0, 1, "accepted")
	if err := tr.Shutdown(ctx); err != nil {
		t.Error(err)
	}
}

func TestTransportSendsTraceparent(t *testing.T) {
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Get("traceparent") }))
	defer srv.Close()
	tr, _ := obs.New(context.Background(), obs.Config{Exporter: tracetest.NewInMemoryExporter()}, "test")
	client := &http.Client{Transport: tr.Transport(nil)}
	ctx, span := tr.Start(context.Background(), "deliver")
	defer span.End()
	for _, c := range []context.Context{ctx, context.Background()} {
		req, _ := http.NewRequestWithContext(c, http.MethodPost, srv.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if req.Header.Get("traceparent") != "" {
			t.Error("the transport changed the caller's request")
		}
	}
	if tp := <-got; tp != obs.Traceparent(span.SpanContext()) {
		t.Errorf("peer got traceparent %q, want %q", tp, obs.Traceparent(span.SpanContext()))
	}
	if tp := <-got; tp != "" {
		t.Errorf("a request without a span sent traceparent %q", tp)
	}
}

func TestStartForEventsContinuesFirstAndLinksOthers(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr, _ := obs.New(context.Background(), obs.Config{Exporter: exp}, "test")
	_, a := tr.Start(context.Background(), "sale a")
	_, b := tr.Start(context.Background(), "sale b")
	tr.Remember("a", a.SpanContext())
	tr.Remember("b", b.SpanContext())
	_, d := tr.StartForEvents(context.Background(), "deliver", []string{"unknown", "a", "b"})
	d.End()
	s := exp.GetSpans()[0]
	if s.Parent.SpanID() != a.SpanContext().SpanID() || s.SpanContext.TraceID() != a.SpanContext().TraceID() {
		t.Errorf("delivery parent %v, want sale a's span", s.Parent)
	}
	if len(s.Links) != 1 || s.Links[0].SpanContext.TraceID() != b.SpanContext().TraceID() {
		t.Errorf("links %v, want sale b's trace", s.Links)
	}
}

func TestStartEventsContinuesEachEventsTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr, _ := obs.New(context.Background(), obs.Config{Exporter: exp}, "hub")
	ctx, req := tr.Start(context.Background(), "POST /v1/events")
	edgeSC, _ := obs.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	spans := tr.StartEvents(ctx, "tillsync.intake.event", []string{"e1", "e2", "e3"}, []string{obs.Traceparent(edgeSC), "", "garbage"})
	spans.End(0, 7, "accepted")
	spans.End(1, 8, "accepted")
	spans.End(2, 9, "accepted")
	req.End()
	sc1, _ := tr.EventContext("e1")
	if sc1.TraceID() != edgeSC.TraceID() {
		t.Errorf("e1 continues trace %s, want the edge's %s", sc1.TraceID(), edgeSC.TraceID())
	}
	for _, id := range []string{"e2", "e3"} {
		if sc, _ := tr.EventContext(id); !sc.Equal(req.SpanContext()) {
			t.Errorf("%s without a (valid) traceparent belongs to the request's span, got %v", id, sc)
		}
	}
	var ev tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == "tillsync.intake.event" {
			ev = s
		}
	}
	if ev.Parent.SpanID() != edgeSC.SpanID() || len(ev.Links) != 1 || ev.Links[0].SpanContext.SpanID() != req.SpanContext().SpanID() {
		t.Errorf("event span: parent %v links %v; want the edge's span as parent and the request's as link", ev.Parent, ev.Links)
	}
	if len(exp.GetSpans()) != 2 {
		t.Errorf("%d spans, want 2 (the request and one event span)", len(exp.GetSpans()))
	}
}

func TestTraceparentRoundTrip(t *testing.T) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	sc, ok := obs.ParseTraceparent(tp)
	if !ok || obs.Traceparent(sc) != tp {
		t.Fatalf("round trip of %s: %v %q", tp, ok, obs.Traceparent(sc))
	}
	for _, bad := range []string{"", "00-0000-00", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "zz"} {
		if _, ok := obs.ParseTraceparent(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
	if obs.Traceparent(trace.SpanContext{}) != "" {
		t.Error("an invalid context must format as empty")
	}
}

func TestConfigCheck(t *testing.T) {
	for _, tc := range []struct {
		cfg   obs.Config
		field string
	}{
		{obs.Config{OTLPEndpoint: "localhost:4318"}, "otlp_endpoint"},
		{obs.Config{OTLPEndpoint: "ftp://x/v1/traces"}, "otlp_endpoint"},
		{obs.Config{SampleRatio: 1.5}, "sample_ratio"},
		{obs.Config{SampleRatio: -0.1}, "sample_ratio"},
	} {
		p := tc.cfg.Check()
		if len(p) != 1 || p[0].Field != tc.field {
			t.Errorf("%+v: problems %v, want one for %s", tc.cfg, p, tc.field)
		}
	}
	if p := (obs.Config{OTLPEndpoint: "http://localhost:4318/v1/traces", SampleRatio: 0.1}).Check(); len(p) > 0 {
		t.Errorf("a good config: %v", p)
	}
}
