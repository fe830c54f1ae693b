package square

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

var versionFormat = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// API serves the Orders API's RetrieveOrder, GET /v2/orders/{order_id}
// (https://developer.squareup.com/reference/square/orders-api/retrieve-order):
//
//   - Authorization must be "Bearer <access token>", else 401
//     AUTHENTICATION_ERROR/UNAUTHORIZED;
//   - Square-Version must be a date (else 400 INVALID_SQUARE_VERSION_FORMAT)
//     and, when Options.Versions is set, one of them (else 400
//     API_VERSION_INCOMPATIBLE); it is echoed in the answer;
//   - beyond the rate, or while Throttle is in force, 429
//     RATE_LIMIT_ERROR/RATE_LIMITED;
//   - an unknown order is 404 INVALID_REQUEST_ERROR/NOT_FOUND.
//
// Error bodies are Square's {"errors":[{category, code, detail, field}]}
// (https://developer.squareup.com/docs/build-basics/handling-errors).
func (s *Seller) API() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/orders/{order_id}", s.retrieveOrder)
	return mux
}

func (s *Seller) retrieveOrder(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	if r.Header.Get("Authorization") != "Bearer "+s.opt.AccessToken || s.opt.AccessToken == "" {
		s.stats.Unauthorized++
		writeErr(w, http.StatusUnauthorized, APIError{Category: "AUTHENTICATION_ERROR", Code: "UNAUTHORIZED",
			Detail: "This request could not be authorized."})
		return
	}
	v := r.Header.Get("Square-Version")
	switch {
	case v == "" && s.opt.RequireVersion:
		s.stats.BadVersion++
		writeErr(w, http.StatusBadRequest, APIError{Category: "INVALID_REQUEST_ERROR", Code: "MISSING_REQUIRED_PARAMETER",
			Detail: "Square-Version header is required by this simulator", Field: "Square-Version"})
		return
	case v != "" && !versionFormat.MatchString(v):
		s.stats.BadVersion++
		writeErr(w, http.StatusBadRequest, APIError{Category: "INVALID_REQUEST_ERROR", Code: "INVALID_SQUARE_VERSION_FORMAT",
			Detail: fmt.Sprintf("Invalid Square-Version format %q: expected YYYY-MM-DD", v)})
		return
	case v != "" && len(s.opt.Versions) > 0 && !slices.Contains(s.opt.Versions, v):
		s.stats.BadVersion++
		writeErr(w, http.StatusBadRequest, APIError{Category: "INVALID_REQUEST_ERROR", Code: "API_VERSION_INCOMPATIBLE",
			Detail: fmt.Sprintf("Square-Version %s is not supported", v)})
		return
	}
	if !s.allowLocked() {
		s.stats.Throttled++
		writeErr(w, http.StatusTooManyRequests, APIError{Category: "RATE_LIMIT_ERROR", Code: "RATE_LIMITED",
			Detail: "This request was rate limited. Please retry later."})
		return
	}
	id := r.PathValue("order_id")
	o, ok := s.orders[id]
	if !ok {
		s.stats.NotFound++
		writeErr(w, http.StatusNotFound, APIError{Category: "INVALID_REQUEST_ERROR", Code: "NOT_FOUND",
			Detail: fmt.Sprintf("Could not find order with id `%s`.", id), Field: "order_id"})
		return
	}
	s.stats.Served++
	if v == "" && len(s.opt.Versions) > 0 {
		v = s.opt.Versions[0]
	}
	if v != "" {
		w.Header().Set("Square-Version", v)
	}
	writeJSON(w, http.StatusOK, map[string]*Order{"order": o})
}

// allowLocked applies forced throttling, then the token bucket.
func (s *Seller) allowLocked() bool {
	if s.throttle > 0 {
		s.throttle--
		return false
	}
	if s.opt.RatePerSecond <= 0 {
		return true
	}
	now := time.Now()
	if !s.last.IsZero() {
		s.tokens = min(float64(s.opt.Burst), s.tokens+now.Sub(s.last).Seconds()*s.opt.RatePerSecond)
	}
	s.last = now
	if s.tokens < 1 {
		return false
	}
	s.tokens--
	return true
}

func writeErr(w http.ResponseWriter, status int, e APIError) {
	writeJSON(w, status, APIErrors{Errors: []APIError{e}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Deliver POSTs notifications to target (where the handler listens; it
// may differ from the signed NotificationURL, as behind a proxy) one after
// another, signed, with Square's headers, and returns each answer's status.
// A transport error ends delivery.
func (s *Seller) Deliver(ctx context.Context, client *http.Client, target string, ns []Notification) ([]int, error) {
	statuses := make([]int, 0, len(ns))
	for _, p := range s.Signed(ns) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(p.Body))
		if err != nil {
			return statuses, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Square Connect v2")
		req.Header.Set("X-Square-Hmacsha256-Signature", p.Signature)
		req.Header.Set("Square-Environment", "Sandbox")
		resp, err := client.Do(req)
		if err != nil {
			return statuses, fmt.Errorf("deliver %s %s: %w", p.Type, p.EventID, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	return statuses, nil
}

// Retry delivers notifications until each is acknowledged with a 2xx, as
// Square does (it retries for up to 72 hours; here, up to attempts
// rounds), and returns how many rounds it took.
func (s *Seller) Retry(ctx context.Context, client *http.Client, target string, ns []Notification, attempts int) (int, error) {
	pending := ns
	for round := 1; round <= attempts; round++ {
		statuses, err := s.Deliver(ctx, client, target, pending)
		if err != nil {
			return round, err
		}
		var next []Notification
		for i, st := range statuses {
			if st < 200 || st > 299 {
				next = append(next, pending[i])
			}
		}
		if len(next) == 0 {
			return round, nil
		}
		pending = next
	}
	types := make([]string, len(pending))
	for i, n := range pending {
		types[i] = n.Type
	}
	return attempts, fmt.Errorf("%d notifications never acknowledged: %s", len(pending), strings.Join(types, ", "))
}
