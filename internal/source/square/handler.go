package square

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
)

// Error codes of the webhook endpoint, besides intake's (unauthorized,
// malformed_json, body_too_large, method_not_allowed, unavailable,
// storage_failed). Square only looks at the status: any 2xx within 10 s
// is a delivery, anything else is redelivered for up to 72 hours
// (https://developer.squareup.com/docs/webhooks-api/delivery-sla).
const (
	CodeBadSignature      = "bad_signature"      // 401: missing or wrong x-square-hmacsha256-signature
	CodeEmptyBody         = "empty_body"         // 400: no body to verify
	CodeUnmappable        = "unmappable"         // 422: fix the configuration; Square redelivers
	CodeSquareUnavailable = "square_unavailable" // 503: RetrieveOrder failed; Square redelivers
	CodeNotSettled        = "not_settled"        // 503: Square says it is paid/refunded, the order does not show it yet
)

// Reply is the body of a 200 answer, for people reading delivery logs in
// the Square Developer Console.
type Reply struct {
	EventID string        `json:"event_id"`
	Status  string        `json:"status"` // processed, duplicate, ignored
	Note    string        `json:"note,omitempty"`
	Events  []ReplyResult `json:"events,omitempty"`
}

// ReplyResult is what became of one canonical event.
type ReplyResult struct {
	ID     string        `json:"id"`
	Status intake.Status `json:"status"`
	Seq    int64         `json:"seq,omitempty"`
	Error  *intake.Error `json:"error,omitempty"`
}

// handler serves Square webhook notifications for one source.
type handler struct {
	cfg    Config
	submit intake.Submitter
	prep   func(*event.Event)
	log    *slog.Logger
	now    func() time.Time
	m      *mapper
	api    *client
	// events are notifications handled; orders are orders whose events
	// are all committed (further notifications about them need no fetch).
	events *recent
	orders *recent
}

// NewHandler returns the webhook endpoint of a Square source. Mount it on
// the path of Config.NotificationURL (the hub uses
// POST /v1/sources/square/{name}).
func NewHandler(cfg Config, deps Deps) (http.Handler, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Submit == nil {
		return nil, fmt.Errorf("square source %q: no Submitter", cfg.Name)
	}
	h := &handler{cfg: cfg, submit: deps.Submit, prep: deps.Prepare, log: deps.Log, now: deps.Now,
		events: newRecent(cfg.DedupeSize), orders: newRecent(cfg.DedupeSize)}
	h.m = newMapper(&h.cfg)
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = h.log.With("source", cfg.Name)
	if h.now == nil {
		h.now = time.Now
	}
	hc := deps.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	gov := deps.Governor
	if gov == nil {
		gov = destination.NewGovernor(destination.GovernorConfig{Name: "square:" + cfg.Name,
			Concurrency: cfg.Concurrency, RatePerSecond: cfg.RatePerSecond, Burst: cfg.Burst})
	}
	h.api = &client{base: cfg.APIBaseURL, token: cfg.AccessToken, version: cfg.SquareVersion, http: hc, gov: gov,
		backoff: destination.Backoff{Min: cfg.BackoffMin, Max: cfg.BackoffMax}, attempts: cfg.Attempts}
	return h, nil
}

// failure is an answer other than 200.
type failure struct {
	status int
	code   string
	msg    string
}

func (f *failure) Error() string { return f.code + ": " + f.msg }

// squareUnavailable: Square's API failed (after retries); Square will
// redeliver the notification.
func squareUnavailable(err error) error {
	return &failure{http.StatusServiceUnavailable, CodeSquareUnavailable, err.Error()}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		intake.WriteError(w, http.StatusMethodNotAllowed, intake.CodeMethod, "use POST")
		return
	}
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		intake.WriteError(w, http.StatusUnauthorized, CodeBadSignature, "missing "+SignatureHeader)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			intake.WriteError(w, http.StatusRequestEntityTooLarge, intake.CodeBodyTooLarge, fmt.Sprintf("body over %d bytes", h.cfg.MaxBodyBytes))
			return
		}
		intake.WriteError(w, http.StatusBadRequest, intake.CodeMalformedJSON, "reading the body: "+err.Error())
		return
	}
	if len(body) == 0 {
		// HMAC over the URL alone is a valid MAC, but of nothing.
		intake.WriteError(w, http.StatusBadRequest, CodeEmptyBody, "empty body")
		return
	}
	if !Verify(h.cfg.SignatureKeys, h.cfg.NotificationURL, body, sig) {
		h.log.Warn("square notification with a bad signature", "remote", r.RemoteAddr, "bytes", len(body))
		intake.WriteError(w, http.StatusUnauthorized, CodeBadSignature,
			"signature does not match: check the signature key and that notification_url is exactly the subscription's URL")
		return
	}
	n, err := decodeNotification(body)
	if err != nil {
		intake.WriteError(w, http.StatusBadRequest, intake.CodeMalformedJSON, err.Error())
		return
	}
	if h.events.has(n.EventID) {
		writeJSON(w, http.StatusOK, &Reply{EventID: n.EventID, Status: "duplicate"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Deadline)
	defer cancel()
	reply, err := h.handle(ctx, n)
	if err != nil {
		f := h.classify(err)
		h.log.Warn("square notification not processed", "event_id", n.EventID, "type", n.Type, "status", f.status, "err", err)
		if f.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "60")
		}
		intake.WriteError(w, f.status, f.code, f.msg)
		return
	}
	h.events.add(n.EventID)
	h.log.Info("square notification", "event_id", n.EventID, "type", n.Type, "status", reply.Status, "events", len(reply.Events))
	writeJSON(w, http.StatusOK, reply)
}

