package shopify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/source/shopify"
)

// printer is a Submitter that prints what it is given.
type printer struct{}

func (printer) Submit(_ context.Context, es []*event.Event) ([]intake.Outcome, error) {
	out := make([]intake.Outcome, len(es))
	for i, e := range es {
		fmt.Println(e.Type, e.ID, e.Location)
		out[i] = intake.Outcome{Status: intake.StatusAccepted, Seq: int64(i + 1)}
	}
	return out, nil
}

func Example() {
	h, err := shopify.NewHandler(shopify.Config{
		Shop:            "tillsync-demo.myshopify.com",
		Secrets:         []string{"shpss_current", "shpss_previous"},
		Locations:       map[string]string{"24826418": "store-berlin"},
		DefaultLocation: "web-dc",
		Zone:            "Europe/Berlin",
	}, shopify.Deps{Submit: printer{}})
	if err != nil {
		panic(err)
	}
	body := `{"inventory_item_id": 271878346596884015, "location_id": 24826418, "available": 6,
	          "updated_at": "2026-11-27T10:16:02+01:00"}`
	send := func(topic, body string) {
		r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/v1/sources/shopify/tillsync-demo", strings.NewReader(body))
		r.Header.Set(shopify.HeaderTopic, topic)
		r.Header.Set(shopify.HeaderShopDomain, "tillsync-demo.myshopify.com")
		r.Header.Set(shopify.HeaderHMAC, shopify.Sign("shpss_previous", []byte(body)))
		r.Header.Set(shopify.HeaderTriggeredAt, time.Now().UTC().Format(time.RFC3339))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Body.String())
	}
	send(shopify.TopicInventoryItemsUpdate, `{"id": 271878346596884015, "sku": "SCARF-RED"}`)
	send(shopify.TopicInventoryLevelsUpdate, body)
	// Output:
	// 200 {"status":"ignored","topic":"inventory_items/update","reason":"learned SKU \"SCARF-RED\" of inventory item 271878346596884015"}
	// stock_count shopify:tillsync-demo:inventory:271878346596884015:24826418:2026-11-27T09:16:02Z store-berlin
	// 200 {"status":"accepted","topic":"inventory_levels/update","events":[{"id":"shopify:tillsync-demo:inventory:271878346596884015:24826418:2026-11-27T09:16:02Z","type":"stock_count","status":"accepted","seq":1}]}
}
