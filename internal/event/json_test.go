package event_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

var (
	t0    = time.Date(2026, 11, 27, 9, 15, 0, 123456000, time.UTC) // event times have microsecond precision
	recvd = t0.Add(90 * time.Second)
)

func amt(a event.Amount) *event.Amount { return &a }
func yes(b bool) *bool                 { return &b }

// fullBodies has one body of every type with every field set, each valid.
func fullBodies() []event.Body {
	return []event.Body{
		&event.Sale{
			ReceiptNumber: "R-1001", Register: "r1", Cashier: "c7", Currency: "EUR", Notes: "gift wrap", OrderID: "web-77",
			Lines: []event.SaleLine{
				{LineID: "1", SKU: "JKT-M", Description: "Jacket M", Quantity: event.Units(2), UnitPrice: 12999,
					Discounts: []event.Discount{{Amount: 1000, Reason: "staff", Code: "ST10"}},
					Taxes:     []event.Tax{{Code: "VAT19", RateBP: 1900, Amount: 3991, Included: true}}},
				{LineID: "2", SKU: "APL-KG", Quantity: 1234, UnitPrice: 299, Amount: amt(369),
					Taxes: []event.Tax{{Code: "US-ST", RateBP: 725, Amount: 27}}},
			},
			// 2 × 129.99 − 10.00 + 3.69 + 0.27 (not included) = 253.94, tip on top.
			Tenders: []event.Tender{
				{Kind: event.TenderCard, Amount: 20000, Tip: 300, Reference: "auth-1",
					Card: &event.Card{Brand: "visa", Last4: "4242", AuthCode: "A1B2", Entry: "contactless"}},
				{Kind: event.TenderCash, Amount: 5394},
			},
		},
		&event.Return{
			OriginalEventID: "sale-1", OriginalReceipt: "R-1001", ReceiptNumber: "R-1002", Register: "r1", Cashier: "c7",
			Currency: "EUR", Reason: "too small", Notes: "tags on",
			Lines: []event.SaleLine{
				{SKU: "JKT-M", Quantity: event.Units(1), UnitPrice: 12999, Restock: yes(true)},
				{SKU: "MUG", Quantity: event.Units(1), UnitPrice: 500, Restock: yes(false)},
			},
			Tenders: []event.Tender{{Kind: event.TenderStoreCredit, Amount: 13499}},
		},
		&event.Void{VoidedEventID: "sale-1", Register: "r1", Cashier: "c7", Reason: "wrong item"},
		&event.Adjustment{Reason: "damaged", Notes: "water", Lines: []event.Line{{SKU: "JKT-M", Quantity: -1000}, {SKU: "MUG", Quantity: 2500}}},
		&event.Receipt{Supplier: "acme", PurchaseOrder: "PO-9", Lines: []event.Line{{SKU: "JKT-M", Quantity: event.Units(10)}}},
		&event.TransferOut{TransferID: "tr-1", ToLocation: "s2", Lines: []event.Line{{SKU: "JKT-M", Quantity: event.Units(3)}}},
		&event.TransferIn{TransferID: "tr-1", FromLocation: "wh", Lines: []event.Line{{SKU: "JKT-M", Quantity: event.Units(3)}}},
		&event.StockCount{CountID: "cycle-12", Lines: []event.Line{{SKU: "JKT-M", Quantity: event.Units(7)}, {SKU: "MUG", Quantity: 0}}},
		&event.DrawerCount{Register: "r1", Cashier: "c7", Currency: "EUR", Counted: 15020, Expected: amt(15000)},
		&event.OnlineOrder{OrderID: "web-77", Channel: "shopify", Currency: "EUR",
			Lines: []event.SaleLine{{SKU: "JKT-M", Quantity: event.Units(1), UnitPrice: 12999}}},
		&event.Fulfilment{OrderID: "web-77", FulfilmentID: "f-1", TrackingRef: "1Z999", Lines: []event.Line{{SKU: "JKT-M", Quantity: event.Units(1)}}},
		&event.OrderCancel{OrderID: "web-77", Reason: "customer asked"},
	}
}

