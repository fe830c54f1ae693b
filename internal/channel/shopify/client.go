package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/retryafter"
)

// Errors that stop the destination: retrying cannot fix them.
var (
	ErrUnauthorized = errors.New("the Admin API refused the access token (401)")
	ErrForbidden    = errors.New("the access token lacks a required scope (403)")
	ErrNotFound     = errors.New("no such shop or Admin API version (404)")
)

// errTooCostly is a query that asks for more points than the bucket can
// ever hold (or than one query may): the caller must split it.
var errTooCostly = errors.New("the query costs more than the bucket can hold")

// permanent reports whether err needs an operator, not a retry.
func permanent(err error) bool {
	return errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotFound)
}

// client speaks GraphQL to one shop through a governor.
type client struct {
	name    string
	url     string
	token   string
	http    *http.Client
	timeout time.Duration
	gov     *Governor
	m       *Metrics

	mu sync.Mutex
	// scale corrects an operation's cost estimate by what Shopify reported
	// it requested (≥ 1).
	scale map[string]float64
}

// request is one GraphQL operation.
type request struct {
	op    string // metrics label: set, adjust, read, lookup, ping
	query string
	vars  map[string]any
	cost  float64 // estimated requested cost
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

type costInfo struct {
	RequestedQueryCost float64         `json:"requestedQueryCost"`
	ActualQueryCost    *float64        `json:"actualQueryCost"`
	ThrottleStatus     *ThrottleStatus `json:"throttleStatus"`
}

type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     []gqlError      `json:"errors"`
	Extensions struct {
		Cost *costInfo `json:"cost"`
	} `json:"extensions"`
}

// httpError is a non-2xx answer.
type httpError struct {
	status int
	body   string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("Shopify answered %d %s: %s", e.status, http.StatusText(e.status), e.body)
}

// queryError is a GraphQL answer with top-level errors (not throttling).
type queryError struct{ errs []gqlError }

func (e *queryError) Error() string {
	var b strings.Builder
	for i, x := range e.errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x.Message)
		if x.Extensions.Code != "" {
			b.WriteString(" (" + x.Extensions.Code + ")")
		}
	}
	return "GraphQL errors: " + b.String()
}

// do sends a request and decodes data into out. It waits on the governor
// before every attempt and retries THROTTLED refusals itself; other
// failures are returned for the caller's back-off.
func (c *client) do(ctx context.Context, r request, out any) error {
	body, err := json.Marshal(map[string]any{"query": r.query, "variables": r.vars, "operationName": opName(r.query)})
	if err != nil {
		return fmt.Errorf("encode %s: %w", r.op, err)
	}
	for {
		est := c.estimate(r) // anew: a throttled answer may have corrected it
		t, err := c.gov.Acquire(ctx, est)
		if err != nil {
			return err
		}
		resp, retryAfter, err := c.post(ctx, body)
		if err != nil {
			var he *httpError
			if errors.As(err, &he) && he.status == http.StatusTooManyRequests {
				t.Throttled(nil, max(retryAfter, time.Second))
				c.m.requests.WithLabelValues(c.name, r.op, "throttled").Inc()
				c.m.throttled.WithLabelValues(c.name).Inc()
				continue
			}
			t.Failed()
			c.m.requests.WithLabelValues(c.name, r.op, "failed").Inc()
			return err
		}
		var st *ThrottleStatus
		actual := est
		if cost := resp.Extensions.Cost; cost != nil {
			st = cost.ThrottleStatus
			if cost.ActualQueryCost != nil {
				actual = *cost.ActualQueryCost
			}
			c.learn(r, est, cost.RequestedQueryCost)
		}
		if throttled(resp.Errors) {
			t.Throttled(st, 0)
			c.m.requests.WithLabelValues(c.name, r.op, "throttled").Inc()
			c.m.throttled.WithLabelValues(c.name).Inc()
			c.observeBucket()
			if cost := resp.Extensions.Cost; cost != nil && st != nil && cost.RequestedQueryCost > st.MaximumAvailable {
				return fmt.Errorf("%s: %w (%.0f points, bucket %.0f)", r.op, errTooCostly, cost.RequestedQueryCost, st.MaximumAvailable)
			}
			continue
		}
		t.Answered(st, actual)
		c.m.points.WithLabelValues(c.name).Add(actual)
		c.observeBucket()
		if len(resp.Errors) > 0 {
			c.m.requests.WithLabelValues(c.name, r.op, "error").Inc()
			if resp.Errors[0].Extensions.Code == "MAX_COST_EXCEEDED" {
				return fmt.Errorf("%s: %w: %w", r.op, errTooCostly, &queryError{resp.Errors})
			}
			return &queryError{resp.Errors}
		}
		c.m.requests.WithLabelValues(c.name, r.op, "ok").Inc()
		if out != nil {
			if err := json.Unmarshal(resp.Data, out); err != nil {
				return fmt.Errorf("decode %s answer: %w", r.op, err)
			}
		}
		return nil
	}
}

func throttled(errs []gqlError) bool {
	for _, e := range errs {
		if e.Extensions.Code == "THROTTLED" {
			return true
		}
	}
	return false
}

// post makes one HTTP attempt.
func (c *client) post(ctx context.Context, body []byte) (*gqlResponse, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tillsync-shopify/1")
	req.Header.Set("X-Shopify-Access-Token", c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, 0, err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, 0, fmt.Errorf("%w: check the shop domain and access token (%s)", ErrUnauthorized, snippet(raw))
	case resp.StatusCode == http.StatusForbidden:
		return nil, 0, fmt.Errorf("%w: grant the app write_inventory (and read_products for SKU lookup) (%s)", ErrForbidden, snippet(raw))
	case resp.StatusCode == http.StatusNotFound:
		return nil, 0, fmt.Errorf("%w: check the shop domain and api_version (%s)", ErrNotFound, snippet(raw))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, retryafter.Parse(resp.Header.Get("Retry-After"), time.Now()), &httpError{status: resp.StatusCode, body: snippet(raw)}
	}
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, 0, fmt.Errorf("decode answer: %w (%s)", err, snippet(raw))
	}
	return &out, 0, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// estimate is a request's expected requested cost, corrected by what
// Shopify charged for the same operation before.
func (c *client) estimate(r request) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.scale[r.op]; s > 1 {
		return r.cost * s
	}
	return r.cost
}

func (c *client) learn(r request, est, requested float64) {
	if r.cost <= 0 || requested <= est {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scale[r.op] = max(c.scale[r.op], requested/r.cost)
}

func (c *client) observeBucket() {
	b := c.gov.Bucket()
	c.m.bucketSize.WithLabelValues(c.name).Set(b.MaximumAvailable)
	c.m.bucketAvailable.WithLabelValues(c.name).Set(max(b.CurrentlyAvailable, 0))
	c.m.restoreRate.WithLabelValues(c.name).Set(b.RestoreRate)
	if b.MaximumAvailable > 0 {
		c.m.utilisation.WithLabelValues(c.name).Set(1 - max(b.CurrentlyAvailable, 0)/b.MaximumAvailable)
	}
}

// opName returns the operation name of a query document ("" if none).
func opName(q string) string {
	for _, kw := range []string{"mutation ", "query "} {
		if i := strings.Index(q, kw); i >= 0 {
			rest := q[i+len(kw):]
			end := strings.IndexAny(rest, "( {")
			if end > 0 {
				return rest[:end]
			}
		}
	}
	return ""
}
