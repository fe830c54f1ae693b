package intake

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/obs"
)

// Principal is who is calling and which locations it may write: a store's
// token writes its own location only; a source such as a web shop may write
// for the locations that fulfil its orders.
type Principal struct {
	// Name is the store or source the token belongs to.
	Name string
	// Location is the store's own location ("" for a multi-location source).
	Location string
	// Locations are the locations a source may write, besides Location.
	Locations map[string]bool
}

// Allows reports whether the principal may write events for a location.
func (p Principal) Allows(location string) bool {
	if location == "" {
		return false
	}
	return location == p.Location || p.Locations[location]
}

func (p Principal) describe() string {
	if p.Location != "" {
		return fmt.Sprintf("location %q", p.Location)
	}
	return fmt.Sprintf("source %q's locations", p.Name)
}

// Authenticator identifies the caller of a request.
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

// Tokens authenticates bearer tokens against SHA-256 hashes: the hub stores
// only hashes, so a leaked config or database does not leak tokens. Keys are
// lowercase hex SHA-256 of the token.
type Tokens map[string]Principal

// HashToken returns the hex SHA-256 of a token, as Tokens stores it.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ErrUnauthorized is returned for a missing or unknown token.
var ErrUnauthorized = errors.New("missing or unknown bearer token")

// Authenticate implements Authenticator.
func (t Tokens) Authenticate(r *http.Request) (Principal, error) {
	tok, ok := BearerToken(r)
	if !ok {
		return Principal{}, ErrUnauthorized
	}
	p, ok := t[HashToken(tok)]
	if !ok {
		return Principal{}, ErrUnauthorized
	}
	return p, nil
}

// BearerToken extracts the token of an "Authorization: Bearer …" header.
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// Fixed authenticates every request as one location: the edge's own POS
// terminals, on the store's network, when no terminal token is configured.
type Fixed string

// Authenticate implements Authenticator.
func (f Fixed) Authenticate(*http.Request) (Principal, error) {
	return Principal{Location: string(f)}, nil
}

// Limits bound one request, and each caller's request rate.
type Limits struct {
	MaxBodyBytes int64 // after decompression; default 16 MiB
	MaxEvents    int   // default 5000
	// RequestsPerSecond and Burst limit each principal's requests (0: no
	// limit — a store's own terminals on its edge); beyond it: 429 with
	// Retry-After. Burst defaults to two seconds' worth.
	RequestsPerSecond float64
	Burst             int
}

func (l *Limits) defaults() {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 16 << 20
	}
	if l.MaxEvents <= 0 {
		l.MaxEvents = 5000
	}
	if l.RequestsPerSecond > 0 && l.Burst <= 0 {
		l.Burst = max(2*int(l.RequestsPerSecond), 1)
	}
}

// Batch is the request body of POST /v1/events.
type Batch struct {
	Events []json.RawMessage `json:"events"`
	// Edge is the sending edge's view of its own sync, reported with every
	// uplink batch; POS terminals leave it out.
	Edge *EdgeReport `json:"edge,omitempty"`
	// Traceparents are the W3C trace contexts of the events, by index
	// ("" for none), sent by an edge with tracing on so that each event's
	// trace goes on at the hub.
	Traceparents []string `json:"traceparents,omitempty"`
}

// EdgeReport is an edge's sync state as it reports it to the hub.
type EdgeReport struct {
	ID               string    `json:"id"`
	Backlog          int64     `json:"backlog"`
	OldestUnsyncedAt time.Time `json:"oldest_unsynced_at,omitzero"`
}

// Result is the outcome for one event in the response.
type Result struct {
	Index  int    `json:"index"`
	ID     string `json:"id,omitempty"`
	Status Status `json:"status"`
	Seq    int64  `json:"seq,omitempty"`
	Error  *Error `json:"error,omitempty"`
	// Quarantined: accepted and durably held until its SKU codes are
	// mapped (see docs/mapping.md); it has no seq yet.
	Quarantined bool `json:"quarantined,omitempty"`
}

// Response is the body of a 200 answer to POST /v1/events.
type Response struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Rejected   int `json:"rejected"`
	// Quarantined counts the accepted events held for SKU mapping.
	Quarantined int      `json:"quarantined,omitempty"`
	Results     []Result `json:"results"`
}

// Submitter is the committer as the handler uses it.
type Submitter interface {
	Submit(ctx context.Context, events []*event.Event) ([]Outcome, error)
}

