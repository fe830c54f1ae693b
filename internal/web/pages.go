package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/store"
)

// storeRow is one store's sync health on the Stores page.
type storeRow struct {
	ID, Name, Zone string
	EdgeID         string
	Online         bool
	Backlog        int64
	OldestAge      time.Duration
	LastContact    time.Time
	EventsReceived int64
}

// State is how the row is coloured: offline (red), draining (online with
// a backlog, amber) or online (drained, green).
func (s storeRow) State() string {
	switch {
	case !s.Online:
		return "offline"
	case s.Backlog > 0:
		return "draining"
	}
	return "online"
}

type storesData struct {
	Rows                      []storeRow
	Online, Offline, Draining int
	Now                       time.Time
}

func (u *UI) storesData() storesData {
	now := u.opts.Now().UTC()
	byID := map[string]store.Health{}
	health := u.opts.Health()
	for _, h := range health {
		byID[h.Location] = h
	}
	d := storesData{Now: now, Rows: make([]storeRow, 0, len(u.opts.Stores)+len(health))}
	add := func(h store.Health, name, zone string) {
		r := storeRow{ID: h.Location, Name: name, Zone: zone, EdgeID: h.EdgeID, Backlog: h.Backlog, LastContact: h.LastContact,
			EventsReceived: h.EventsReceived, Online: !h.LastContact.IsZero() && now.Sub(h.LastContact) < u.opts.OnlineWithin}
		if !h.OldestUnsyncedAt.IsZero() && h.Backlog > 0 {
			r.OldestAge = h.LastContact.Sub(h.OldestUnsyncedAt)
		}
		switch r.State() {
		case "offline":
			d.Offline++
		case "draining":
			d.Draining++
		default:
			d.Online++
		}
		d.Rows = append(d.Rows, r)
	}
	for _, c := range u.opts.Stores {
		h, ok := byID[c.ID]
		if !ok {
			h = store.Health{Location: c.ID}
		}
		delete(byID, c.ID)
		add(h, c.Name, c.Zone)
	}
	for _, h := range health {
		if _, left := byID[h.Location]; left {
			add(h, "", "")
		}
	}
	// What needs a look first: offline, then draining, then the rest;
	// stable, so configuration order holds within each.
	rank := map[string]int{"offline": 0, "draining": 1, "online": 2}
	sort.SliceStable(d.Rows, func(i, j int) bool { return rank[d.Rows[i].State()] < rank[d.Rows[j].State()] })
	return d
}

type destinationsData struct {
	Rows []Destination
	Head int64
	Err  string
}

func (u *UI) destinationsData(ctx context.Context) destinationsData {
	rows, head, err := u.opts.Destinations(ctx)
	d := destinationsData{Rows: rows, Head: head}
	if err != nil {
		d.Err = "Could not read the destinations: " + err.Error()
	}
	return d
}

type overviewData struct {
	Charts []template.HTML
	Last   sample
	// Latency is the newest sample's median latency, or the latest one
	// measured (-1: none yet).
	Latency float64
	Stores  storesData
	Dests   int
}

func (u *UI) overviewData(samples []sample) overviewData {
	d := overviewData{Charts: overviewCharts(samples), Stores: u.storesData(), Latency: -1}
	if len(samples) > 0 {
		d.Last = samples[len(samples)-1]
		d.Dests = len(d.Last.Lag)
	}
	for i := len(samples) - 1; i >= 0; i-- {
		if samples[i].LatencyP50 >= 0 {
			d.Latency = samples[i].LatencyP50
			break
		}
	}
	return d
}

// renderWidget renders a live widget from current data (the live
// sampler's samples for the overview).
func (u *UI) renderWidget(ctx context.Context, name string, samples []sample) (string, error) {
	t, err := widgetOnce()
	if err != nil {
		return "", err
	}
	var data any
	switch name {
	case "overview":
		data = u.overviewData(samples)
	case "stores":
		data = u.storesData()
	case "destinations":
		data = widgetActs{Dests: u.destinationsData(ctx)}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "widget-"+name, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// widgetActs is the destinations widget's data. Its buttons are rendered
// for everyone and refused by the server for viewers; the CSRF token is
// taken from the page's meta tag by the script when the widget is swapped
// in live.
type widgetActs struct {
	Dests destinationsData
	CSRF  string
}

func (u *UI) overview(w http.ResponseWriter, r *http.Request) {
	u.live.ensure(r.Context())
	u.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Nav: "overview", Live: "overview",
		Data: u.overviewData(u.live.history())})
}

func (u *UI) storesPage(w http.ResponseWriter, r *http.Request) {
	u.live.ensure(r.Context())
	u.render(w, r, http.StatusOK, "stores", page{Title: "Stores", Nav: "stores", Live: "stores", Data: u.storesData()})
}

