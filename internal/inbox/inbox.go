package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/store"
)

// Inbox is the exceptions inbox on a hub database.
type Inbox struct {
	store    *store.Store
	handlers map[string]Handler
	zones    map[string]string
	now      func() time.Time
}

// Options configure an Inbox.
type Options struct {
	// Zones maps a store (location) to its IANA time zone, shown with
	// its exceptions.
	Zones map[string]string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// New returns the inbox on a store, with no action handlers registered
// (see Register and Standard).
func New(st *store.Store, opts Options) *Inbox {
	in := &Inbox{store: st, handlers: map[string]Handler{}, zones: opts.Zones, now: opts.Now}
	if in.now == nil {
		in.now = time.Now
	}
	return in
}

// Standard returns the inbox with every handler tillsync ships: "replay"
// of dead letters.
func Standard(st *store.Store, opts Options) *Inbox {
	in := New(st, opts)
	in.MustRegister(ActReplay, ReplayDeadLetter(st))
	return in
}

// Store returns the inbox's database.
func (in *Inbox) Store() *store.Store { return in.store }

// Problem is what a feed raises. Raising a Key that exists updates that
// exception instead of adding one; see Raise.
type Problem struct {
	// Key is the stable deduplication key, e.g. "dead_letter/netsuite/eid:42"
	// (at most 512 bytes).
	Key      string
	Kind     Kind
	Severity Severity
	Location string
	Subject  string
	Title    string
	// Evidence is marshalled to JSON (an object).
	Evidence any
	// Merge, when set, computes the evidence from the stored evidence
	// (nil for a new exception) instead of Evidence: for problems that
	// accumulate, like repeated oversells of one SKU.
	Merge func(prev json.RawMessage) (any, error)
	// Suggestions are ranked by Confidence; unnamed ones are numbered.
	Suggestions []Suggestion
	// Actions are the registered actions that apply ("replay").
	Actions []string
	// Observation is the feed's token for this sighting (e.g. the dead
	// letter's last failure time): raising the same Key with the same
	// Observation again changes nothing, so feeds may re-read safely.
	Observation string
	// At is when the problem was seen (now when zero).
	At time.Time
}

// Raised says what a Raise did.
type Raised string

// Raise outcomes.
const (
	// Created: a new exception.
	Created Raised = "created"
	// Recurred: an active exception with the same key was updated.
	Recurred Raised = "recurred"
	// Reopened: a resolved exception with the same key came back open.
	Reopened Raised = "reopened"
	// Unchanged: the same observation was raised before.
	Unchanged Raised = "unchanged"
)

// Raise records a problem. A new key makes an open exception. The same key
// again updates it — evidence, suggestions, severity, last seen, one more
// occurrence — and never duplicates it: an open or acknowledged one keeps
// its state and assignee; a resolved or auto-resolved one is reopened
// (the problem came back: its history stays in one place). Each raise
// that changes something adds a line to the trail.
func (in *Inbox) Raise(ctx context.Context, p Problem) (Exception, Raised, error) {
	var x Exception
	var what Raised
	err := in.store.Inbox(ctx, func(tx *store.InboxTx) error {
		var err error
		x, what, err = in.RaiseTx(ctx, tx, p)
		return err
	})
	return x, what, err
}

// RaiseTx is Raise inside a caller's inbox transaction (a feed raising a
// batch and moving its cursor at once).
func (in *Inbox) RaiseTx(ctx context.Context, tx *store.InboxTx, p Problem) (Exception, Raised, error) {
	if err := p.validate(); err != nil {
		return Exception{}, "", err
	}
	now := p.At
	if now.IsZero() {
		now = in.now()
	}
	now = now.UTC()
	cur, err := tx.ByKey(ctx, p.Key)
	if err != nil {
		return Exception{}, "", err
	}
	if cur != nil && cur.Kind != string(p.Kind) {
		return Exception{}, "", errorf(CodeInvalid, "key %q belongs to a %s exception, not %s", p.Key, cur.Kind, p.Kind)
	}
	if cur != nil && p.Observation != "" && cur.Observation == p.Observation {
		x, err := in.fromRow(cur)
		return x, Unchanged, err
	}
	evidence := p.Evidence
	if p.Merge != nil {
		var prev json.RawMessage
		if cur != nil {
			prev = json.RawMessage(cur.Evidence)
		}
		if evidence, err = p.Merge(prev); err != nil {
			return Exception{}, "", fmt.Errorf("inbox: merge evidence of %s: %w", p.Key, err)
		}
	}
	ev, err := marshalObject(evidence)
	if err != nil {
		return Exception{}, "", errorf(CodeInvalid, "evidence of %s: %v", p.Key, err)
	}
	sugg, err := json.Marshal(rank(p.Suggestions))
	if err != nil {
		return Exception{}, "", errorf(CodeInvalid, "suggestions of %s: %v", p.Key, err)
	}
	acts, _ := json.Marshal(nonNil(p.Actions))
	row := store.ExceptionRow{Key: p.Key, Kind: string(p.Kind), Severity: string(p.Severity), Location: p.Location,
		Zone: in.zones[p.Location], Subject: p.Subject, Title: p.Title, Evidence: ev, Suggestions: string(sugg),
		Actions: string(acts), Observation: p.Observation, LastSeen: now, UpdatedAt: now}
	line := store.ExceptionAudit{At: now, Actor: "system", Note: p.Title}
	var what Raised
	if cur == nil {
		row.State, row.Occurrences, row.FirstSeen = string(Open), 1, now
		if err := tx.Insert(ctx, &row); err != nil {
			return Exception{}, "", err
		}
		line.ExceptionID, line.Action, line.ToState = row.ID, trailRaised, string(Open)
		what = Created
	} else {
		row.ID, row.FirstSeen, row.Assignee, row.Occurrences = cur.ID, cur.FirstSeen, cur.Assignee, cur.Occurrences+1
		row.State, row.ResolvedAt = cur.State, cur.ResolvedAt
		line.ExceptionID, line.FromState = cur.ID, cur.State
		if State(cur.State).Active() {
			line.Action, what = trailRecurred, Recurred
		} else {
			row.State, row.ResolvedAt = string(Open), time.Time{}
			line.Action, what = trailReopened, Reopened
			line.Note = "the problem came back: " + p.Title
		}
		line.ToState = row.State
		if err := tx.Update(ctx, &row); err != nil {
			return Exception{}, "", err
		}
	}
	if err := tx.AppendAudit(ctx, line); err != nil {
		return Exception{}, "", err
	}
	x, err := in.fromRow(&row)
	return x, what, err
}

// maxKey bounds a dedup key.
const maxKey = 512

func (p *Problem) validate() error {
	switch {
	case strings.TrimSpace(p.Key) == "":
		return errorf(CodeInvalid, "problem key is empty: every problem needs a stable deduplication key")
	case len(p.Key) > maxKey:
		return errorf(CodeInvalid, "problem key %.40q… is %d bytes; at most %d", p.Key, len(p.Key), maxKey)
	case !p.Kind.Valid():
		return errorf(CodeInvalid, "problem %s: kind %q is unknown (known: %s)", p.Key, p.Kind, kindList())
	case !p.Severity.Valid():
		return errorf(CodeInvalid, "problem %s: severity %q is unknown (use info, warning, error or critical)", p.Key, p.Severity)
	case strings.TrimSpace(p.Title) == "":
		return errorf(CodeInvalid, "problem %s: title is empty", p.Key)
	}
	for i, s := range p.Suggestions {
		if strings.TrimSpace(s.Label) == "" {
			return errorf(CodeInvalid, "problem %s: suggestions[%d].label is empty", p.Key, i)
		}
		if s.Confidence < 0 || s.Confidence > 1 || s.Confidence != s.Confidence {
			return errorf(CodeInvalid, "problem %s: suggestions[%d].confidence %v is outside 0…1", p.Key, i, s.Confidence)
		}
	}
	for i, a := range p.Actions {
		if a == "" || IsBuiltin(a) {
			return errorf(CodeInvalid, "problem %s: actions[%d] %q must name a registered action, not a built-in", p.Key, i, a)
		}
	}
	return nil
}

// rank orders suggestions by confidence, highest first (ties keep their
// order), and numbers those without an ID.
func rank(in []Suggestion) []Suggestion {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b Suggestion) int {
		switch {
		case a.Confidence > b.Confidence:
			return -1
		case a.Confidence < b.Confidence:
			return 1
		}
		return 0
	})
	for i := range out {
		if out[i].ID == "" {
			out[i].ID = strconv.Itoa(i + 1)
		}
	}
	return nonNil(out)
}