// Handler serves POST /v1/events.
type Handler struct {
	Auth      Authenticator
	Committer Submitter
	Limits    Limits
	Log       *slog.Logger
	// Now stamps received_at on events arriving at their first hop.
	Now func() time.Time
	// Prepare, if set, runs on every decoded event before validation: the
	// first hop's redaction and stamping.
	Prepare func(*event.Event)
	// Observe, if set, is told about every answered request.
	Observe func(ctx context.Context, p Principal, edge *EdgeReport, resp *Response)
	// Trace, if set, records a span per event and remembers each event's
	// trace context for the steps after intake.
	Trace *obs.Tracing
	// Seal, if set, seals each valid event (event.Seal) before submitting
	// it: encoding then happens in parallel, in the requests' goroutines,
	// not in the committer. Only for a committer that leaves events as
	// they are.
	Seal bool

	rateMu sync.Mutex
	rates  map[string]*rate.Limiter
}

// allow applies the principal's request rate.
func (h *Handler) allow(p Principal) (bool, time.Duration) {
	lim := h.Limits
	lim.defaults()
	if lim.RequestsPerSecond <= 0 {
		return true, 0
	}
	h.rateMu.Lock()
	if h.rates == nil {
		h.rates = map[string]*rate.Limiter{}
	}
	l := h.rates[p.Name]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(lim.RequestsPerSecond), lim.Burst)
		h.rates[p.Name] = l
	}
	h.rateMu.Unlock()
	r := l.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return false, d
	}
	return true, 0
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		WriteError(w, http.StatusMethodNotAllowed, CodeMethod, "use POST")
		return
	}
	p, err := h.Auth.Authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tillsync"`)
		WriteError(w, http.StatusUnauthorized, CodeUnauthorized, err.Error())
		return
	}
	if ok, wait := h.allow(p); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		WriteError(w, http.StatusTooManyRequests, CodeRateLimited, "too many requests from "+p.Name+"; nothing was stored; retry after Retry-After")
		return
	}
	batch, status, apiErr := h.readBatch(w, r)
	if apiErr != nil {
		WriteError(w, status, apiErr.Code, apiErr.Message)
		return
	}
	resp, err := h.process(r.Context(), p, batch.Events, batch.Traceparents)
	if err != nil {
		h.log().WarnContext(r.Context(), "events not stored", "location", p.Location, "events", len(batch.Events), "err", err)
		switch {
		case errors.Is(err, ErrOverloaded), errors.Is(err, ErrClosed):
			w.Header().Set("Retry-After", "1")
			WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "not accepting events right now; nothing was stored; retry")
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			// The client went away; it will retry and learn the outcome.
		default:
			WriteError(w, http.StatusInternalServerError, CodeStorage, "storage failed; nothing in this batch was stored; retry")
		}
		return
	}
	if h.Observe != nil {
		h.Observe(r.Context(), p, batch.Edge, resp)
	}

	writeJSON(w, http.StatusOK, resp)
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

func (h *Handler) readBatch(w http.ResponseWriter, r *http.Request) (*Batch, int, *Error) {
	lim := h.Limits
	lim.defaults()
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, http.StatusUnsupportedMediaType, &Error{Code: CodeUnsupported, Message: fmt.Sprintf("Content-Type %q: send application/json", ct)}
		}
	}
	body := http.MaxBytesReader(w, r.Body, lim.MaxBodyBytes)
	var src io.Reader = body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, http.StatusBadRequest, &Error{Code: CodeBadEncoding, Message: "Content-Encoding is gzip but the body is not gzip: " + err.Error()}
		}
		defer zr.Close()
		src = zr
	default:
		return nil, http.StatusUnsupportedMediaType, &Error{Code: CodeUnsupported, Message: fmt.Sprintf("Content-Encoding %q: send gzip or nothing", enc)}
	}
	raw, err := io.ReadAll(io.LimitReader(src, lim.MaxBodyBytes+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || int64(len(raw)) > lim.MaxBodyBytes:
		return nil, http.StatusRequestEntityTooLarge, &Error{Code: CodeBodyTooLarge,
			Message: fmt.Sprintf("body is over the %d-byte limit (after decompression); split the batch", lim.MaxBodyBytes)}
	case err != nil:
		return nil, http.StatusBadRequest, &Error{Code: CodeBadEncoding, Message: "reading body: " + err.Error()}
	}
	var b Batch
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, http.StatusBadRequest, &Error{Code: CodeMalformedJSON, Message: describeBodyError(raw, err)}
	}
	if len(bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, http.StatusBadRequest, &Error{Code: CodeMalformedJSON, Message: "unexpected data after the JSON object"}
	}
	switch {
	case len(b.Events) == 0:
		return nil, http.StatusBadRequest, &Error{Code: CodeEmptyBatch, Message: `no events: send {"events": [...]}`}
	case len(b.Events) > lim.MaxEvents:
		return nil, http.StatusRequestEntityTooLarge, &Error{Code: CodeTooManyEvents,
			Message: fmt.Sprintf("%d events in one batch; the limit is %d: split the batch", len(b.Events), lim.MaxEvents)}
	}
	return &b, 0, nil
}

