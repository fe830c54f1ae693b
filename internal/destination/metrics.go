package destination

import "github.com/prometheus/client_golang/prometheus"

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
