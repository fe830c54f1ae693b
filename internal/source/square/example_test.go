package square_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/source/square"
)

func ExampleSign() {
	// Square's own test vector: the signature covers the subscription's
	// notification URL followed by the raw body.
	body := []byte(`{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}`)
	url := "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
	sig := square.Sign("Ibxx_5AKakO-3qeNVR61Dw", url, body)
	fmt.Println(sig)
	fmt.Println(square.Verify([]string{"Ibxx_5AKakO-3qeNVR61Dw"}, url, body, sig))
	fmt.Println(square.Verify([]string{"Ibxx_5AKakO-3qeNVR61Dw"}, url+"/", body, sig))
	// Output:
	// GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=
	// true
	// false
}

// printer is a Submitter that prints what it is given.
type printer struct{}

func (printer) Submit(_ context.Context, evs []*event.Event) ([]intake.Outcome, error) {
	out := make([]intake.Outcome, len(evs))
	for i, e := range evs {
		fmt.Println(e.Type, e.ID, e.Location, e.Body.(*event.StockCount).Lines[0].Quantity)
		out[i] = intake.Outcome{Status: intake.StatusAccepted, Seq: int64(i + 1)}
	}
	return out, nil
}

func ExampleNewHandler() {
	cfg := square.Config{
		Name:            "main",
		SignatureKeys:   []string{"signature-key-from-the-developer-console"},
		NotificationURL: "https://hub.example.com/v1/sources/square/main",
		AccessToken:     "EAAA…",
		Locations:       map[string]string{"YYQR03DGCTXA4": "store-oakland"},
		Zone:            "America/Los_Angeles",
		Currency:        "USD",
	}
	h, err := square.NewHandler(cfg, square.Deps{Submit: printer{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	body := []byte(`{"merchant_id":"6SSW7HV8K2ST5","type":"inventory.count.updated","event_id":"df5f3813-a913-45a1-94e9-fdc3f7d5e3b6",` +
		`"created_at":"2019-10-29T18:38:45.455006797Z","data":{"type":"inventory","id":"84e4ac73-d605-4dbd-a9e5-ffff794ddb9d",` +
		`"object":{"inventory_counts":[{"calculated_at":"2019-10-29T18:38:45.10296Z","catalog_object_id":"FGQ5JJWT2PYTHF35CKZ2DSKP",` +
		`"catalog_object_type":"ITEM_VARIATION","location_id":"YYQR03DGCTXA4","quantity":"10","state":"IN_STOCK"}]}}}`)
	r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/v1/sources/square/main", bytes.NewReader(body))
	r.Header.Set(square.SignatureHeader, square.Sign(cfg.SignatureKeys[0], cfg.NotificationURL, body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output:
	// stock_count square:inventory:FGQ5JJWT2PYTHF35CKZ2DSKP:YYQR03DGCTXA4:2019-10-29T18:38:45.102960Z store-oakland 10
	// 200
}