func describeBodyError(raw []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Offset counts the offending byte: the error is at the byte before.
		line, col := position(raw, se.Offset-1)
		return fmt.Sprintf("malformed JSON at line %d, column %d (byte %d): %v", line, col, se.Offset, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf(`field %q must be a JSON %s; send {"events": [...]}`, te.Field, te.Type)
	}
	if errors.Is(err, io.EOF) {
		return `empty body: send {"events": [...]}`
	}
	return err.Error() + `; send {"events": [...]}`
}

func position(raw []byte, off int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < off && i < int64(len(raw)); i++ {
		if raw[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// process decodes, checks and commits the events of one batch.
func (h *Handler) process(ctx context.Context, p Principal, raws []json.RawMessage, traceparents []string) (*Response, error) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	received := now().UTC()
	resp := &Response{Results: make([]Result, len(raws))}
	var valid []*event.Event
	var index []int
	for i, raw := range raws {
		res := &resp.Results[i]
		res.Index = i
		var e event.Event
		// readBatch has checked that raw is one valid JSON value, so call
		// UnmarshalJSON directly: json.Unmarshal would scan it twice more
		// (validate, then skip) before calling the same method.
		if err := e.UnmarshalJSON(raw); err != nil {
			res.ID = peekID(raw)
			res.Status, res.Error = StatusRejected, decodeFailure(err)
			continue
		}
		res.ID = e.ID
		if e.ReceivedAt.IsZero() {
			e.ReceivedAt = received
		}
		if h.Prepare != nil {
			h.Prepare(&e)
		}
		if err := e.Validate(); err != nil {
			var ve *event.ValidationError
			errors.As(err, &ve)
			res.Status, res.Error = StatusRejected, &Error{Code: CodeInvalidEvent, Message: err.Error(), Problems: ve.Problems}
			continue
		}
		if !p.Allows(e.Location) {
			res.Status, res.Error = StatusRejected, &Error{Code: CodeWrongLocation,
				Message: fmt.Sprintf("this token writes events for %s, not %q", p.describe(), e.Location)}
			continue
		}
		valid = append(valid, &e)
		index = append(index, i)
	}
	if h.Seal {
		for _, e := range valid {
			_ = e.Seal() // an event that cannot be encoded is left to the committer to report
		}
	}
	if len(valid) > 0 {
		// Wait for the commit even if the client hangs up: the events are
		// stored either way, and what was stored is counted (Observe).
		spans := h.traceEvents(ctx, valid, index, traceparents)
		outs, err := h.Committer.Submit(context.WithoutCancel(ctx), valid)
		if err != nil {
			spans.Fail(err)
			return nil, err
		}
		for j, o := range outs {
			res := &resp.Results[index[j]]
			res.Status, res.Seq, res.Error, res.Quarantined = o.Status, o.Seq, o.Err, o.Quarantined
			spans.End(j, o.Seq, string(o.Status))
		}
	}
	for _, r := range resp.Results {
		switch r.Status {
		case StatusAccepted:
			resp.Accepted++
			if r.Quarantined {
				resp.Quarantined++
			}
		case StatusDuplicate:
			resp.Duplicates++
		default:
			resp.Rejected++
		}
	}
	return resp, nil
}

func decodeFailure(err error) *Error {
	var de *event.DecodeError
	if errors.As(err, &de) {
		return &Error{Code: CodeInvalidEvent, Message: de.Error(), Problems: []event.Problem{{Field: de.Field, Rule: de.Rule, Message: de.Msg}}}
	}
	return &Error{Code: CodeInvalidEvent, Message: err.Error()}
}

// peekID finds an event's ID in JSON that does not decode as an event, so
// the caller can tell which one was rejected.
func peekID(raw []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &v)
	return v.ID
}

// traceEvents starts a span per event, in the event's own trace when its
// edge sent one, before the commit: the destinations, woken by the commit,
// find each event's trace context already there.
func (h *Handler) traceEvents(ctx context.Context, valid []*event.Event, index []int, traceparents []string) *obs.EventSpans {
	if !h.Trace.Enabled() {
		return nil
	}
	ids := make([]string, len(valid))
	tps := make([]string, len(valid))
	for j, e := range valid {
		ids[j] = e.ID
		if index[j] < len(traceparents) {
			tps[j] = traceparents[index[j]]
		}
	}
	return h.Trace.StartEvents(ctx, "tillsync.intake.event", ids, tps)
}
