package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
)

// Deps are the handler's collaborators.
type Deps struct {
	// Submit commits events durably; the handler answers 200 only after it
	// returned. Required.
	Submit intake.Submitter
	// Prepare, if set, runs on every event before validation: the first
	// hop's redaction.
	Prepare func(*event.Event)
	Log     *slog.Logger
	Now     func() time.Time
	// Lookup, if set, tells which of the given event IDs are in the log and
	// their types (the hub wires store.EventsByID). With it a fulfillment
	// can tell a POS order (whose sale already took the stock) from a web
	// order even across restarts and when it arrives first; without it only
	// orders seen by this process are known and every other fulfillment is
	// mapped.
	Lookup func(ctx context.Context, ids []string) (map[string]event.Type, error)
	// ResolveSKU, if set, finds the SKU of an inventory item the handler has
	// not learned (an Admin API client, a catalog table). "" means unknown.
	ResolveSKU func(ctx context.Context, inventoryItemID string) (string, error)
	// Park, if set, durably keeps a delivery that cannot be placed (an
	// unmapped location, a line without SKU, an ID already used for a
	// different event) for a person to fix and replay; the delivery is then
	// acknowledged. Without it such deliveries are answered 422, which
	// Shopify retries for 4 hours before dropping them.
	Park func(ctx context.Context, p Parked) error
}

// Parked is a delivery that could not be placed, with the reason.
type Parked struct {
	Shop        string
	Topic       string
	EventID     string
	WebhookID   string
	TriggeredAt time.Time
	ReceivedAt  time.Time
	Reason      string
	// Payload is the raw body as signed by Shopify: customer data included,
	// so the parker must keep it as it keeps other personal data.
	Payload []byte
}

// Handler receives one shop's webhooks. It is safe for concurrent use.
type Handler struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	now  func() time.Time
	ids  ids

	recent  *bounded[struct{}]  // X-Shopify-Event-Id values answered 200
	orders  *bounded[string]    // order ID → kindPOS or kindWeb
	catalog *bounded[string]    // inventory item ID → SKU
	levels  *bounded[time.Time] // item@location → newest updated_at counted

	stats counters
}

type counters struct {
	deliveries, accepted, duplicates, ignored, parked, unplaceable, waiting,
	unauthorized, badRequests, failed, stale, superseded, events atomic.Int64
}

// Stats are the handler's counters since it started.
type Stats struct {
	Deliveries int64 `json:"deliveries"`
	// Outcomes of deliveries.
	Accepted     int64 `json:"accepted"`
	Duplicates   int64 `json:"duplicates"`
	Ignored      int64 `json:"ignored"`
	Parked       int64 `json:"parked"`
	Unplaceable  int64 `json:"unplaceable"`
	Waiting      int64 `json:"waiting"`
	Unauthorized int64 `json:"unauthorized"`
	BadRequests  int64 `json:"bad_requests"`
	Failed       int64 `json:"failed"`
	// Stale counts deliveries older than StaleAfter when they arrived
	// (Shopify retries carry the original payload and X-Shopify-Triggered-At).
	Stale int64 `json:"stale"`
	// Superseded counts inventory levels that arrived after a newer level of
	// the same item and location had been counted: the ledger keeps the
	// newer count.
	Superseded int64 `json:"superseded"`
	// Events counts canonical events newly accepted into the log.
	Events int64 `json:"events"`
}

// Stats returns the counters.
func (h *Handler) Stats() Stats {
	c := &h.stats
	return Stats{
		Deliveries: c.deliveries.Load(), Accepted: c.accepted.Load(), Duplicates: c.duplicates.Load(),
		Ignored: c.ignored.Load(), Parked: c.parked.Load(), Unplaceable: c.unplaceable.Load(),
		Waiting: c.waiting.Load(), Unauthorized: c.unauthorized.Load(), BadRequests: c.badRequests.Load(),
		Failed: c.failed.Load(), Stale: c.stale.Load(), Superseded: c.superseded.Load(), Events: c.events.Load(),
	}
}