// stockRow is one location's stock of a SKU.
type stockRow struct {
	Location, Zone string
	OnHand         event.Qty
	Reserved       event.Qty
	InTransit      event.Qty
	Available      event.Qty
	Channels       []channelQty
	LastCount      time.Time
	UpdatedSeq     int64
}

type channelQty struct {
	Name string
	Qty  event.Qty
}

type inventoryData struct {
	SKU      string
	Rows     []stockRow
	Totals   []channelQty
	Moves    []store.LedgerMove
	Zones    map[string]string
	Searched bool
	More     bool
}

// HistoryLimit is how many ledger movements the inventory page shows.
const HistoryLimit = 200

func (u *UI) inventory(w http.ResponseWriter, r *http.Request) {
	sku := strings.TrimSpace(r.URL.Query().Get("sku"))
	d := inventoryData{SKU: sku, Zones: u.zones}
	if sku != "" {
		d.Searched = true
		if len(sku) > 200 {
			u.errorPage(w, r, nil, http.StatusBadRequest, "A SKU is at most 200 characters.")
			return
		}
		rows, err := u.opts.Store.PositionsOfSKU(r.Context(), sku)
		if err != nil {
			u.errorPage(w, r, nil, http.StatusInternalServerError, "Could not read the stock of "+sku+": "+err.Error())
			return
		}
		total := map[string]event.Qty{}
		for _, row := range rows {
			sr := stockRow{Location: row.Location, Zone: u.zones[row.Location], OnHand: row.OnHand(), Reserved: row.Reserved,
				InTransit: row.InTransit, Available: row.Available(), LastCount: row.CountAt, UpdatedSeq: row.UpdatedSeq}
			for _, c := range u.opts.Channels {
				if c.Sells(row.Location) {
					q := c.ATP(row.Position)
					sr.Channels = append(sr.Channels, channelQty{c.Name, q})
					total[c.Name] += q
				}
			}
			d.Rows = append(d.Rows, sr)
		}
		for _, c := range u.opts.Channels {
			if q, ok := total[c.Name]; ok {
				d.Totals = append(d.Totals, channelQty{c.Name, q})
			}
		}
		moves, err := u.opts.Store.MovesOfSKU(r.Context(), sku, HistoryLimit+1)
		if err != nil {
			u.errorPage(w, r, nil, http.StatusInternalServerError, "Could not read the ledger history of "+sku+": "+err.Error())
			return
		}
		if len(moves) > HistoryLimit {
			d.Moves, d.More = moves[:HistoryLimit], true
		} else {
			d.Moves = moves
		}
	}
	u.render(w, r, http.StatusOK, "inventory", page{Title: "Inventory", Nav: "inventory", Data: d})
}

type eventData struct {
	ID   string
	Seq  int64
	Ev   *event.Event
	Body string
}

func (u *UI) eventPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	evs, err := u.opts.Store.EventsByID(r.Context(), []string{id})
	if err != nil {
		u.errorPage(w, r, nil, http.StatusInternalServerError, "Could not read event "+id+": "+err.Error())
		return
	}
	st, ok := evs[id]
	if !ok {
		u.errorPage(w, r, nil, http.StatusNotFound, "No event "+strconv.Quote(id)+" in the log.")
		return
	}
	body, _ := json.MarshalIndent(st.Event, "", "  ")
	u.render(w, r, http.StatusOK, "event", page{Title: "Event " + id, Nav: "inventory",
		Data: eventData{ID: id, Seq: st.Seq, Ev: st.Event, Body: string(body)}})
}

func (u *UI) destinationsPage(w http.ResponseWriter, r *http.Request) {
	u.live.ensure(r.Context())
	u.render(w, r, http.StatusOK, "destinations", page{Title: "Destinations", Nav: "destinations", Live: "destinations",
		Data: widgetActs{Dests: u.destinationsData(r.Context()), CSRF: sessionFrom(r).csrf}})
}

type destinationData struct {
	Dest  Destination
	Dead  []store.DeadLetter
	State string
}

func (u *UI) findDestination(ctx context.Context, name string) (Destination, bool, error) {
	rows, _, err := u.opts.Destinations(ctx)
	if err != nil {
		return Destination{}, false, err
	}
	for _, d := range rows {
		if d.Name == name {
			return d, true, nil
		}
	}
	return Destination{}, false, nil
}

