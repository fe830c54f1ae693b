package hub

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	events       *prometheus.CounterVec
	batchEvents  prometheus.Histogram
	batchReqs    prometheus.Histogram
	commit       prometheus.Histogram
	fsync        prometheus.Histogram
	head         prometheus.Gauge
	backlog      *prometheus.GaugeVec
	oldest       *prometheus.GaugeVec
	oversells    prometheus.Counter
	availability prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	latency := prometheus.ExponentialBuckets(0.0001, 2, 16) // 0.1 ms … 3.3 s
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tillsync_intake_events_total", Help: "Events received by the hub, by outcome.",
		}, []string{"status"}),
		batchEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tillsync_commit_batch_events", Help: "Events per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}),
		batchReqs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tillsync_commit_batch_requests", Help: "Requests per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tillsync_commit_seconds", Help: "Time to append a batch and apply its ledger changes, commit included.",
			Buckets: latency,
		}),
		fsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tillsync_commit_fsync_seconds", Help: "Time of the COMMIT itself (WAL write and fsync).",
			Buckets: latency,
		}),
		head: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tillsync_log_head_seq", Help: "Highest sequence number in the event log.",
		}),
		backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tillsync_store_backlog_events", Help: "Events buffered at the store's edge, as it last reported.",
		}, []string{"location"}),
		oldest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tillsync_store_oldest_unsynced_seconds", Help: "Age of the oldest event the store's edge has not synced, as it last reported.",
		}, []string{"location"}),
		oversells: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tillsync_oversells_total", Help: "Oversells detected by the ledger.",
		}),
		availability: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tillsync_availability_updates_total", Help: "Channel availability updates computed after commits.",
		}),
	}
	reg.MustRegister(m.events, m.batchEvents, m.batchReqs, m.commit, m.fsync, m.head, m.backlog, m.oldest, m.oversells, m.availability)
	return m
}
