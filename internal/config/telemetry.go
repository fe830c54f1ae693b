package config

import "github.com/tillsync/tillsync/internal/obs"

// Telemetry configures OpenTelemetry tracing, off by default (see
// obs.Config and docs/observability.md).
type Telemetry = obs.Config

func checkTelemetry(t Telemetry, p *Problems) {
	for _, pr := range t.Check() {
		p.add("telemetry."+pr.Field, "%s", pr.Message)
	}
}
