package inventory

import (
	"github.com/tillsync/tillsync/internal/event"
)

// Refs is what a partial ledger needs loaded before keys can be known: the
// documents events refer to, the targets voids refer to, and the void marks
// that may already exist for incoming sales, returns and void targets.
type Refs struct {
	Docs      []DocRef
	Targets   []string // event IDs of void targets
	VoidMarks []string // event IDs whose void mark, if any, must be loaded
}

// RefsOf lists the documents and events a batch refers to.
func RefsOf(events []*event.Event) Refs {
	var r Refs
	seenDoc := map[DocRef]bool{}
	doc := func(k DocKind, id string) {
		ref := DocRef{k, id}
		if !seenDoc[ref] {
			seenDoc[ref] = true
			r.Docs = append(r.Docs, ref)
		}
	}
	for _, e := range events {
		switch b := e.Body.(type) {
		case *event.Sale:
			r.VoidMarks = append(r.VoidMarks, e.ID)
			if b.OrderID != "" {
				doc(DocOrder, b.OrderID)
			}
		case *event.Return:
			r.VoidMarks = append(r.VoidMarks, e.ID)
		case *event.Void:
			r.Targets = append(r.Targets, b.VoidedEventID)
			r.VoidMarks = append(r.VoidMarks, b.VoidedEventID)
		case *event.TransferOut:
			doc(DocTransfer, b.TransferID)
		case *event.TransferIn:
			doc(DocTransfer, b.TransferID)
		case *event.OnlineOrder:
			doc(DocOrder, b.OrderID)
		case *event.Fulfilment:
			doc(DocOrder, b.OrderID)
		case *event.OrderCancel:
			doc(DocOrder, b.OrderID)
		}
	}
	return r
}

// Touched lists every position a batch may read or write, and every stock
// count whose later movements must be summed. Call it on a partial ledger
// after its Refs are loaded.
func (l *Ledger) Touched(events []*event.Event) ([]Key, []KeyTime) {
	keys := map[Key]bool{}
	var counts []KeyTime
	add := func(sku, loc string) {
		if loc != "" {
			keys[Key{sku, loc}] = true
		}
	}
	addLines := func(loc string, lines []event.Line) {
		for _, ln := range lines {
			add(ln.SKU, loc)
		}
	}
	addSale := func(loc string, lines []event.SaleLine) {
		for _, ln := range lines {
			add(ln.SKU, loc)
		}
	}
	// docKeys notes the SKUs and locations an event gives a document. A
	// document's location and lines can change more than once in one batch
	// (a transfer-in names a location before its transfer-out names another),
	// so once the batch is seen every location the document may have is
	// crossed with every SKU it may hold, stored ones included.
	type docTouch struct{ locs, skus map[string]bool }
	touched := map[DocRef]*docTouch{}
	docKeys := func(r DocRef, loc string, skus []string) {
		dt := touched[r]
		if dt == nil {
			dt = &docTouch{locs: map[string]bool{}, skus: map[string]bool{}}
			if d := l.docs[r]; d != nil {
				dt.locs[d.Location] = true
				for sku := range d.Lines {
					dt.skus[sku] = true
				}
			}
			touched[r] = dt
		}
		dt.locs[loc] = true
		for _, sku := range skus {
			dt.skus[sku] = true
		}
	}
	skusOf := func(lines []event.Line) []string {
		out := make([]string, len(lines))
		for i, ln := range lines {
			out[i] = ln.SKU
		}
		return out
	}
	saleSKUs := func(lines []event.SaleLine) []string {
		out := make([]string, len(lines))
		for i, ln := range lines {
			out[i] = ln.SKU
		}
		return out
	}
	for _, e := range events {
		switch b := e.Body.(type) {
		case *event.Sale:
			addSale(e.Location, b.Lines)
			if b.OrderID != "" {
				docKeys(DocRef{DocOrder, b.OrderID}, "", saleSKUs(b.Lines))
			}
		case *event.Return:
			addSale(e.Location, b.Lines)
		case *event.Void:
			if t := l.targets[b.VoidedEventID]; t != nil {
				switch tb := t.Body.(type) {
				case *event.Sale:
					addSale(t.Location, tb.Lines)
				case *event.Return:
					addSale(t.Location, tb.Lines)
				}
			}
		case *event.Adjustment:
			addLines(e.Location, b.Lines)
		case *event.Receipt:
			addLines(e.Location, b.Lines)
		case *event.TransferOut:
			addLines(e.Location, b.Lines)
			docKeys(DocRef{DocTransfer, b.TransferID}, b.ToLocation, skusOf(b.Lines))
		case *event.TransferIn:
			addLines(e.Location, b.Lines)
			docKeys(DocRef{DocTransfer, b.TransferID}, e.Location, skusOf(b.Lines))
		case *event.StockCount:
			addLines(e.Location, b.Lines)
			for _, ln := range b.Lines {
				counts = append(counts, KeyTime{Key{ln.SKU, e.Location}, e.OccurredAt})
			}
		case *event.OnlineOrder:
			addSale(e.Location, b.Lines)
			docKeys(DocRef{DocOrder, b.OrderID}, e.Location, saleSKUs(b.Lines))
		case *event.Fulfilment:
			addLines(e.Location, b.Lines)
			docKeys(DocRef{DocOrder, b.OrderID}, "", skusOf(b.Lines))
		case *event.OrderCancel:
			docKeys(DocRef{DocOrder, b.OrderID}, "", nil)
		}
	}
	for _, dt := range touched {
		for loc := range dt.locs {
			for sku := range dt.skus {
				add(sku, loc)
			}
		}
	}
	out := make([]Key, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	return out, counts
}
