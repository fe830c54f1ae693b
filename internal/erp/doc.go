// Package erp is the contract between tillsync and the ERPs it posts to.
//
// The destination engine turns events into Documents (one per POS document
// in detail mode, periodic totals in summary mode) and hands them to a
// Connector, which speaks one ERP's API. A Document's ExternalID — the event
// ID, or the summary's deterministic ID — becomes the ERP's external
// reference, so a redelivery updates the record it created instead of
// creating another: exactly-once effects from at-least-once delivery.
//
// Connectors classify every failure (retry later, rate-limited, permanent)
// with *Error so the engine can steer retries, the governor and the
// dead-letter queue. Every connector, and the in-memory fake, passes the
// conformance suite in erptest.
//
// Connectors live in subpackages (erp/netsuite, erp/sap, erp/odoo,
// erp/erpnext, erp/webhook) and are registered explicitly in one list.
package erp
