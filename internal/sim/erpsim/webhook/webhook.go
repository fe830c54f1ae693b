// Package webhook is the reference receiver of tillsync's signed-webhook
// ERP connector (internal/erp/webhook), and its simulator: it verifies the
// signature over the raw body (401 when it does not match or is stale),
// checks the Idempotency-Key header against the documents, creates each
// idempotency key at most once ("created", then "exists"), refuses
// documents it cannot book with a permanent per-document error (an item
// "NO-SUCH-ITEM", a missing external ID), and answers
// 200 {"results": [...]} — or 429 with Retry-After when over its limits.
// Faults, limits and GET /_sim/stats come from erpsim.
//
// It decodes the wire format with its own types, not the connector's, so
// it checks the documented contract rather than the code that sends it.
package webhook

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	chwebhook "github.com/tillsync/tillsync/internal/channel/webhook"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
)

// InvalidSKU is an item the receiver's ERP does not have.
const InvalidSKU = "NO-SUCH-ITEM"

// Tolerance is how far a delivery's timestamp may be from the receiver's
// clock.
const Tolerance = 5 * time.Minute

// Credentials hold the shared signing secret.
type Credentials struct {
	Secret string
}

// DefaultCredentials are the simulator's usual credentials.
func DefaultCredentials() Credentials {
	return Credentials{Secret: "whsec_tillsync_simulated_receiver"} //nolint:gosec // G101: the simulator's published test secret
}

// Server is the reference receiver; it is an http.Handler.
type Server struct {
	sim   *erpsim.Sim
	creds Credentials
	mux   *http.ServeMux

	mu         sync.Mutex
	now        func() time.Time
	seen       map[string]bool
	deliveries map[string]int // X-Tillsync-Delivery → requests carrying it
}

// New returns a receiver accepting deliveries on any path but /_sim/stats.
func New(opt erpsim.Options, creds Credentials) *Server {
	s := &Server{sim: erpsim.New(opt), creds: creds, mux: http.NewServeMux(), now: time.Now,
		seen: map[string]bool{}, deliveries: map[string]int{}}
	s.mux.Handle("GET /_sim/stats", s.sim.StatsHandler())
	s.mux.HandleFunc("POST /", s.receive)
	return s
}

// Sim returns the simulator core (faults, stats).
func (s *Server) Sim() *erpsim.Sim { return s.sim }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetClock sets the clock signatures are checked against.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// Deliveries returns how many requests carried each delivery ID.
func (s *Server) Deliveries() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.deliveries))
	for k, v := range s.deliveries {
		out[k] = v
	}
	return out
}

type delivery struct {
	DeliveryID string `json:"delivery_id"`
	Documents  []struct {
		IdempotencyKey string `json:"idempotency_key"`
		ExternalID     string `json:"external_id"`
		Kind           string `json:"kind"`
		Lines          []struct {
			SKU string `json:"sku"`
		} `json:"lines"`
	} `json:"documents"`
}

type result struct {
	ExternalID string `json:"external_id"`
	Status     string `json:"status"`
	Error      string `json:"error,omitempty"`
	Permanent  bool   `json:"permanent,omitempty"`
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) receive(w http.ResponseWriter, r *http.Request) {
	outcome, end := s.sim.Begin(w, r)
	switch outcome {
	case erpsim.Failed:
		return
	case erpsim.Throttled:
		w.Header().Set("Retry-After", "1")
		reply(w, http.StatusTooManyRequests, map[string]string{"error": "rate limited: retry after 1 s"})
		return
	case erpsim.Invalid:
		reply(w, http.StatusUnprocessableEntity, map[string]string{"error": "injected invalid delivery"})
		return
	}
	defer end()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 32<<20))
	if err != nil {
		reply(w, http.StatusRequestEntityTooLarge, map[string]string{"error": err.Error()})
		return
	}
	s.mu.Lock()
	now := s.now()
	s.mu.Unlock()
	if err := chwebhook.Verify([]byte(s.creds.Secret), r.Header, body, now, Tolerance); err != nil {
		s.sim.Reject("auth")
		reply(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
		return
	}
	var d delivery
	if err := json.Unmarshal(body, &d); err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": "the body is not a delivery: " + err.Error()})
		return
	}
	keys := make([]string, len(d.Documents))
	for i, doc := range d.Documents {
		keys[i] = doc.IdempotencyKey
		if keys[i] == "" {
			keys[i] = doc.ExternalID
		}
	}
	if h := r.Header.Get("Idempotency-Key"); h != "" && strings.Join(keys, ",") != h {
		reply(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("Idempotency-Key %q does not list the documents' keys %q", h, keys)})
		return
	}
	results := make([]result, len(d.Documents))
	var created []string
	refused := 0
	s.mu.Lock()
	s.deliveries[r.Header.Get(chwebhook.HeaderDelivery)]++
	for i, doc := range d.Documents {
		results[i] = result{ExternalID: doc.ExternalID}
		if bad := invalid(keys[i], doc.Lines); bad != "" {
			results[i].Status, results[i].Error, results[i].Permanent = "error", bad, true
			refused++
			continue
		}
		if s.seen[keys[i]] {
			results[i].Status = "exists"
			continue
		}
		s.seen[keys[i]] = true
		results[i].Status = "created"
		created = append(created, keys[i])
	}
	s.mu.Unlock()
	for _, k := range created {
		s.sim.Create(k)
	}
	for range refused {
		s.sim.Reject("validation")
	}
	if s.sim.Committed(w) {
		return
	}
	reply(w, http.StatusOK, map[string]any{"results": results})
}

func invalid(key string, lines []struct {
	SKU string `json:"sku"`
}) string {
	if key == "" {
		return "external_id is required"
	}
	for _, l := range lines {
		if l.SKU == InvalidSKU {
			return fmt.Sprintf("item %s does not exist", l.SKU)
		}
	}
	return ""
}
