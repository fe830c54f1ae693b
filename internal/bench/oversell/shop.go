package oversell

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/tillsync/tillsync/internal/sim/shopifyadmin"
)

// The GraphQL documents sent to the simulated shop, as the Shopify channel
// destination sends them (internal/channel/shopify): every input travels as
// a variable.
const (
	shopToken   = "shpat_oversell" //nolint:gosec // the simulated shop's token, not a credential
	shopVersion = "2026-10"
	setDoc      = `mutation SetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) { userErrors { code field message } }
}`
	readDoc = `query ReadAvailable($item0: ID!, $location0: ID!) {
  l0: inventoryItem(id: $item0) { id inventoryLevel(locationId: $location0) { quantities(names: ["available"]) { name quantity } } }
}`
)

// maxQuantities is the most quantities one inventorySetQuantities carries.
const maxQuantities = 250

// shop is a simulated Shopify shop (internal/sim/shopifyadmin) on the
// simulation's clock, spoken to in GraphQL through its HTTP handler
// in-process: the bucket, the compare-and-set check and the levels are the
// simulator's own.
type shop struct {
	sim   *shopifyadmin.Server
	path  string
	items []string // by SKU index
	locs  []string // by store index

	requests, throttled, stale int64
	points                     float64
}

// quantity is one level to write: the value, and the value it must replace
// (nil: no check, a blind overwrite).
type quantity struct {
	level   int
	qty     int64
	compare *int64
}

// errThrottled is a request the shop refused for cost; wait says how long
// until the bucket holds its cost again.
type errThrottled struct{ wait float64 }

func (e errThrottled) Error() string { return fmt.Sprintf("throttled: retry in %.2fs", e.wait) }

type gqlAnswer struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Extensions struct {
		Cost struct {
			RequestedQueryCost int  `json:"requestedQueryCost"`
			ActualQueryCost    *int `json:"actualQueryCost"`
			ThrottleStatus     struct {
				CurrentlyAvailable float64 `json:"currentlyAvailable"`
				RestoreRate        float64 `json:"restoreRate"`
			} `json:"throttleStatus"`
		} `json:"cost"`
	} `json:"extensions"`
}

func (s *shop) post(query string, vars map[string]any) (*gqlAnswer, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, s.path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", shopToken)
	rec := httptest.NewRecorder()
	s.sim.ServeHTTP(rec, req)
	s.requests++
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("shop answered HTTP %d: %s", rec.Code, rec.Body.String())
	}
	var a gqlAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		return nil, fmt.Errorf("shop answer: %w", err)
	}
	if len(a.Errors) > 0 {
		if a.Errors[0].Extensions["code"] == "THROTTLED" {
			s.throttled++
			ts := a.Extensions.Cost.ThrottleStatus
			return nil, errThrottled{wait: max(0.001, (float64(a.Extensions.Cost.RequestedQueryCost)-ts.CurrentlyAvailable)/ts.RestoreRate)}
		}
		return nil, fmt.Errorf("shop refused the request: %s", a.Errors[0].Message)
	}
	if c := a.Extensions.Cost.ActualQueryCost; c != nil {
		s.points += float64(*c)
	}
	return &a, nil
}

// set writes quantities in one inventorySetQuantities and returns which of
// them failed their compare (then nothing was written: the mutation is all
// or nothing).
func (s *shop) set(qs []quantity, stores int) (stale []int, err error) {
	entries := make([]map[string]any, len(qs))
	for i, q := range qs {
		e := map[string]any{"inventoryItemId": s.items[q.level/stores], "locationId": s.locs[q.level%stores], "quantity": q.qty}
		if q.compare != nil {
			e["changeFromQuantity"] = *q.compare
		} else {
			e["changeFromQuantity"] = nil
		}
		entries[i] = e
	}
	a, err := s.post(setDoc, map[string]any{"input": map[string]any{"name": "available", "reason": "correction", "quantities": entries}})
	if err != nil {
		return nil, err
	}
	var payload struct {
		UserErrors []struct {
			Code  string   `json:"code"`
			Field []string `json:"field"`
		} `json:"userErrors"`
	}
	if err := json.Unmarshal(a.Data["inventorySetQuantities"], &payload); err != nil {
		return nil, fmt.Errorf("inventorySetQuantities answer: %w", err)
	}
	for _, ue := range payload.UserErrors {
		if ue.Code != "CHANGE_FROM_QUANTITY_STALE" || len(ue.Field) < 3 {
			return nil, fmt.Errorf("inventorySetQuantities refused: %s at %v", ue.Code, ue.Field)
		}
		var i int
		if _, err := fmt.Sscan(ue.Field[2], &i); err != nil || i < 0 || i >= len(qs) {
			return nil, fmt.Errorf("inventorySetQuantities: stale error at unknown field %v", ue.Field)
		}
		stale = append(stale, i)
		s.stale++
	}
	return stale, nil
}

// read reads one level's available quantity.
func (s *shop) read(level, stores int) (int64, error) {
	a, err := s.post(readDoc, map[string]any{"item0": s.items[level/stores], "location0": s.locs[level%stores]})
	if err != nil {
		return 0, err
	}
	var l0 struct {
		InventoryLevel *struct {
			Quantities []struct {
				Name     string `json:"name"`
				Quantity int64  `json:"quantity"`
			} `json:"quantities"`
		} `json:"inventoryLevel"`
	}
	if err := json.Unmarshal(a.Data["l0"], &l0); err != nil {
		return 0, fmt.Errorf("inventoryItem answer: %w", err)
	}
	if l0.InventoryLevel == nil || len(l0.InventoryLevel.Quantities) == 0 {
		return 0, errors.New("inventoryItem answer: level not stocked")
	}
	return l0.InventoryLevel.Quantities[0].Quantity, nil
}