// fullEvent wraps a body in an envelope with every field set.
func fullEvent(b event.Body) *event.Event {
	return &event.Event{
		ID: "ev-" + string(b.Type()), Type: b.Type(), Location: "s1", Source: "pos",
		OccurredAt: t0, Zone: "Europe/Berlin", ReceivedAt: recvd, StoreSeq: 17,
		Attributes: map[string]string{"vendor.till": "T-3"}, Body: b,
	}
}

func TestFullBodiesCoverEveryTypeAndAreValid(t *testing.T) {
	t.Parallel()
	bodies := fullBodies()
	if len(bodies) != len(event.Types) {
		t.Fatalf("%d bodies for %d types", len(bodies), len(event.Types))
	}
	for i, b := range bodies {
		if b.Type() != event.Types[i] {
			t.Errorf("body %d is a %s, want %s", i, b.Type(), event.Types[i])
		}
		if err := fullEvent(b).Validate(); err != nil {
			t.Errorf("%s: %v", b.Type(), err)
		}
	}
}

func TestEventJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for _, b := range fullBodies() {
		t.Run(string(b.Type()), func(t *testing.T) {
			t.Parallel()
			in := fullEvent(b)
			raw, err := json.Marshal(in)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			var out event.Event
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("unmarshal: %v\n%s", err, raw)
			}
			if !reflect.DeepEqual(in, &out) {
				t.Errorf("round trip changed the event:\n in  %+v\n out %+v\n%s", *in, out, raw)
			}
			again, err := json.Marshal(&out)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(raw) {
				t.Errorf("second marshal differs:\n%s\n%s", raw, again)
			}
		})
	}
}

func TestEventJSONTimesInUTC(t *testing.T) {
	t.Parallel()
	berlin, err := event.LoadZone("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	local := time.Date(2026, 11, 27, 10, 15, 0, 0, berlin)
	e := fullEvent(&event.Void{VoidedEventID: "sale-1"})
	e.OccurredAt, e.ReceivedAt = local, local.Add(time.Minute)
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"occurred_at":"2026-11-27T09:15:00Z"`, `"received_at":"2026-11-27T09:16:00Z"`, `"zone":"Europe/Berlin"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("%s does not contain %s", raw, want)
		}
	}

	// An offset on the wire is normalised to UTC; the zone is kept apart.
	out := decode(t, `{"id":"v1","type":"void","location":"s1","source":"pos",
		"occurred_at":"2026-11-27T10:15:00.5+01:00","zone":"America/New_York",
		"received_at":"2026-11-27T04:16:00-05:00","data":{"voided_event_id":"s-1"}}`)
	if want := time.Date(2026, 11, 27, 9, 15, 0, 5e8, time.UTC); out.OccurredAt != want {
		t.Errorf("occurred_at = %v, want %v", out.OccurredAt, want)
	}
	if want := time.Date(2026, 11, 27, 9, 16, 0, 0, time.UTC); out.ReceivedAt != want {
		t.Errorf("received_at = %v, want %v", out.ReceivedAt, want)
	}
	if out.Zone != "America/New_York" {
		t.Errorf("zone = %q", out.Zone)
	}
	if got := out.LocalTime().Format(time.RFC3339); got != "2026-11-27T04:15:00-05:00" {
		t.Errorf("LocalTime = %s", got)
	}

	// Without times, none are written.
	e.OccurredAt, e.ReceivedAt = time.Time{}, time.Time{}
	raw, err = json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "received_at") {
		t.Errorf("zero received_at written: %s", raw)
	}
}

