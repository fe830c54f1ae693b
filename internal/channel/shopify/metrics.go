package shopify

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the Shopify destinations' own collectors, labelled by
// destination; lag is on destination.Metrics. Register them once per
// process and share them between destinations.
//
// Utilisation of the restore rate is
//
//	rate(tillsync_shopify_cost_points_total[1m]) / tillsync_shopify_restore_rate_points
//
// and the throttled share
//
//	rate(tillsync_shopify_throttled_total[5m]) / sum without (op, result) (rate(tillsync_shopify_requests_total[5m]))
type Metrics struct {
	requests        *prometheus.CounterVec
	throttled       *prometheus.CounterVec
	points          *prometheus.CounterVec
	bucketAvailable *prometheus.GaugeVec
	bucketSize      *prometheus.GaugeVec
	restoreRate     *prometheus.GaugeVec
	utilisation     *prometheus.GaugeVec
	quantities      *prometheus.CounterVec
	stale           *prometheus.CounterVec
	unmapped        *prometheus.GaugeVec
	skipped         *prometheus.CounterVec
}

// NewMetrics registers the collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	d := []string{"destination"}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tillsync_shopify_requests_total", Help: "GraphQL Admin API requests by operation and result (ok, error, throttled, failed).",
		}, []string{"destination", "op", "result"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tillsync_shopify_throttled_total", Help: "Requests Shopify refused as THROTTLED (or 429).",
		}, d),
		points: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tillsync_shopify_cost_points_total", Help: "Cost points spent (actualQueryCost).",
		}, d),
		bucketAvailable: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tillsync_shopify_bucket_available_points", Help: "Cost points available in the shop's bucket, per the governor's model.",
		}, d),
		bucketSize: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tillsync_shopify_bucket_size_points", Help: "The bucket's capacity (throttleStatus.maximumAvailable).",
		}, d),
		restoreRate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tillsync_shopify_restore_rate_points", Help: "Points restored per second (throttleStatus.restoreRate).",
		}, d),
		utilisation: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tillsync_shopify_bucket_utilisation", Help: "Share of the bucket in use (1 - available/capacity).",
		}, d),
		quantities: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tillsync_shopify_quantities_total", Help: "Available quantities Shopify confirmed, by mutation (set, adjust).",
		}, []string{"destination", "mutation"}),
		stale: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tillsync_shopify_stale_compares_total", Help: "Quantities refused because Shopify's value had changed behind tillsync (COMPARE_QUANTITY_STALE, CHANGE_FROM_QUANTITY_STALE).",
		}, d),
		unmapped: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tillsync_shopify_unmapped", Help: "Distinct SKUs, locations or inventory levels that could not be pushed, by kind (sku, location, item, level, quantity).",
		}, []string{"destination", "kind"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tillsync_shopify_skipped_total", Help: "Position changes not pushed because their SKU, location or level is unmapped, by kind.",
		}, []string{"destination", "kind"}),
	}
	reg.MustRegister(m.requests, m.throttled, m.points, m.bucketAvailable, m.bucketSize, m.restoreRate,
		m.utilisation, m.quantities, m.stale, m.unmapped, m.skipped)
	return m
}
