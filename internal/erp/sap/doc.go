// Package sap is the SAP S/4HANA connector: it posts tillsync documents to
// the released OData V2 APIs of S/4HANA (Cloud or on-premise) and
// classifies every failure for the destination engine.
//
// # What becomes what
//
//   - CashSale: a sales order of type CS ("cash sale": SAP delivers and
//     bills it at once, as a till does) in API_SALES_ORDER_SRV.
//   - SalesOrder (online orders): a standard order, type OR.
//   - Summary: one aggregated cash sale per store and period, an item per
//     SKU with the period's quantity and amount, the tender and tax totals
//     in the header text. This mirrors SAP Retail's own POS inbound of
//     aggregated sales; booking tender totals to cash and card clearing
//     accounts is a journal entry (a SOAP API), outside this connector.
//   - CashRefund: a customer return (API_CUSTOMER_RETURN_SRV, type RE).
//     A consultant would not use a credit memo request here: that is for
//     value-only corrections, while a till refund takes goods back into
//     store stock, which in SAP is a returns order → returns delivery →
//     credit memo. Post-voids are refunds too and say what they reverse in
//     the header text.
//   - InventoryAdjustment (adjustments and goods receipts), TransferOrder
//     and TransferReceipt: material documents (API_MATERIAL_DOCUMENT_SRV);
//     the movement types are explained at materialDocuments.
//   - InventoryCount, Fulfilment, OrderCancel: refused permanently with an
//     explanation. A count is an absolute quantity and SAP books it through
//     a physical inventory document (count, then post differences as
//     701/702); shipping or cancelling an online order is SAP's own
//     delivery and rejection process.
//
// Items carry the SKU as material number, the store's plant (setting
// plants) and the till's amount as a pricing condition written exactly
// (see pricing): money never passes through a float.
//
// # How it talks to SAP
//
// Basic authentication (or a bearer token); a CSRF token fetched from the
// service root and sent with the session cookies on every POST, fetched
// again once when SAP answers 403 "X-CSRF-Token: Required"; one $batch per
// service and call, with one change set per document so that documents
// succeed or fail independently; the answer parsed part by part with
// mime/multipart and net/http. Exactly-once delivery rests on
// Repeatability-Request-ID where the API honours it and on looking up the
// external reference before creating where it does not (see repeat.go).
//
// The package must not decide retries, rates or dead-lettering: it
// classifies (erp.Error) and the destination engine decides.
package sap
