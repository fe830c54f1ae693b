package recbench

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/reconcile"
	"github.com/tillsync/tillsync/internal/settlement"
)

// Data says what Generate writes.
type Data struct {
	Tenders int // card tenders in the tenders file
	Lines   int // lines in the settlement report
	Stores  int
	Days    int
	// MissingRefPct is the share of settlement lines without the payment
	// reference, in percent.
	MissingRefPct int
	Seed          uint64
}

// Files are what Generate wrote.
type Files struct {
	Tenders, Settlement string
	Lines               int // lines written
	TenderBytes         int64
	SettlementBytes     int64
	// Expected counts, for checking the engine.
	Unsettled    int // tenders with no line (the report is short of them)
	Orphans      int // payment lines with no tender
	MissingRefs  int // lines without a payment reference
	Batches      int
	FeeLines     int
	RefundLines  int
	SplitTenders int
	Tips         int
}

var start = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// stripeHeader is the itemized payout reconciliation report's columns that
// matching reads.
const stripeHeader = "automatic_payout_id,balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id,card_last4\n"

// Generate writes tenders.csv and settlement.csv in dir: d.Tenders tenders
// of d.Stores stores over d.Days days, and exactly d.Lines report lines:
// one per tender (charge or refund, its fee in the line), a fee line in
// every other batch, a payout closing each store-day batch, and a few
// payments no till took; the tenders the report has no room for are left
// unsettled.
func Generate(dir string, d Data) (Files, error) {
	f := Files{Tenders: filepath.Join(dir, "tenders.csv"), Settlement: filepath.Join(dir, "settlement.csv")}
	rng := rand.New(rand.NewPCG(d.Seed, d.Seed^0x9e3779b97f4a7c15)) //nolint:gosec // G404: synthetic data, not secrets
	f.Batches = d.Stores * d.Days
	f.FeeLines = f.Batches / 2
	f.Orphans = d.Lines / 4000
	charges := d.Lines - f.Batches - f.FeeLines - f.Orphans
	if charges <= 0 || charges > d.Tenders {
		return f, fmt.Errorf("recbench: %d lines cannot hold %d batches (payout and fee lines) and tenders' lines; give more lines or fewer stores and days", d.Lines, f.Batches)
	}
	f.Unsettled = d.Tenders - charges

	tf, err := os.Create(f.Tenders)
	if err != nil {
		return f, err
	}
	defer func() { _ = tf.Close() }()
	sf, err := os.Create(f.Settlement)
	if err != nil {
		return f, err
	}
	defer func() { _ = sf.Close() }()
	tw, err := reconcile.NewTenderWriter(tf)
	if err != nil {
		return f, err
	}
	sw := bufio.NewWriterSize(sf, 256<<10)
	if _, err := io.WriteString(sw, stripeHeader); err != nil {
		return f, err
	}

	perBatch := d.Tenders / f.Batches
	extra := d.Tenders % f.Batches
	unsettledEvery := 0
	if f.Unsettled > 0 {
		unsettledEvery = d.Tenders / f.Unsettled
	}
	unsettledLeft := f.Unsettled
	orphanEvery := charges / max(f.Orphans, 1)
	n, txn, orphans := 0, 0, 0
	var row []byte
	for b := 0; b < f.Batches; b++ {
		store, dayN := b%d.Stores, b/d.Stores
		loc := fmt.Sprintf("store-%03d", store)
		po := fmt.Sprintf("po_%03d_%02d", store, dayN)
		date := start.AddDate(0, 0, dayN)
		payoutDay := date.AddDate(0, 0, 2)
		count := perBatch
		if b < extra {
			count++
		}
		var net event.Amount
		ev := ""
		for k := 0; k < count; k++ {
			n++
			at := date.Add(time.Duration(7*3600+rng.IntN(13*3600)) * time.Second)
			t := reconcile.Tender{Location: loc, Zone: "Europe/Berlin", Processor: "stripe", At: at, Currency: "EUR",
				Amount: event.Amount(100 + rng.IntN(20000)), Last4: fmt.Sprintf("%04d", rng.IntN(10000)),
				AuthCode: strconv.FormatUint(uint64(rng.Uint32()), 36)}
			split := ev != "" && rng.IntN(100) < 3
			if split {
				t.Event, t.Index = ev, 1 // the second card of a split payment
				f.SplitTenders++
			} else {
				ev = fmt.Sprintf("s%03d-%07d", store, n)
				t.Event = ev
			}
			refund := !split && rng.IntN(100) < 2
			kind := "charge"
			if refund {
				t.Amount = -t.Amount
				t.Reference = fmt.Sprintf("re_%016x", rng.Uint64())
				kind = "refund"
				f.RefundLines++
			} else {
				t.Reference = fmt.Sprintf("ch_%016x", rng.Uint64())
				if rng.IntN(100) < 10 {
					t.Tip = event.Amount(rng.IntN(500) + 50)
					f.Tips++
				}
			}
			if err := tw.Write(&t); err != nil {
				return f, err
			}
			if unsettledLeft > 0 && unsettledEvery > 0 && n%unsettledEvery == 0 {
				unsettledLeft--
				continue // the report never has it
			}
			gross := t.Total()
			var fee event.Amount
			if !refund {
				fee = gross*14/1000 + 25
			}
			source := t.Reference
			if rng.IntN(100) < d.MissingRefPct {
				source = ""
				f.MissingRefs++
			}
			created := at.Add(time.Duration(rng.IntN(600)) * time.Second)
			txn++
			row = stripeRow(row[:0], po, txn, created, payoutDay, gross, fee, kind, source, t.Last4)
			if _, err := sw.Write(row); err != nil {
				return f, err
			}
			net += gross - fee
			if orphanEvery > 0 && txn%orphanEvery == 0 && orphans < f.Orphans {
				txn++
				orphans++
				orphan := event.Amount(500 + rng.IntN(5000))
				row = stripeRow(row[:0], po, txn, created, payoutDay, orphan, 0, "charge", fmt.Sprintf("ch_orphan%08d", txn), "0000")
				if _, err := sw.Write(row); err != nil {
					return f, err
				}
				net += orphan
			}
		}
		if b%2 == 0 {
			txn++
			row = stripeRow(row[:0], po, txn, date.Add(23*time.Hour), payoutDay, -150, 0, "network_cost", "", "")
			if _, err := sw.Write(row); err != nil {
				return f, err
			}
			net -= 150
		}
		txn++
		row = stripeRow(row[:0], po, txn, payoutDay, payoutDay, -net, 0, "payout", po, "")
		if _, err := sw.Write(row); err != nil {
			return f, err
		}
	}
	f.Orphans = orphans
	f.Unsettled -= unsettledLeft
	f.Lines = txn
	if err := tw.Flush(); err != nil {
		return f, err
	}
	if err := sw.Flush(); err != nil {
		return f, err
	}
	if st, err := tf.Stat(); err == nil {
		f.TenderBytes = st.Size()
	}
	if st, err := sf.Stat(); err == nil {
		f.SettlementBytes = st.Size()
	}
	return f, nil
}

func stripeRow(b []byte, po string, txn int, created, avail time.Time, gross, fee event.Amount, cat, source, last4 string) []byte {
	b = append(b, po...)
	b = append(b, ",txn_"...)
	b = strconv.AppendInt(b, int64(txn), 10)
	b = append(b, ',')
	b = created.AppendFormat(b, "2006-01-02 15:04:05")
	b = append(b, ',')
	b = avail.AppendFormat(b, "2006-01-02 15:04:05")
	b = append(b, ",eur,"...)
	b = append(b, settlement.FormatMinor(int64(gross), 2)...)
	b = append(b, ',')
	b = append(b, settlement.FormatMinor(int64(fee), 2)...)
	b = append(b, ',')
	b = append(b, settlement.FormatMinor(int64(gross-fee), 2)...)
	b = append(b, ',')
	b = append(b, cat...)
	b = append(b, ',')
	b = append(b, source...)
	b = append(b, ',')
	b = append(b, last4...)
	return append(b, '\n')
}