func TestEventJSONDecodeErrors(t *testing.T) {
	t.Parallel()
	const env = `"id":"e1","location":"s1","source":"pos","occurred_at":"2026-11-27T09:00:00Z","zone":"UTC"`
	tests := []struct {
		name  string
		in    string
		field string
		rule  string
	}{
		{"malformed", `{"id":`, "", "json_syntax"},
		{"malformed in data", `{` + env + `,"type":"void","data":{"voided_event_id":}}`, "", "json_syntax"},
		{"not an object", `[1,2]`, "", "json_type"},
		{"trailing value", `{` + env + `,"type":"void","data":{"voided_event_id":"s1"}} {}`, "", "json"},
		{"trailing brace", `{` + env + `,"type":"void","data":{"voided_event_id":"s1"}}}`, "", "json"},
		{"trailing bracket", `{` + env + `,"type":"void","data":{"voided_event_id":"s1"}}]`, "", "json"},
		{"missing type", `{` + env + `,"data":{}}`, "type", "required"},
		{"unknown type", `{` + env + `,"type":"layaway","data":{}}`, "type", "known_type"},
		{"type case", `{` + env + `,"type":"Sale","data":{}}`, "type", "known_type"},
		{"missing data", `{` + env + `,"type":"void"}`, "data", "required"},
		{"null data", `{` + env + `,"type":"void","data":null}`, "data", "required"},
		{"unknown field", `{` + env + `,"type":"void","colour":"red","data":{"voided_event_id":"s1"}}`, "colour", "known_field"},
		{"unknown data field", `{` + env + `,"type":"void","data":{"voided_event_id":"s1","colour":"red"}}`, "data.colour", "known_field"},
		{"unknown line field", `{` + env + `,"type":"receipt","data":{"lines":[{"sku":"A","quantity":1},{"sku":"B","qty":1}]}}`,
			"data.lines[1].qty", "known_field"},
		{"unknown tender card field", `{` + env + `,"type":"sale","data":{"currency":"EUR","lines":[],
			"tenders":[{"kind":"card","amount":0,"card":{"pan":"4111111111111111"}}]}}`, "data.tenders[0].card.pan", "known_field"},
		{"data of another type", `{` + env + `,"type":"void","data":{"lines":[]}}`, "data.lines", "known_field"},
		{"id wrong kind", `{` + env + `,"id":5,"type":"void","data":{"voided_event_id":"s1"}}`, "id", "json_type"},
		{"store_seq wrong kind", `{` + env + `,"store_seq":"7","type":"void","data":{"voided_event_id":"s1"}}`, "store_seq", "json_type"},
		{"store_seq fraction", `{` + env + `,"store_seq":1.5,"type":"void","data":{"voided_event_id":"s1"}}`, "store_seq", "json_type"},
		{"attribute wrong kind", `{` + env + `,"attributes":{"a":1},"type":"void","data":{"voided_event_id":"s1"}}`, "attributes.a", "json_type"},
		{"type wrong kind", `{` + env + `,"type":7,"data":{}}`, "type", "json_type"},
		{"data wrong kind", `{` + env + `,"type":"void","data":"s1"}`, "data", "json_type"},
		{"data array", `{` + env + `,"type":"void","data":[]}`, "data", "json_type"},
		{"data field wrong kind", `{` + env + `,"type":"void","data":{"voided_event_id":7}}`, "data.voided_event_id", "json_type"},
		{"lines wrong kind", `{` + env + `,"type":"receipt","data":{"lines":{"sku":"A"}}}`, "data.lines", "json_type"},
		{"line wrong kind", `{` + env + `,"type":"receipt","data":{"lines":[{"sku":"A","quantity":1},"B"]}}`, "data.lines[1]", "json_type"},
		{"sku wrong kind", `{` + env + `,"type":"receipt","data":{"lines":[{"sku":"A","quantity":1},{"sku":2,"quantity":1}]}}`,
			"data.lines[1].sku", "json_type"},
		{"restock wrong kind", `{` + env + `,"type":"return","data":{"currency":"EUR","lines":[{"sku":"A","quantity":1,"unit_price":1,"restock":"no"}],"tenders":[]}}`,
			"data.lines[0].restock", "json_type"},
		{"bad occurred_at", `{"id":"e1","location":"s1","source":"pos","occurred_at":"2026-11-27 09:00","zone":"UTC","type":"void","data":{"voided_event_id":"s1"}}`,
			"occurred_at", "rfc3339"},
		{"occurred_at without offset", `{"id":"e1","location":"s1","source":"pos","occurred_at":"2026-11-27T09:00:00","zone":"UTC","type":"void","data":{"voided_event_id":"s1"}}`,
			"occurred_at", "rfc3339"},
		{"bad received_at", `{` + env + `,"received_at":"yesterday","type":"void","data":{"voided_event_id":"s1"}}`, "received_at", "rfc3339"},
		{"occurred_at before year 1 in UTC", `{"id":"e1","location":"s1","source":"pos","occurred_at":"0000-01-01T00:00:00+01:00","zone":"UTC","type":"void","data":{"voided_event_id":"s1"}}`,
			"occurred_at", "rfc3339"},
		{"received_at after year 9999 in UTC", `{` + env + `,"received_at":"9999-12-31T23:30:00-01:00","type":"void","data":{"voided_event_id":"s1"}}`,
			"received_at", "rfc3339"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// UnmarshalJSON directly: json.Unmarshal checks the syntax of the
			// whole input before the method sees it.
			var e event.Event
			err := e.UnmarshalJSON([]byte(tt.in))
			assertDecodeError(t, err, tt.field, tt.rule)
			if tt.rule != "json_syntax" && !strings.HasPrefix(tt.name, "trailing") {
				err = json.Unmarshal([]byte(tt.in), &e)
				assertDecodeError(t, err, tt.field, tt.rule)
			}
		})
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	t.Parallel()
	var e event.Event
	err := e.UnmarshalJSON([]byte(`{"type":"void","data":{"voided_event_id":"s1","colour":"red"}}`))
	if got, want := err.Error(), `data.colour: is not a field of this event (put vendor extras in "attributes")`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	err = e.UnmarshalJSON([]byte(`{"id":`))
	if !strings.HasPrefix(err.Error(), "malformed JSON") {
		t.Errorf("Error() = %q, want it to start with \"malformed JSON\"", err)
	}
}