// NewHandler returns the webhook handler of one shop, for a route such as
// POST /v1/sources/shopify/{shop}. Its dynamic type is *Handler (see New).
func NewHandler(cfg Config, deps Deps) (http.Handler, error) {
	return New(cfg, deps)
}

// New returns the webhook handler of one shop.
func New(cfg Config, deps Deps) (*Handler, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Submit == nil {
		return nil, errors.New("shopify source: Deps.Submit is required")
	}
	h := &Handler{
		cfg: cfg, deps: deps, log: deps.Log, now: deps.Now, ids: ids{shop: cfg.handle()},
		recent:  newBounded[struct{}](cfg.RecentEvents),
		orders:  newBounded[string](100000),
		catalog: newBounded[string](1 << 20),
		levels:  newBounded[time.Time](100000),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = h.log.With("source", "shopify", "shop", cfg.Shop)
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

// Error codes of the webhook endpoint, in {"error": {"code", "message"}}.
const (
	CodeMethod        = "method_not_allowed" // 405
	CodeEmptyBody     = "empty_body"         // 400
	CodeBodyTooLarge  = "body_too_large"     // 413
	CodeNoSignature   = "missing_signature"  // 401
	CodeBadSignature  = "bad_signature"      // 401
	CodeMissingHeader = "missing_header"     // 400: topic or shop domain
	CodeWrongShop     = "wrong_shop"         // 403: signed for another shop
	CodeMalformed     = "malformed_payload"  // 400
	CodeInvalidEvent  = "invalid_event"      // 400: the mapped event breaks a canonical rule
	CodeUnplaceable   = "unplaceable"        // 422: unmapped location, line without SKU, ID conflict
	CodeNotYet        = "not_yet_known"      // 503: refers to something not seen yet; retry
	CodeUnavailable   = "unavailable"        // 503: committer overloaded or stopping; retry
	CodeStorageFailed = "storage_failed"     // 500: the commit failed; retry
	CodeLookupFailed  = "lookup_failed"      // 503: the log could not be read; retry
)

// Response is the body of a 200 answer.
type Response struct {
	// Status is accepted (at least one new event), duplicate (every event
	// already in the log, or the delivery answered before), ignored or
	// parked.
	Status string         `json:"status"`
	Topic  string         `json:"topic,omitempty"`
	Reason string         `json:"reason,omitempty"`
	Events []EventOutcome `json:"events,omitempty"`
}

// EventOutcome is one canonical event's fate.
type EventOutcome struct {
	ID     string        `json:"id"`
	Type   event.Type    `json:"type"`
	Status intake.Status `json:"status"`
	Seq    int64         `json:"seq,omitempty"`
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.stats.deliveries.Add(1)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, http.StatusMethodNotAllowed, CodeMethod, "use POST", nil)
		return
	}
	body, err := io.ReadAll(io.LimitReader(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes), h.cfg.MaxBodyBytes+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || int64(len(body)) > h.cfg.MaxBodyBytes:
		h.stats.badRequests.Add(1)
		h.fail(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("body is over the %d-byte limit", h.cfg.MaxBodyBytes), nil)
		return
	case err != nil:
		h.stats.badRequests.Add(1)
		h.fail(w, http.StatusBadRequest, CodeMalformed, "reading body: "+err.Error(), nil)
		return
	case len(bytes.TrimSpace(body)) == 0:
		h.stats.badRequests.Add(1)
		h.fail(w, http.StatusBadRequest, CodeEmptyBody, "empty body: a Shopify webhook carries a JSON payload", nil)
		return
	}
	if err := Verify(h.cfg.Secrets, r.Header.Get(HeaderHMAC), body); err != nil {
		h.stats.unauthorized.Add(1)
		code := CodeBadSignature
		if errors.Is(err, ErrNoSignature) {
			code = CodeNoSignature
		}
		h.log.Warn("webhook refused", "code", code, "topic", r.Header.Get(HeaderTopic), "remote", r.RemoteAddr)
		h.fail(w, http.StatusUnauthorized, code, err.Error(), nil)
		return
	}
	d := &delivery{
		topic: strings.TrimSpace(r.Header.Get(HeaderTopic)), eventID: r.Header.Get(HeaderEventID),
		webhookID: r.Header.Get(HeaderWebhookID), apiVersion: r.Header.Get(HeaderAPIVersion),
		received: h.now().UTC(), body: body,
	}
	shop := strings.TrimSpace(r.Header.Get(HeaderShopDomain))
	switch {
	case d.topic == "" || shop == "":
		h.stats.badRequests.Add(1)
		h.fail(w, http.StatusBadRequest, CodeMissingHeader, "the "+HeaderTopic+" and "+HeaderShopDomain+" headers are required", nil)
		return
	case !strings.EqualFold(shop, h.cfg.Shop):
		h.stats.unauthorized.Add(1)
		h.fail(w, http.StatusForbidden, CodeWrongShop, fmt.Sprintf("this endpoint receives %s's webhooks, not %s's", h.cfg.Shop, shop), nil)
		return
	}
	if t := r.Header.Get(HeaderTriggeredAt); t != "" {
		if ts, err := time.Parse(time.RFC3339Nano, t); err == nil {
			d.triggeredAt = ts
		}
	}
	if age := d.age(); age > h.cfg.StaleAfter {
		h.stats.stale.Add(1)
		h.log.Info("stale delivery (a retry carries the payload as it was when triggered)",
			"topic", d.topic, "event_id", d.eventID, "age", age.Round(time.Second))
	}
	if d.eventID != "" {
		if _, seen := h.recent.get(d.memoryKey()); seen {
			h.stats.duplicates.Add(1)
			writeJSON(w, http.StatusOK, Response{Status: "duplicate", Topic: d.topic, Reason: "event " + d.eventID + " was already acknowledged"})
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.SubmitTimeout)
	defer cancel()
	h.handle(ctx, w, d)
}

func (h *Handler) handle(ctx context.Context, w http.ResponseWriter, d *delivery) {
	m, err := h.mapDelivery(ctx, d)
	if err != nil {
		h.mapFailure(ctx, w, d, err)
		return
	}
	if len(m.events) == 0 {
		if m.after != nil {
			m.after()
		}
		h.remember(d)
		h.stats.ignored.Add(1)
		h.log.Debug("delivery ignored", "topic", d.topic, "event_id", d.eventID, "reason", m.ignored)
		writeJSON(w, http.StatusOK, Response{Status: "ignored", Topic: d.topic, Reason: m.ignored})
		return
	}
	var problems []event.Problem
	var msgs []string
	for _, e := range m.events {
		e.ReceivedAt = d.received
		if h.deps.Prepare != nil {
			h.deps.Prepare(e)
		}
		if err := e.Validate(); err != nil {
			var ve *event.ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					p.Field = e.ID + ": " + p.Field
					problems = append(problems, p)
				}
			}
			msgs = append(msgs, e.ID+": "+err.Error())
		}
	}
	if len(msgs) > 0 {
		h.stats.badRequests.Add(1)
		h.log.Warn("delivery maps to invalid events", "topic", d.topic, "event_id", d.eventID, "err", strings.Join(msgs, "; "))
		h.fail(w, http.StatusBadRequest, CodeInvalidEvent, strings.Join(msgs, "; "), problems)
		return
	}
	outs, err := h.deps.Submit.Submit(ctx, m.events)
	if err != nil {
		h.stats.failed.Add(1)
		h.log.Warn("events not stored; Shopify will retry", "topic", d.topic, "event_id", d.eventID, "err", err)
		switch {
		case errors.Is(err, intake.ErrOverloaded), errors.Is(err, intake.ErrClosed),
			errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			w.Header().Set("Retry-After", "5")
			h.fail(w, http.StatusServiceUnavailable, CodeUnavailable, "not accepting events right now; nothing was stored; retry", nil)
		default:
			h.fail(w, http.StatusInternalServerError, CodeStorageFailed, "storage failed; nothing was stored; retry", nil)
		}
		return
	}
	resp := Response{Status: "duplicate", Topic: d.topic}
	var conflicts []string
	for i, o := range outs {
		if i >= len(m.events) {
			break
		}
		e := m.events[i]
		resp.Events = append(resp.Events, EventOutcome{ID: e.ID, Type: e.Type, Status: o.Status, Seq: o.Seq})
		switch o.Status {
		case intake.StatusAccepted:
			resp.Status = "accepted"
			h.stats.events.Add(1)
		case intake.StatusRejected:
			msg := "rejected"
			if o.Err != nil {
				msg = o.Err.Message
			}
			conflicts = append(conflicts, e.ID+": "+msg)
		}
	}
	if len(conflicts) > 0 {
		// Other events of the delivery are stored; parking or retrying the
		// whole delivery is harmless, they dedupe.
		h.mapFailure(ctx, w, d, &unplaceable{"the log refused " + strings.Join(conflicts, "; ")})
		return
	}
	if m.after != nil {
		m.after()
	}
	h.remember(d)
	if resp.Status == "accepted" {
		h.stats.accepted.Add(1)
	} else {
		h.stats.duplicates.Add(1)
	}
	h.log.Debug("delivery stored", "topic", d.topic, "event_id", d.eventID, "status", resp.Status, "events", len(resp.Events))
	writeJSON(w, http.StatusOK, resp)
}

