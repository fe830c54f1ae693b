package destination

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tillsync/tillsync/internal/store"
)

// Metrics are the per-destination gauges and counters.
type Metrics struct {
	LagEvents  *prometheus.GaugeVec
	LagSeconds *prometheus.GaugeVec
	Deliveries *prometheus.CounterVec
}

// NewMetrics registers destination metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		LagEvents: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tillsync_destination_lag_events", Help: "Events in the log after the destination's cursor.",
		}, []string{"destination"}),
		LagSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tillsync_destination_lag_seconds", Help: "Age of the oldest event the destination has not delivered.",
		}, []string{"destination"}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tillsync_destination_deliveries_total", Help: "Delivery attempts by destination and result.",
		}, []string{"destination", "result"}),
	}
	reg.MustRegister(m.LagEvents, m.LagSeconds, m.Deliveries)
	return m
}

// ObserveLag sets a destination's lag gauges for its cursor: events in
// the log after it, and the age of the oldest of them. A failed read
// leaves them as they were.
func (m *Metrics) ObserveLag(ctx context.Context, st *store.Store, name string, cursor int64) {
	head, err := st.Head(ctx)
	if err != nil {
		return
	}
	lag := max(head-cursor, 0)
	m.LagEvents.WithLabelValues(name).Set(float64(lag))
	secs := 0.0
	if lag > 0 {
		if at, err := st.OldestAfter(ctx, cursor); err == nil && !at.IsZero() {
			secs = time.Since(at).Seconds()
		}
	}
	m.LagSeconds.WithLabelValues(name).Set(secs)
}

// Sleep waits d or until ctx ends; it reports whether the full wait
// passed. Destinations wait between attempts with it.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
