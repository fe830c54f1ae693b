// Package destination holds what every outbound destination shares: the
// signal that new events were committed, retry back-off with jitter, and
// per-destination lag metrics. Each destination reads the log through its
// own cursor, so one slow or dead receiver delays nobody else.
//
// It must not know any receiver's protocol: connectors (webhooks, ERPs,
// channels) own that.
package destination
