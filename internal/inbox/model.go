package inbox

import (
	"encoding/json"
	"fmt"
	"time"
)

// Kind is what sort of problem an exception is. Kinds are a closed list:
// a package that raises a new sort of problem adds its kind here, with a
// line in docs/inbox.md.
type Kind string

// Kinds.
const (
	// DeadLetter: an ERP destination gave up on a document (evidence: the
	// ERP's error). Action "replay"; auto-resolves when delivered.
	DeadLetter Kind = "dead_letter"
	// MappingUnknownSKU: an event names a SKU the ERP or catalogue does
	// not know; suggestions rank candidate mappings.
	MappingUnknownSKU Kind = "mapping_unknown_sku"
	// ConnectorError: a connector cannot work at all (credentials,
	// configuration, an endpoint gone).
	ConnectorError Kind = "connector_error"
	// SettlementUnmatched: a settlement line matches no sale, or a sale
	// no settlement line.
	SettlementUnmatched Kind = "settlement_unmatched"
	// ERPMissing: the completeness audit found an event that never
	// reached an ERP.
	ERPMissing Kind = "erp_missing"
	// CashVariance: a till's counted cash differs from what it should
	// hold.
	CashVariance Kind = "cash_variance"
	// Oversell: stock was promised twice (the ledger's oversell
	// detection). Auto-resolves when on hand covers every reservation.
	Oversell Kind = "oversell"
	// ShrinkageAnomaly: a SKU or store loses more stock than it should.
	ShrinkageAnomaly Kind = "shrinkage_anomaly"
	// SuspiciousPattern: a pattern of voids, refunds or discounts worth a
	// look.
	SuspiciousPattern Kind = "suspicious_pattern"
	// TransferProposal: a rebalancing proposal waiting for approval.
	TransferProposal Kind = "transfer_proposal"
)

// Kinds lists every kind, in documentation order.
var Kinds = []Kind{DeadLetter, MappingUnknownSKU, ConnectorError, SettlementUnmatched, ERPMissing,
	CashVariance, Oversell, ShrinkageAnomaly, SuspiciousPattern, TransferProposal}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// Severity is how urgent an exception is.
type Severity string

// Severities, least urgent first.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityError    Severity = "error"
	SeverityCritical Severity = "critical"
)

// Severities lists every severity, least urgent first.
var Severities = []Severity{SeverityInfo, SeverityWarning, SeverityError, SeverityCritical}

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool {
	for _, x := range Severities {
		if s == x {
			return true
		}
	}
	return false
}

// State is where an exception is in its life.
type State string

// States.
const (
	// Open: raised, nobody has taken it yet.
	Open State = "open"
	// Acknowledged: someone has taken it (or an action on it is under
	// way, such as a replay).
	Acknowledged State = "acknowledged"
	// Resolved: a person closed it.
	Resolved State = "resolved"
	// AutoResolved: later data settled it (the dead letter was delivered,
	// stock arrived).
	AutoResolved State = "auto_resolved"
)

// States lists every state.
var States = []State{Open, Acknowledged, Resolved, AutoResolved}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	for _, x := range States {
		if s == x {
			return true
		}
	}
	return false
}

// Active reports whether the exception still needs someone (open or
// acknowledged).
func (s State) Active() bool { return s == Open || s == Acknowledged }

// Suggestion is one ranked way out of an exception. Suggestions are kept
// highest confidence first.
type Suggestion struct {
	// ID names the suggestion within its exception ("1", "2", … unless the
	// feed names them); an action request refers to it.
	ID    string `json:"id"`
	Label string `json:"label"`
	// Confidence is how sure the feed is, from 0 to 1.
	Confidence float64 `json:"confidence"`
	// Action is the action that carries the suggestion out ("" for advice
	// a person follows by hand).
	Action string `json:"action,omitempty"`
	// Payload is what the action's handler needs (a SKU to map to, a
	// transfer to create).
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Exception is one problem in the inbox.
type Exception struct {
	ID int64 `json:"id"`
	// Key is the stable deduplication key: raising the same key again
	// updates this exception.
	Key      string   `json:"key"`
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	State    State    `json:"state"`
	// Location is the store the problem belongs to ("" when none).
	Location string `json:"location,omitempty"`
	// Zone is the store's IANA time zone, so its times can be shown in
	// store time; every time here is UTC.
	Zone string `json:"zone,omitempty"`
	// Subject is what the problem is about: a SKU, a document, an event.
	Subject  string          `json:"subject,omitempty"`
	Title    string          `json:"title"`
	Evidence json.RawMessage `json:"evidence"`
	// Suggestions are ranked, highest confidence first.
	Suggestions []Suggestion `json:"suggestions"`
	// Actions are the actions an operator may take now: the built-ins the
	// state allows and the registered actions the exception offers.
	Actions     []string   `json:"actions"`
	Assignee    string     `json:"assignee,omitempty"`
	Occurrences int64      `json:"occurrences"`
	FirstSeen   time.Time  `json:"first_seen"`
	LastSeen    time.Time  `json:"last_seen"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`
	// Trail is the exception's history, oldest first (Get fills it; List
	// does not).
	Trail []Entry `json:"trail,omitempty"`

	// offers are the registered actions the feed said apply.
	offers []string
	// observation is the feed's token for what it last saw.
	observation string
}

// Offers returns the registered actions the exception offers, whatever
// its state.
func (x *Exception) Offers() []string { return x.offers }

// Suggestion returns the suggestion with an ID.
func (x *Exception) Suggestion(id string) (Suggestion, bool) {
	for _, s := range x.Suggestions {
		if s.ID == id {
			return s, true
		}
	}
	return Suggestion{}, false
}

// Entry is one line of an exception's trail: who did what, when, and the
// state before and after.
type Entry struct {
	ID        int64           `json:"id"`
	At        time.Time       `json:"at"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	FromState State           `json:"from_state,omitempty"`
	ToState   State           `json:"to_state"`
	Note      string          `json:"note,omitempty"`
	Detail    json.RawMessage `json:"detail,omitempty"`
}

// Error is a failure with a stable code for the API. Codes:
//
//	invalid             bad input: the message names the field
//	not_found           no exception with that id
//	illegal_transition  the action is not allowed in the exception's state
//	unknown_action      no built-in or registered action of that name
//	action_failed       the action's handler failed (the trail says so)
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error codes.
const (
	CodeInvalid           = "invalid"
	CodeNotFound          = "not_found"
	CodeIllegalTransition = "illegal_transition"
	CodeUnknownAction     = "unknown_action"
	CodeActionFailed      = "action_failed"
)

func (e *Error) Error() string {
	if e.Err != nil {
		return "inbox: " + e.Message + ": " + e.Err.Error()
	}
	return "inbox: " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches errors of the same code, so errors.Is(err, &Error{Code: …})
// works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == ""
}

// Sentinels for errors.Is.
var (
	ErrInvalid           = &Error{Code: CodeInvalid}
	ErrNotFound          = &Error{Code: CodeNotFound}
	ErrIllegalTransition = &Error{Code: CodeIllegalTransition}
	ErrUnknownAction     = &Error{Code: CodeUnknownAction}
	ErrActionFailed      = &Error{Code: CodeActionFailed}
)

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