// TestEventJSONLeavesValueChecksToValidate checks that values of the right
// JSON kind but the wrong content decode, so that Validate can name them.
func TestEventJSONLeavesValueChecksToValidate(t *testing.T) {
	t.Parallel()
	e := decode(t, `{"id":"bad id","type":"receipt","location":"s1","source":"pos","zone":"Mars/Olympus",
		"data":{"lines":[{"sku":"A","quantity":"lots"}]}}`)
	assertProblems(t, e.Validate(),
		problem{"id", "id_charset"}, problem{"occurred_at", "required"}, problem{"zone", "iana_zone"},
		problem{"data.lines[0].quantity", "decimal"})
}

func TestTimesKeepMicrosecondPrecision(t *testing.T) {
	t.Parallel()
	in := `{"id":"p1","type":"void","location":"s1","source":"pos","occurred_at":"2026-11-27T10:15:00.123456789+01:00","zone":"Europe/Berlin","data":{"voided_event_id":"x"}}`
	var e event.Event
	if err := json.Unmarshal([]byte(in), &e); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 27, 9, 15, 0, 123456000, time.UTC)
	if !e.OccurredAt.Equal(want) {
		t.Fatalf("occurred_at %v, want %v (cut to microseconds, in UTC)", e.OccurredAt, want)
	}
	nanos := e
	nanos.OccurredAt = nanos.OccurredAt.Add(789 * time.Nanosecond)
	if nanos.Fingerprint() != e.Fingerprint() {
		t.Fatal("nanoseconds below the precision changed the fingerprint")
	}
}