func (h *handler) classify(err error) *failure {
	var f *failure
	var um *unmappableError
	switch {
	case errors.As(err, &f):
		return f
	case errors.As(err, &um):
		return &failure{http.StatusUnprocessableEntity, CodeUnmappable, err.Error()}
	case errors.Is(err, errMalformed):
		return &failure{http.StatusBadRequest, intake.CodeMalformedJSON, err.Error()}
	case errors.Is(err, intake.ErrOverloaded), errors.Is(err, intake.ErrClosed):
		return &failure{http.StatusServiceUnavailable, intake.CodeUnavailable, "not accepting events right now; nothing was stored"}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &failure{http.StatusServiceUnavailable, intake.CodeUnavailable, "not done in time; nothing was acknowledged: " + err.Error()}
	}
	return &failure{http.StatusInternalServerError, intake.CodeStorage, "storing the events failed; nothing was stored"}
}

// expectation is what a notification says about its order: a completed
// payment, a settled refund. If the order does not show it yet, Square is
// asked to redeliver — for a while.
type expectation struct {
	what  string
	since time.Time
	// applies reports whether the order should already be final.
	applies func(o *order, r orderResult) bool
}

// mapped is what a notification maps to.
type mapped struct {
	events []*event.Event
	// doneOrder is the order whose events are all in events (or that maps
	// to none): later notifications about it need no fetch.
	doneOrder string
	// note says why nothing was mapped.
	note string
}

// handle maps a notification and commits its events.
func (h *handler) handle(ctx context.Context, n *notification) (*Reply, error) {
	var res mapped
	var err error
	switch n.Type {
	case typePaymentCreated, typePaymentUpdated:
		res, err = h.payment(ctx, n)
	case typeRefundCreated, typeRefundUpdated:
		res, err = h.refund(ctx, n)
	case typeOrderCreated, typeOrderUpdated:
		res, err = h.orderSummary(ctx, n)
	case typeInventoryCount:
		var counts []inventoryCount
		if err = n.object("inventory_counts", &counts); err == nil {
			res.events, err = h.m.counts(counts)
		}
	default:
		res.note = "event type " + n.Type + " is not mapped"
	}
	if err != nil {
		return nil, err
	}
	reply := &Reply{EventID: n.EventID, Status: "ignored", Note: res.note}
	if len(res.events) == 0 {
		if res.doneOrder != "" {
			h.orders.add(res.doneOrder)
		}
		return reply, nil
	}
	results, err := h.commit(ctx, res.events)
	if err != nil {
		return nil, err
	}
	reply.Status, reply.Events = "processed", results
	clean := true
	for _, r := range results {
		if r.Status == intake.StatusRejected {
			clean = false
			// Not retryable: the log holds a different event under this
			// ID (the Square object changed after it was recorded).
			h.log.Error("square event rejected by the log", "event_id", n.EventID, "id", r.ID, "err", r.Error)
		}
	}
	if res.doneOrder != "" && clean {
		h.orders.add(res.doneOrder)
	}
	return reply, nil
}

// payment: a completed payment leads to its order. Earlier states
// (APPROVED, PENDING) and failures map to nothing: the order maps once it
// completes (https://developer.squareup.com/docs/payments-api/webhooks).
func (h *handler) payment(ctx context.Context, n *notification) (mapped, error) {
	var p payment
	if err := n.object("payment", &p); err != nil {
		return mapped{}, err
	}
	switch {
	case h.m.ignore[p.LocationID]:
		return mapped{note: "location is ignored"}, nil
	case p.Status != "COMPLETED":
		return mapped{note: "payment is " + p.Status + "; its order maps once the payment completes"}, nil
	case p.OrderID == "":
		return mapped{note: "payment has no order"}, nil
	}
	var exp *expectation
	if since, err := time.Parse(time.RFC3339Nano, p.UpdatedAt); err == nil {
		// A till sale (no fulfillments) completes with its payment.
		exp = &expectation{what: "payment " + p.ID + " completed", since: since,
			applies: func(o *order, _ orderResult) bool { return o.State == "OPEN" && len(o.Fulfillments) == 0 }}
	}
	return h.fromOrder(ctx, p.OrderID, exp)
}

