package intake

import (
	"encoding/json"
	"net/http"

	"github.com/tillsync/tillsync/internal/event"
)

// Error codes of the events API. They are part of the API: scripts match on
// them, so a code is never renamed or reused.
const (
	CodeUnauthorized  = "unauthorized"           // 401: missing or unknown bearer token
	CodeForbidden     = "forbidden"              // 403: the token may not do this
	CodeMalformedJSON = "malformed_json"         // 400: the body is not the expected JSON object
	CodeBadEncoding   = "bad_encoding"           // 400: Content-Encoding gzip but the body is not gzip
	CodeUnsupported   = "unsupported_media_type" // 415: not application/json
	CodeBodyTooLarge  = "body_too_large"         // 413: over the body size limit (after decompression)
	CodeTooManyEvents = "too_many_events"        // 413: more events than the batch limit
	CodeEmptyBatch    = "empty_batch"            // 400: no events
	CodeMethod        = "method_not_allowed"
	CodeUnavailable   = "unavailable"    // 503: shutting down or overloaded; retry after Retry-After
	CodeRateLimited   = "rate_limited"   // 429: this token sends too many requests; retry after Retry-After
	CodeStorage       = "storage_failed" // 500: the commit failed; nothing in the batch was stored
	CodeInvalidEvent  = "invalid_event"  // per event: decode or validation problems
	CodeWrongLocation = "wrong_location" // per event: the token may not write this location
	CodeIDConflict    = "id_conflict"    // per event: the ID is already used by a different event
)

// Error is the JSON error of the events API, for a whole request or for one
// event in a batch.
type Error struct {
	Code     string          `json:"code"`
	Message  string          `json:"message"`
	Problems []event.Problem `json:"problems,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// WriteError writes a whole-request error as {"error": {...}}.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]*Error{"error": {Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
