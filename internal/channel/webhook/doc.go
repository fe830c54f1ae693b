// Package webhook delivers availability changes to an HTTP receiver as
// signed webhooks: each delivery is a JSON batch, signed with HMAC-SHA256
// over the timestamp and the raw body, retried with back-off until the
// receiver answers 2xx. The destination reads changed positions through its
// own cursor, so a dead receiver holds back only itself, and a receiver that
// comes back gets the latest values, coalesced, not every intermediate one.
//
// Receivers verify deliveries with Verify.
package webhook