// refund: a settled refund leads to its return order; a completed refund
// without an order is a Return of its own.
func (h *handler) refund(ctx context.Context, n *notification) (mapped, error) {
	var rf refund
	if err := n.object("refund", &rf); err != nil {
		return mapped{}, err
	}
	switch {
	case h.m.ignore[rf.LocationID]:
		return mapped{note: "location is ignored"}, nil
	case rf.Status == "PENDING":
		return mapped{note: "refund is pending"}, nil
	case rf.OrderID == "" && rf.Status == "COMPLETED":
		e, ignored, err := h.m.legacyRefund(&rf)
		if err != nil || ignored {
			return mapped{note: "location is ignored"}, err
		}
		return mapped{events: []*event.Event{e}}, nil
	case rf.OrderID == "":
		return mapped{note: "refund is " + rf.Status + " and has no order"}, nil
	}
	var exp *expectation
	if since, err := time.Parse(time.RFC3339Nano, rf.UpdatedAt); err == nil {
		exp = &expectation{what: "refund " + rf.ID + " is " + rf.Status, since: since,
			applies: func(o *order, r orderResult) bool { return o.State == "COMPLETED" && !r.final }}
	}
	return h.fromOrder(ctx, rf.OrderID, exp)
}

// orderSummary: order.created and order.updated carry only the order's ID,
// location and state; a completed order is fetched.
func (h *handler) orderSummary(ctx context.Context, n *notification) (mapped, error) {
	key := "order_created"
	if n.Type == typeOrderUpdated {
		key = "order_updated"
	}
	var s orderSummary
	if err := n.object(key, &s); err != nil {
		return mapped{}, err
	}
	id := s.OrderID
	if id == "" {
		id = n.Data.ID
	}
	switch {
	case h.m.ignore[s.LocationID]:
		return mapped{note: "location is ignored"}, nil
	case s.State != "" && s.State != "COMPLETED":
		// A later order.updated (or the payment) brings the order once it
		// completes: no need to fetch it now.
		return mapped{note: "order is " + s.State}, nil
	}
	return h.fromOrder(ctx, id, nil)
}

// fromOrder fetches an order (and the source order of its returns) and maps
// it.
func (h *handler) fromOrder(ctx context.Context, id string, exp *expectation) (mapped, error) {
	if h.orders.has(id) {
		return mapped{note: "order " + id + " is already recorded"}, nil
	}
	o, err := h.api.retrieveOrder(ctx, id)
	if err != nil {
		return mapped{}, squareUnavailable(err)
	}
	src, err := h.sourceOrder(ctx, o)
	if err != nil {
		return mapped{}, squareUnavailable(err)
	}
	res, err := h.m.order(o, src)
	if err != nil {
		return mapped{}, fmt.Errorf("order %s: %w", id, err)
	}
	if !res.final {
		if exp != nil && exp.applies(o, res) && h.now().Sub(exp.since) < h.cfg.CompletionWait {
			return mapped{}, &failure{http.StatusServiceUnavailable, CodeNotSettled,
				fmt.Sprintf("%s but order %s: %s; redeliver later", exp.what, id, res.waiting)}
		}
		return mapped{note: "order " + id + ": " + res.waiting}, nil
	}
	return mapped{events: res.events, doneOrder: id}, nil
}

// sourceOrder fetches the order a return order's refunds went back to, to
// tell card from cash refunds. An unknown source order is not an error.
func (h *handler) sourceOrder(ctx context.Context, o *order) (*order, error) {
	if o.State != "COMPLETED" || len(o.Returns) == 0 || len(o.Refunds) == 0 {
		return nil, nil
	}
	srcID := o.Returns[0].SourceOrderID
	for _, r := range o.Returns[1:] {
		if r.SourceOrderID != srcID {
			return nil, nil
		}
	}
	if srcID == "" {
		return nil, nil
	}
	src, err := h.api.retrieveOrder(ctx, srcID)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil, nil
	}
	return src, err
}

// commit stamps, redacts, validates and submits events, all or none.
func (h *handler) commit(ctx context.Context, evs []*event.Event) ([]ReplyResult, error) {
	now := h.now().UTC()
	for _, e := range evs {
		e.ReceivedAt = now
		if h.prep != nil {
			h.prep(e)
		}
		e.Normalize()
		if err := e.Validate(); err != nil {
			return nil, unmappable("event %s: %v", e.ID, err)
		}
	}
	outs, err := h.submit.Submit(ctx, evs)
	if err != nil {
		return nil, err
	}
	if len(outs) != len(evs) {
		return nil, fmt.Errorf("submitter answered %d outcomes for %d events", len(outs), len(evs))
	}
	results := make([]ReplyResult, len(evs))
	for i, o := range outs {
		results[i] = ReplyResult{ID: evs[i].ID, Status: o.Status, Seq: o.Seq, Error: o.Err}
	}
	return results, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