// mapFailure answers a delivery that did not map.
func (h *Handler) mapFailure(ctx context.Context, w http.ResponseWriter, d *delivery, err error) {
	var bp *badPayload
	var up *unplaceable
	var ny *notYet
	switch {
	case errors.As(err, &bp):
		h.stats.badRequests.Add(1)
		h.log.Warn("malformed delivery", "topic", d.topic, "event_id", d.eventID, "err", err)
		h.fail(w, http.StatusBadRequest, CodeMalformed, err.Error(), nil)
	case errors.As(err, &ny):
		h.stats.waiting.Add(1)
		h.log.Info("delivery refers to something not seen yet; asking Shopify to retry", "topic", d.topic, "event_id", d.eventID, "reason", err)
		h.fail(w, http.StatusServiceUnavailable, CodeNotYet, err.Error(), nil)
	case errors.As(err, &up):
		if h.deps.Park == nil {
			h.stats.unplaceable.Add(1)
			h.log.Error("delivery cannot be placed; Shopify will retry it for 4 hours, then drop it", "topic", d.topic, "event_id", d.eventID, "reason", err)
			h.fail(w, http.StatusUnprocessableEntity, CodeUnplaceable, err.Error(), nil)
			return
		}
		p := Parked{Shop: h.cfg.Shop, Topic: d.topic, EventID: d.eventID, WebhookID: d.webhookID,
			TriggeredAt: d.triggeredAt, ReceivedAt: d.received, Reason: err.Error(), Payload: d.body}
		if perr := h.deps.Park(ctx, p); perr != nil {
			h.stats.failed.Add(1)
			h.log.Warn("parking failed; Shopify will retry", "topic", d.topic, "event_id", d.eventID, "err", perr)
			h.fail(w, http.StatusServiceUnavailable, CodeUnavailable, "could not park the delivery; retry", nil)
			return
		}
		h.remember(d)
		h.stats.parked.Add(1)
		h.log.Warn("delivery parked for a person to fix", "topic", d.topic, "event_id", d.eventID, "reason", err)
		writeJSON(w, http.StatusOK, Response{Status: "parked", Topic: d.topic, Reason: err.Error()})
	default:
		h.stats.failed.Add(1)
		h.log.Warn("delivery not processed; Shopify will retry", "topic", d.topic, "event_id", d.eventID, "err", err)
		h.fail(w, http.StatusServiceUnavailable, CodeLookupFailed, "could not read the log; retry", nil)
	}
}

func (h *Handler) remember(d *delivery) {
	if d.eventID != "" {
		h.recent.put(d.memoryKey(), struct{}{})
	}
}

// memoryKey scopes an event ID to its topic: one shop event may notify
// several topics.
func (d *delivery) memoryKey() string { return d.topic + " " + d.eventID }

func (h *Handler) fail(w http.ResponseWriter, status int, code, msg string, problems []event.Problem) {
	writeJSON(w, status, map[string]*intake.Error{"error": {Code: code, Message: msg, Problems: problems}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
