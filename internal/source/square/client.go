package square

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/retryafter"
)

// APIError is an error answer of Square's API: the HTTP status and the
// first entry of its errors array
// (https://developer.squareup.com/docs/build-basics/handling-errors).
type APIError struct {
	Status   int
	Category string
	Code     string
	Detail   string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("square API: HTTP %d %s/%s: %s", e.Status, e.Category, e.Code, e.Detail)
}

// retryable: rate limited (429 RATE_LIMITED) or a server error. Square asks
// for retries with exponential back-off and jitter on both
// (https://developer.squareup.com/reference/square/objects/ErrorCategory).
func (e *APIError) retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// client calls RetrieveOrder through a governor.
type client struct {
	base, token, version string
	http                 *http.Client
	gov                  *destination.Governor
	backoff              destination.Backoff
	attempts             int
}

// maxOrderBytes bounds an order response.
const maxOrderBytes = 8 << 20

// retrieveOrder fetches an order: GET /v2/orders/{order_id} with the
// bearer token and Square-Version
// (https://developer.squareup.com/reference/square/orders-api/retrieve-order),
// retrying 429s and 5xx with back-off (or Square's Retry-After).
func (c *client) retrieveOrder(ctx context.Context, id string) (*order, error) {
	var last error
	for attempt := range c.attempts {
		o, wait, err := c.try(ctx, id)
		if err == nil {
			return o, nil
		}
		last = err
		var ae *APIError
		if errors.As(err, &ae) && !ae.retryable() {
			return nil, err
		}
		if ctx.Err() != nil || attempt == c.attempts-1 {
			break
		}
		if wait <= 0 {
			wait = c.backoff.Delay(attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("retrieve order %s: %w (last: %w)", id, ctx.Err(), last)
		case <-t.C:
		}
	}
	return nil, fmt.Errorf("retrieve order %s: %w", id, last)
}

// try makes one call; wait is Square's Retry-After, if it sent one.
func (c *client) try(ctx context.Context, id string) (o *order, wait time.Duration, err error) {
	p, err := c.gov.Acquire(ctx, erp.LaneStock)
	if err != nil {
		return nil, 0, err
	}
	outcome := destination.Failed
	defer func() { p.Release(outcome, wait) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v2/orders/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Square-Version", c.version)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOrderBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("read order %s: %w", id, err)
	}
	if len(body) > maxOrderBytes {
		outcome = destination.Done
		return nil, 0, fmt.Errorf("order %s: response over %d bytes", id, maxOrderBytes)
	}
	var out struct {
		Order  *order `json:"order"`
		Errors []struct {
			Category string `json:"category"`
			Code     string `json:"code"`
			Detail   string `json:"detail"`
		} `json:"errors"`
	}
	jsonErr := json.Unmarshal(body, &out)
	if resp.StatusCode != http.StatusOK {
		ae := &APIError{Status: resp.StatusCode}
		if jsonErr == nil && len(out.Errors) > 0 {
			ae.Category, ae.Code, ae.Detail = out.Errors[0].Category, out.Errors[0].Code, out.Errors[0].Detail
		}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			outcome = destination.Overloaded
			wait = min(retryafter.Parse(resp.Header.Get("Retry-After"), time.Now()), 30*time.Second) // capped: one answer cannot stall intake
		case resp.StatusCode < 500:
			outcome = destination.Done
		}
		return nil, wait, ae
	}
	outcome = destination.Done
	if jsonErr != nil || out.Order == nil {
		return nil, 0, fmt.Errorf("order %s: unexpected response: %w", id, errors.Join(jsonErr, errors.New("no order in the response")))
	}
	if out.Order.ID != id {
		return nil, 0, fmt.Errorf("asked for order %s, got %s", id, out.Order.ID)
	}
	return out.Order, 0, nil
}
