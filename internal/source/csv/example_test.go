package csv_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/source/csv"
)

type printer struct{}

func (printer) Submit(_ context.Context, evs []*event.Event) ([]intake.Outcome, error) {
	out := make([]intake.Outcome, len(evs))
	for i, e := range evs {
		s := e.Body.(*event.Sale)
		fmt.Println(e.Type, e.Location, e.OccurredAt, s.ReceiptNumber, len(s.Lines), s.Tenders[0].Kind, s.Tenders[0].Amount)
		out[i] = intake.Outcome{Status: intake.StatusAccepted}
	}
	return out, nil
}

func ExampleWatcher_Ingest() {
	root, err := os.MkdirTemp("", "csv-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)
	w := &csv.Watcher{
		Dir: filepath.Join(root, "in"), Done: filepath.Join(root, "done"), Failed: filepath.Join(root, "failed"),
		Submit: printer{},
		Mapping: csv.Mapping{
			Columns: csv.Columns{Receipt: "Beleg", Timestamp: "Datum", SKU: "Artikel", Quantity: "Menge", UnitPrice: "Preis"},
			// A European export: semicolons, decimal commas.
			DecimalComma: true, Location: "berlin", Zone: "Europe/Berlin", Currency: "EUR",
		},
	}
	_ = os.MkdirAll(w.Dir, 0o750)
	file := filepath.Join(w.Dir, "kasse.csv")
	_ = os.WriteFile(file, []byte("\ufeffBeleg;Datum;Artikel;Menge;Preis\r\n4711;27.11.2026 09:05;KAFFEE;2;7,99\r\n4711;27.11.2026 09:05;TASSE;1;12,50\r\n"), 0o600)
	res, err := w.Ingest(context.Background(), file)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Events, "event(s),", res.Accepted, "accepted")
	_, err = os.Stat(filepath.Join(w.Done, "kasse.csv"))
	fmt.Println("moved to done:", err == nil)
	// Output:
	// sale berlin 2026-11-27 08:05:00 +0000 UTC 4711 2 cash 2848
	// 1 event(s), 1 accepted
	// moved to done: true
}