func (u *UI) destinationPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	d, ok, err := u.findDestination(r.Context(), name)
	switch {
	case err != nil:
		u.errorPage(w, r, nil, http.StatusInternalServerError, "Could not read the destinations: "+err.Error())
		return
	case !ok:
		u.errorPage(w, r, nil, http.StatusNotFound, "No destination "+strconv.Quote(name)+".")
		return
	}
	state := r.URL.Query().Get("state")
	if state == "" {
		state = store.DeadParked
	}
	if state != store.DeadParked && state != store.DeadReplay && state != store.DeadResolved {
		u.errorPage(w, r, nil, http.StatusBadRequest, "state must be parked, replay or resolved, not "+strconv.Quote(state)+".")
		return
	}
	dead, err := u.opts.Store.DeadLetters(r.Context(), name, state, 1000)
	if err != nil {
		u.errorPage(w, r, nil, http.StatusInternalServerError, "Could not read the dead letters: "+err.Error())
		return
	}
	u.render(w, r, http.StatusOK, "destination", page{Title: "Destination " + name, Nav: "destinations",
		Data: destinationData{Dest: d, Dead: dead, State: state}})
}

func (u *UI) pause(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if _, ok, err := u.findDestination(r.Context(), name); err != nil || !ok {
			u.errorPage(w, r, nil, http.StatusNotFound, "No destination "+strconv.Quote(name)+".")
			return
		}
		if err := u.opts.Store.SetPaused(r.Context(), name, paused); err != nil {
			u.errorPage(w, r, nil, http.StatusInternalServerError, "Could not save the request: "+err.Error())
			return
		}
		verb := "resumes"
		if paused {
			verb = "pauses"
		}
		u.done(w, r, "Destination "+name+" "+verb+" within a second.", "/ui/destinations")
	}
}

// replay asks a destination to deliver dead letters again: those named
// in the form's id fields, or every parked one.
func (u *UI) replay(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok, err := u.findDestination(r.Context(), name); err != nil || !ok {
		u.errorPage(w, r, nil, http.StatusNotFound, "No destination "+strconv.Quote(name)+".")
		return
	}
	ids := r.PostForm["id"]
	n, err := u.opts.Store.RequestReplay(r.Context(), name, ids)
	if err != nil {
		u.errorPage(w, r, nil, http.StatusInternalServerError, "Could not save the replay request: "+err.Error())
		return
	}
	if n == 0 {
		u.errorPage(w, r, nil, http.StatusConflict, "Nothing to replay: no parked dead letter of "+name+" matches.")
		return
	}
	u.done(w, r, "Replay of "+strconv.FormatInt(n, 10)+" dead letter(s) requested from "+name+".", "/ui/destinations/"+name)
}

type inboxData struct {
	Filter     inbox.Filter
	Page       inbox.Page
	Kinds      []inbox.Kind
	States     []string
	Severities []inbox.Severity
	Stores     []string
	NextURL    string
}

func (u *UI) inboxPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := inbox.Filter{State: q.Get("state"), Kind: q.Get("kind"), Severity: q.Get("severity"), Location: q.Get("store"), Assignee: q.Get("assignee"), Limit: 100}
	if _, set := q["state"]; !set {
		f.State = inbox.StateActive
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			u.errorPage(w, r, nil, http.StatusBadRequest, "after must be a non-negative integer, not "+strconv.Quote(v)+".")
			return
		}
		f.After = n
	}
	p, err := u.opts.Inbox.List(r.Context(), f)
	if err != nil {
		u.inboxError(w, r, err)
		return
	}
	d := inboxData{Filter: f, Page: p, Kinds: inbox.Kinds, Severities: inbox.Severities,
		States: []string{inbox.StateActive, "open", "acknowledged", "resolved", "auto_resolved", ""}}
	for _, s := range u.opts.Stores {
		d.Stores = append(d.Stores, s.ID)
	}
	if p.NextAfter > 0 {
		nq := r.URL.Query()
		nq.Set("after", strconv.FormatInt(p.NextAfter, 10))
		nq.Set("state", f.State)
		d.NextURL = "/ui/inbox?" + nq.Encode()
	}
	u.render(w, r, http.StatusOK, "inbox", page{Title: "Inbox", Nav: "inbox", Data: d})
}

