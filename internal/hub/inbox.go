package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tillsync/tillsync/internal/access"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/rebalance"
)

// InboxInterval is how often the hub's inbox feeds look for new dead
// letters and oversells, and for what later data settled.
const InboxInterval = time.Second

// newInbox builds the hub's exceptions inbox with every shipped handler.
func newInbox(h *Hub) *inbox.Inbox {
	zones := h.cfg.Zones()
	in := inbox.Standard(h.store, inbox.Options{Zones: zones, Now: func() time.Time { return h.now() }})
	// Approving a transfer proposal ships it: its TransferOut goes through
	// the committer like any POS event (log, ledger, ERP transfer order).
	in.MustRegister(rebalance.ActApprove, &rebalance.Approver{Emit: rebalance.EmitterFunc(h.emit), Zones: zones, Now: h.now})
	return in
}

// emit commits events the hub makes itself (an approved transfer) through
// the group committer, exactly as if a store had sent them. Their IDs
// derive from what they carry out (a proposal's ID), so an ID already in
// the log for a different event — the same proposal approved again, at a
// later time — means it was carried out before: nothing is emitted twice.
func (h *Hub) emit(ctx context.Context, evs []*event.Event) error {
	for _, e := range evs {
		if err := e.Validate(); err != nil {
			return err
		}
	}
	outs, err := h.committer.Submit(ctx, evs)
	if err != nil {
		return err
	}
	for i, o := range outs {
		if o.Status == intake.StatusRejected && (o.Err == nil || o.Err.Code != intake.CodeIDConflict) {
			return fmt.Errorf("event %s was rejected: %s", evs[i].ID, o.Err.Error())
		}
	}
	return nil
}

// Inbox returns the hub's exceptions inbox: other parts of the hub raise
// problems and register action handlers on it.
func (h *Hub) Inbox() *inbox.Inbox { return h.inbox }

// runInbox syncs the inbox feeds until ctx ends. The feeds read what the
// destinations and the ledger already committed, so intake and delivery
// never wait for the inbox.
func (h *Hub) runInbox(ctx context.Context) {
	feeds := append(inbox.Feeds(h.inbox), &inbox.ConnectorFeed{Inbox: h.inbox, States: h.connectorStates})
	_ = inbox.Run(ctx, h.log, InboxInterval, feeds...)
}

// connectorStates reports which ERP destinations their ERP refuses.
func (h *Hub) connectorStates() []inbox.ConnectorState {
	out := make([]inbox.ConnectorState, 0, len(h.erps))
	for _, d := range h.erps {
		out = append(out, inbox.ConnectorState{Destination: d.Name(), Blocked: d.Status().Blocked})
	}
	return out
}

func (h *Hub) inboxRoutes(mux *router) {
	g := h.guard
	mux.HandleFunc("GET /v1/inbox", g.Require(access.Viewer, "list inbox", false, h.listInbox))
	mux.HandleFunc("GET /v1/inbox/{id}", g.Require(access.Viewer, "read inbox exception", false, h.showInbox))
	mux.HandleFunc("POST /v1/inbox/{id}/actions", g.Require(access.Operator, "act on inbox exception", true, h.actInbox))
}

// InboxActionRequest is the body of POST /v1/inbox/{id}/actions.
type InboxActionRequest struct {
	Action     string `json:"action"`
	Note       string `json:"note,omitempty"`
	Assignee   string `json:"assignee,omitempty"`
	Suggestion string `json:"suggestion,omitempty"`
}

func (h *Hub) listInbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := inbox.Filter{State: q.Get("state"), Kind: q.Get("kind"), Severity: q.Get("severity"), Location: q.Get("store"), Assignee: q.Get("assignee")}
	for _, p := range []struct {
		name string
		set  func(int64)
	}{{"limit", func(n int64) { f.Limit = int(min(n, inbox.MaxLimit)) }}, {"after", func(n int64) { f.After = n }}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || (p.name == "limit" && n == 0) {
			apiError(w, http.StatusBadRequest, "bad_parameter", p.name+" must be a positive integer, not "+strconv.Quote(v))
			return
		}
		p.set(n)
	}
	page, err := h.inbox.List(r.Context(), f)
	if err != nil {
		inboxError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func inboxID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		apiError(w, http.StatusBadRequest, "bad_parameter", "exception id must be a positive integer, not "+strconv.Quote(v))
		return 0, false
	}
	return id, true
}

func (h *Hub) showInbox(w http.ResponseWriter, r *http.Request) {
	id, ok := inboxID(w, r)
	if !ok {
		return
	}
	x, err := h.inbox.Get(r.Context(), id)
	if err != nil {
		inboxError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, x)
}

func (h *Hub) actInbox(w http.ResponseWriter, r *http.Request) {
	id, ok := inboxID(w, r)
	if !ok {
		return
	}
	var req InboxActionRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, intake.CodeMalformedJSON, "action body: "+err.Error()+
			` (send {"action": "acknowledge|resolve|assign|reopen|comment|<registered action>", "note": …, "assignee": …, "suggestion": …})`)
		return
	}
	actor, _ := access.ActorOf(r.Context())
	x, err := h.inbox.Act(r.Context(), id, inbox.Action{Name: req.Action, Actor: actor.Name, Note: req.Note,
		Assignee: req.Assignee, Suggestion: req.Suggestion})
	if err != nil {
		inboxError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, x)
}

// inboxError answers an inbox failure with its stable code.
func inboxError(w http.ResponseWriter, err error) {
	var e *inbox.Error
	if !errors.As(err, &e) {
		apiError(w, http.StatusInternalServerError, intake.CodeStorage, "could not read or write the inbox")
		return
	}
	status := map[string]int{
		inbox.CodeInvalid: http.StatusBadRequest, inbox.CodeUnknownAction: http.StatusBadRequest,
		inbox.CodeNotFound: http.StatusNotFound, inbox.CodeIllegalTransition: http.StatusConflict,
		inbox.CodeActionFailed: http.StatusUnprocessableEntity,
	}[e.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	apiError(w, status, e.Code, err.Error())
}
