package stripe

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tillsync/tillsync/internal/settlement"
)

// BenchmarkParse parses an itemized report in the shape tillsync bench
// reconcile writes (the columns of the full export); ns/op is per row.
func BenchmarkParse(b *testing.B) {
	const rows = 10_000
	var buf bytes.Buffer
	buf.WriteString("automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,created,available_on_utc,available_on,currency,gross,fee,net,reporting_category,source_id,description,customer_facing_amount,customer_facing_currency,customer_id,customer_email,charge_id,payment_intent_id,invoice_id,payment_method_type,card_brand,card_funding,card_country,statement_descriptor,dispute_reason,payment_metadata[order_id],payment_metadata[store]\n")
	for i := range rows {
		fmt.Fprintf(&buf, "po_%d,2026-03-04 00:00:00,txn_%08d,2026-03-02 14:05:11,2026-03-02 15:05:11,2026-03-04 00:00:00,2026-03-04 01:00:00,eur,%d.50,0.64,%d.86,charge,ch_%08d,Order %d,,,,,ch_%08d,pi_%d,,card_present,visa,credit,DE,TILLSYNC,,%d,42\n",
			i/500, i, 40+i%50, 39+i%50, i, i, i, i, i)
	}
	data := buf.Bytes()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p := Parser{File: "bench.csv"}
		n := 0
		if _, err := p.Parse(bytes.NewReader(data), func(settlement.Transaction) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != rows {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}
