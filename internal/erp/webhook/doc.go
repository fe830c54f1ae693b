// Package webhook posts tillsync documents to any HTTP receiver — an ERP
// with no connector of its own, an iPaaS flow, a retailer's middleware —
// as signed JSON batches, under a small documented contract.
//
// # Request
//
//	POST <url>
//	Content-Type: application/json
//	Idempotency-Key: <external ID>[,<external ID>…]   one per document, in order
//	X-Tillsync-Delivery: erp-<32 hex>                  the same for every retry of a batch
//	X-Tillsync-Timestamp: <Unix seconds>
//	X-Tillsync-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
//	{"delivery_id": "erp-…",
//	 "documents": [{"idempotency_key": "<external ID>", "kind": "cash_sale",
//	                "external_id": "…", "location": "store-1", "lines": […], …}]}
//
// The signature is the one tillsync's availability webhooks use
// (internal/channel/webhook.Sign): receivers verify both with the same
// code, over the raw body, and reject timestamps outside their tolerance.
// Each document is an erp.Document as JSON — amounts in integer minor
// units of its currency, quantities as exact decimals — plus its
// idempotency key, which is its external ID: the receiver must create each
// key at most once, whatever the delivery it arrives in.
//
// # Response
//
//	200 {"results": [{"external_id": "…", "status": "created"|"exists"|"error",
//	                  "error": "…", "permanent": true}]}
//
// one result per document: "created" and "exists" are both delivered;
// "error" with permanent true goes to the dead-letter queue, without it is
// retried. A document without a result is retried. Other answers concern
// the whole batch: 429, and 503 with Retry-After, slow the destination
// down (rate-limited, honouring Retry-After); 408, other 5xx, timeouts and
// resets are retried; 401 and 403 are a permanent signature or secret
// error; any other 4xx is permanent.
//
// Go's HTTP client treats a POST with an Idempotency-Key as replayable, so
// it may resend a batch on a reused connection that closed before the
// answer: receivers deduplicate by key, so that too is safe.
//
// The reference receiver is internal/sim/erpsim/webhook.
package webhook
