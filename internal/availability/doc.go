// Package availability turns ledger positions into what each sales channel
// may sell (available-to-promise: on hand − reserved − the channel's safety
// buffer, never below zero) and fans changes out to live subscribers,
// coalescing per SKU, location and channel so a slow subscriber gets the
// latest value instead of a growing queue, and never slows the committer.
//
// It must not read the database or speak HTTP: the hub feeds it committed
// changes, and channel connectors (SSE, webhooks) carry its updates out.
package availability
