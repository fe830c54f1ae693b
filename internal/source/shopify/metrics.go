package shopify

import "github.com/prometheus/client_golang/prometheus"

var (
	descDeliveries = prometheus.NewDesc("tillsync_shopify_deliveries_total",
		"Shopify webhook deliveries by outcome.", []string{"shop", "outcome"}, nil)
	descStale = prometheus.NewDesc("tillsync_shopify_stale_deliveries_total",
		"Shopify deliveries older than stale_after when they arrived (retries carry the original payload).", []string{"shop"}, nil)
	descSuperseded = prometheus.NewDesc("tillsync_shopify_superseded_levels_total",
		"Inventory levels that arrived after a newer level of the same item and location; the newer count stands.", []string{"shop"}, nil)
	descEvents = prometheus.NewDesc("tillsync_shopify_events_total",
		"Canonical events newly accepted into the log from Shopify deliveries.", []string{"shop"}, nil)
)

// Describe implements prometheus.Collector.
func (h *Handler) Describe(ch chan<- *prometheus.Desc) {
	ch <- descDeliveries
	ch <- descStale
	ch <- descSuperseded
	ch <- descEvents
}

// Collect implements prometheus.Collector: the handler's Stats as counters,
// so the hub can register the handler itself.
func (h *Handler) Collect(ch chan<- prometheus.Metric) {
	s := h.Stats()
	shop := h.cfg.Shop
	for outcome, v := range map[string]int64{
		"accepted": s.Accepted, "duplicate": s.Duplicates, "ignored": s.Ignored, "parked": s.Parked,
		"unplaceable": s.Unplaceable, "waiting": s.Waiting, "unauthorized": s.Unauthorized,
		"bad_request": s.BadRequests, "failed": s.Failed,
	} {
		ch <- prometheus.MustNewConstMetric(descDeliveries, prometheus.CounterValue, float64(v), shop, outcome)
	}
	ch <- prometheus.MustNewConstMetric(descStale, prometheus.CounterValue, float64(s.Stale), shop)
	ch <- prometheus.MustNewConstMetric(descSuperseded, prometheus.CounterValue, float64(s.Superseded), shop)
	ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(s.Events), shop)
}