func marshalObject(v any) (string, error) {
	if v == nil {
		return "{}", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if len(b) == 0 || b[0] != '{' {
		return "", errors.New("must be a JSON object")
	}
	return string(b), nil
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

func kindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// AutoResolve closes the active exception with a key because later data
// settled it; it reports whether there was one to close.
func (in *Inbox) AutoResolve(ctx context.Context, key, note string, detail any) (bool, error) {
	var done bool
	err := in.store.Inbox(ctx, func(tx *store.InboxTx) error {
		var err error
		done, err = in.AutoResolveTx(ctx, tx, key, note, detail)
		return err
	})
	return done, err
}

// AutoResolveTx is AutoResolve inside a caller's inbox transaction.
func (in *Inbox) AutoResolveTx(ctx context.Context, tx *store.InboxTx, key, note string, detail any) (bool, error) {
	cur, err := tx.ByKey(ctx, key)
	if err != nil || cur == nil || !State(cur.State).Active() {
		return false, err
	}
	now := in.now().UTC()
	from := cur.State
	cur.State, cur.ResolvedAt, cur.UpdatedAt = string(AutoResolved), now, now
	if err := tx.Update(ctx, cur); err != nil {
		return false, err
	}
	d, err := marshalDetail(detail)
	if err != nil {
		return false, err
	}
	return true, tx.AppendAudit(ctx, store.ExceptionAudit{ExceptionID: cur.ID, At: now, Actor: "system", Action: trailAutoResolve,
		FromState: from, ToState: string(AutoResolved), Note: note, Detail: d})
}

func marshalDetail(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("inbox: trail detail: %w", err)
	}
	return string(b), nil
}

// Get returns one exception with its trail.
func (in *Inbox) Get(ctx context.Context, id int64) (Exception, error) {
	row, err := in.store.Exception(ctx, id)
	if errors.Is(err, store.ErrNoException) {
		return Exception{}, errorf(CodeNotFound, "no exception %d", id)
	}
	if err != nil {
		return Exception{}, err
	}
	x, err := in.fromRow(row)
	if err != nil {
		return Exception{}, err
	}
	trail, err := in.store.ExceptionTrail(ctx, id)
	if err != nil {
		return Exception{}, err
	}
	x.Trail = make([]Entry, len(trail))
	for i, a := range trail {
		x.Trail[i] = Entry{ID: a.ID, At: a.At, Actor: a.Actor, Action: a.Action, FromState: State(a.FromState),
			ToState: State(a.ToState), Note: a.Note}
		if a.Detail != "" {
			x.Trail[i].Detail = json.RawMessage(a.Detail)
		}
	}
	return x, nil
}

// Filter selects a page of exceptions. Empty fields do not filter.
type Filter struct {
	// State is a state, or "active" for open and acknowledged.
	State    string
	Kind     string
	Severity string
	Location string
	Assignee string
	// After is the last id of the previous page (0 for the first).
	After int64
	// Limit is the page size: DefaultLimit when 0, at most MaxLimit.
	Limit int
}

// Page sizes.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// StateActive filters open and acknowledged exceptions.
const StateActive = "active"

// Page is one page of exceptions, in id order.
type Page struct {
	Exceptions []Exception `json:"exceptions"`
	// NextAfter is the After of the next page; 0 when this is the last.
	NextAfter int64 `json:"next_after,omitempty"`
}

// List returns a page of exceptions, oldest first.
func (in *Inbox) List(ctx context.Context, f Filter) (Page, error) {
	sf := store.ExceptionFilter{Kind: f.Kind, Severity: f.Severity, Location: f.Location, Assignee: f.Assignee, After: f.After, Limit: f.Limit}
	switch {
	case f.State == "":
	case f.State == StateActive:
		sf.States = []string{string(Open), string(Acknowledged)}
	case State(f.State).Valid():
		sf.States = []string{f.State}
	default:
		return Page{}, errorf(CodeInvalid, "state %q is unknown (use open, acknowledged, resolved, auto_resolved or active)", f.State)
	}
	if f.Kind != "" && !Kind(f.Kind).Valid() {
		return Page{}, errorf(CodeInvalid, "kind %q is unknown (known: %s)", f.Kind, kindList())
	}
	if f.Severity != "" && !Severity(f.Severity).Valid() {
		return Page{}, errorf(CodeInvalid, "severity %q is unknown (use info, warning, error or critical)", f.Severity)
	}
	switch {
	case f.Limit < 0:
		return Page{}, errorf(CodeInvalid, "limit %d must be positive", f.Limit)
	case f.Limit == 0:
		sf.Limit = DefaultLimit
	case f.Limit > MaxLimit:
		sf.Limit = MaxLimit
	}
	if f.After < 0 {
		return Page{}, errorf(CodeInvalid, "after %d must not be negative", f.After)
	}
	rows, err := in.store.Exceptions(ctx, sf)
	if err != nil {
		return Page{}, err
	}
	p := Page{Exceptions: make([]Exception, 0, len(rows))}
	for i := range rows {
		x, err := in.fromRow(&rows[i])
		if err != nil {
			return Page{}, err
		}
		p.Exceptions = append(p.Exceptions, x)
	}
	if len(rows) == sf.Limit {
		p.NextAfter = rows[len(rows)-1].ID
	}
	return p, nil
}

func (in *Inbox) fromRow(r *store.ExceptionRow) (Exception, error) {
	x := Exception{ID: r.ID, Key: r.Key, Kind: Kind(r.Kind), Severity: Severity(r.Severity), State: State(r.State),
		Location: r.Location, Zone: r.Zone, Subject: r.Subject, Title: r.Title, Evidence: json.RawMessage(r.Evidence),
		Assignee: r.Assignee, Occurrences: r.Occurrences, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, UpdatedAt: r.UpdatedAt,
		observation: r.Observation}
	if !r.ResolvedAt.IsZero() {
		t := r.ResolvedAt
		x.ResolvedAt = &t
	}
	if err := json.Unmarshal([]byte(r.Suggestions), &x.Suggestions); err != nil {
		return Exception{}, fmt.Errorf("inbox: exception %d: stored suggestions: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Actions), &x.offers); err != nil {
		return Exception{}, fmt.Errorf("inbox: exception %d: stored actions: %w", r.ID, err)
	}
	x.Suggestions, x.offers = nonNil(x.Suggestions), nonNil(x.offers)
	x.Actions = allowed(x.State, x.offers)
	return x, nil
}
