package obs

import (
	"fmt"
	"net/url"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Config configures OpenTelemetry tracing (the telemetry: section of the
// hub's and the edge's config). With no otlp_endpoint (the default)
// tracing is off: no spans are made and nothing is sent.
type Config struct {
	// OTLPEndpoint is the OTLP/HTTP traces URL of a collector, e.g.
	// http://localhost:4318/v1/traces.
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	// Headers are sent with every export (e.g. a vendor's API key).
	Headers map[string]string `yaml:"headers"`
	// SampleRatio is the share of new traces recorded, 0 < r ≤ 1 (0 or
	// unset: all); a trace begun upstream keeps its caller's decision.
	SampleRatio float64 `yaml:"sample_ratio"`
	// ServiceName overrides the service.name resource ("tillsync-hub",
	// "tillsync-edge").
	ServiceName string `yaml:"service_name"`

	// Exporter, set by tests and embedders, receives every span as it
	// ends; it turns tracing on. Never read from a file.
	Exporter sdktrace.SpanExporter `yaml:"-"`
}

// Enabled reports whether spans are recorded.
func (c Config) Enabled() bool { return c.OTLPEndpoint != "" || c.Exporter != nil }

// Problem is one invalid field of a Config.
type Problem struct{ Field, Message string }

// Check returns what is wrong with c, naming each field.
func (c Config) Check() []Problem {
	var out []Problem
	if c.OTLPEndpoint != "" {
		u, err := url.Parse(c.OTLPEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			out = append(out, Problem{"otlp_endpoint", fmt.Sprintf("must be the http(s) URL of an OTLP/HTTP traces receiver, e.g. http://localhost:4318/v1/traces, not %q", c.OTLPEndpoint)})
		}
	}
	if c.SampleRatio < 0 || c.SampleRatio > 1 {
		out = append(out, Problem{"sample_ratio", fmt.Sprintf("is %v; must be between 0 and 1 (0 or unset: every trace)", c.SampleRatio)})
	}
	return out
}
