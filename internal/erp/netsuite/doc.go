// Package netsuite is the NetSuite connector: it posts tillsync documents
// to one NetSuite account through SuiteTalk REST web services, signed with
// Token-Based Authentication (OAuth 1.0a, HMAC-SHA256).
//
// What each document becomes:
//
//	cash_sale              cashSale             PUT  record/v1/cashSale/eid:<id>?replace=item
//	cash_refund            cashRefund           PUT  record/v1/cashRefund/eid:<id>?replace=item
//	sales_order            salesOrder           PUT  record/v1/salesOrder/eid:<id>?replace=item (otherRefNum = order ID)
//	fulfilment             itemFulfillment      POST record/v1/salesOrder/<found by otherRefNum>/!transform/itemFulfillment
//	order_cancel           salesOrder lines     PATCH record/v1/salesOrder/<found> closing its open lines
//	inventory_adjustment   inventoryAdjustment  PUT  record/v1/inventoryAdjustment/eid:<id>?replace=inventory (adjustQtyBy)
//	inventory_count        inventoryAdjustment  the same, with newQuantity (the counted quantity)
//	transfer_order         transferOrder + itemFulfillment: PUT transferOrder/eid:<transfer ID>, then !transform/itemFulfillment
//	transfer_receipt       itemReceipt          POST record/v1/transferOrder/eid:<transfer ID>/!transform/itemReceipt
//	summary                journalEntry         PUT  record/v1/journalEntry/eid:<id>?replace=line
//
// Exactly once: every record carries the document's external ID (the
// event ID, or the summary's deterministic ID). Records NetSuite can
// upsert are written with PUT …/eid:<id>, which creates the record or
// updates the one a previous attempt created, so a redelivery after a
// commit whose answer was lost never duplicates; records NetSuite only
// creates by transform are looked up by external ID first.
//
// Errors steer the destination engine: 429 (and NetSuite's concurrency
// error codes) is rate limited, with Retry-After when given; 5xx, 408,
// timeouts and resets are retried; 400 validation errors (an unknown item,
// a bad field) are permanent; 401 (wrong credentials), 403 and an unknown
// record type are misconfiguration, which holds documents rather than
// dead-lettering them.
//
// The package owns the NetSuite API shapes and the signing; it must not
// decide retries, batching or ordering, which belong to the destination
// engine, and it never logs secrets.
package netsuite