func (u *UI) inboxError(w http.ResponseWriter, r *http.Request, err error) {
	var e *inbox.Error
	if !errors.As(err, &e) {
		u.errorPage(w, r, nil, http.StatusInternalServerError, "Could not read or write the inbox: "+err.Error())
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
	u.errorPage(w, r, nil, status, strings.TrimPrefix(err.Error(), "inbox: "))
}

type exceptionData struct {
	X        inbox.Exception
	Evidence string
	Builtins []string
}

func exceptionID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (u *UI) exceptionPage(w http.ResponseWriter, r *http.Request) {
	id, ok := exceptionID(r)
	if !ok {
		u.errorPage(w, r, nil, http.StatusBadRequest, "An exception id is a positive integer, not "+strconv.Quote(r.PathValue("id"))+".")
		return
	}
	x, err := u.opts.Inbox.Get(r.Context(), id)
	if err != nil {
		u.inboxError(w, r, err)
		return
	}
	var ev bytes.Buffer
	if err := json.Indent(&ev, x.Evidence, "", "  "); err != nil {
		ev.Reset()
		ev.Write(x.Evidence)
	}
	var builtins []string
	for _, a := range x.Actions {
		if inbox.IsBuiltin(a) {
			builtins = append(builtins, a)
		}
	}
	u.render(w, r, http.StatusOK, "exception", page{Title: "Exception " + strconv.FormatInt(id, 10), Nav: "inbox",
		Data: exceptionData{X: x, Evidence: ev.String(), Builtins: builtins}})
}

// act carries out an inbox action (a built-in, or a suggestion's
// registered action) in the operator's name.
func (u *UI) act(w http.ResponseWriter, r *http.Request) {
	id, ok := exceptionID(r)
	if !ok {
		u.errorPage(w, r, nil, http.StatusBadRequest, "An exception id is a positive integer, not "+strconv.Quote(r.PathValue("id"))+".")
		return
	}
	ss := sessionFrom(r)
	a := inbox.Action{Name: r.PostFormValue("action"), Actor: ss.actor.Name, Note: r.PostFormValue("note"),
		Assignee: r.PostFormValue("assignee"), Suggestion: r.PostFormValue("suggestion")}
	if a.Name == "" {
		u.errorPage(w, r, nil, http.StatusBadRequest, "The form named no action.")
		return
	}
	x, err := u.opts.Inbox.Act(r.Context(), id, a)
	if err != nil {
		u.inboxError(w, r, err)
		return
	}
	u.done(w, r, "Exception "+strconv.FormatInt(id, 10)+": "+a.Name+" done; now "+string(x.State)+".", "/ui/inbox/"+strconv.FormatInt(id, 10))
}

type reconcileData struct {
	Stores     []string
	Store      string
	Date       string
	Available  bool
	Report     any
	Text       string
	Err        string
	Exceptions []inbox.Exception
}

// reconcileKinds are the exceptions reconciliation raises.
var reconcileKinds = []inbox.Kind{inbox.SettlementUnmatched, inbox.ERPMissing, inbox.CashVariance, inbox.ShrinkageAnomaly}

func (u *UI) reconcilePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := reconcileData{Store: q.Get("store"), Date: q.Get("date"), Available: u.opts.Close != nil}
	for _, s := range u.opts.Stores {
		d.Stores = append(d.Stores, s.ID)
	}
	if d.Store == "" && len(d.Stores) > 0 {
		d.Store = d.Stores[0]
	}
	if d.Store != "" {
		if _, known := u.zones[d.Store]; !known {
			u.errorPage(w, r, nil, http.StatusNotFound, "No store "+strconv.Quote(d.Store)+" is configured.")
			return
		}
		if d.Date == "" {
			loc, err := event.LoadZone(u.zones[d.Store])
			if err != nil {
				loc = time.UTC
			}
			d.Date = u.opts.Now().In(loc).Format(time.DateOnly)
		}
		if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
			u.errorPage(w, r, nil, http.StatusBadRequest, "date must be YYYY-MM-DD, not "+strconv.Quote(d.Date)+".")
			return
		}
		if d.Available {
			rep, err := u.opts.Close(r.Context(), d.Store, d.Date)
			if err != nil {
				d.Err = err.Error()
			} else {
				d.Report = rep
				var buf bytes.Buffer
				if err := rep.WriteText(&buf); err == nil {
					d.Text = buf.String()
				}
			}
		}
		for _, k := range reconcileKinds {
			p, err := u.opts.Inbox.List(r.Context(), inbox.Filter{State: inbox.StateActive, Kind: string(k), Location: d.Store, Limit: 50})
			if err != nil {
				u.inboxError(w, r, err)
				return
			}
			d.Exceptions = append(d.Exceptions, p.Exceptions...)
		}
		sort.Slice(d.Exceptions, func(i, j int) bool { return d.Exceptions[i].ID < d.Exceptions[j].ID })
	}
	u.render(w, r, http.StatusOK, "reconcile", page{Title: "Reconciliation", Nav: "reconcile", Data: d})
}

type auditData struct {
	Rows   []store.AuditEntry
	Actor  string
	Before int64
}

func (u *UI) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	rows, err := u.opts.Store.RecentAudit(r.Context(), before, q.Get("actor"), 200)
	if err != nil {
		u.errorPage(w, r, nil, http.StatusInternalServerError, "Could not read the audit trail: "+err.Error())
		return
	}
	d := auditData{Rows: rows, Actor: q.Get("actor")}
	if len(rows) == 200 {
		d.Before = rows[len(rows)-1].ID
	}
	u.render(w, r, http.StatusOK, "audit", page{Title: "Audit log", Nav: "audit", Data: d})
}
