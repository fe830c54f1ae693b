package sap

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/retryafter"
)

// odataError reads an OData V2 error body:
//
//	{"error":{"code":"M3/305","message":{"lang":"en","value":"…"},
//	          "innererror":{"errordetails":[{"code":"…","message":"…","severity":"error"}]}}}
//
// SAP Gateway puts the T100 message (class/number) in code and every
// message of the application log in errordetails. Anything else (an HTML
// logon page, a plain-text proxy error) is returned as trimmed text.
func odataError(body []byte) (code, msg string) {
	var e struct {
		Error struct {
			Code    string          `json:"code"`
			Message json.RawMessage `json:"message"`
			Inner   struct {
				Details []struct {
					Code     string `json:"code"`
					Message  string `json:"message"`
					Severity string `json:"severity"`
				} `json:"errordetails"`
			} `json:"innererror"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || (e.Error.Code == "" && len(e.Error.Message) == 0) {
		return "", snippet(body)
	}
	var m struct {
		Value string `json:"value"`
	}
	if json.Unmarshal(e.Error.Message, &m) != nil { // OData V4 style: a plain string
		_ = json.Unmarshal(e.Error.Message, &m.Value)
	}
	msg = m.Value
	for _, d := range e.Error.Inner.Details {
		if d.Message != "" && d.Message != msg && !strings.EqualFold(d.Severity, "info") &&
			!strings.EqualFold(d.Severity, "success") {
			msg += "; " + d.Message
		}
	}
	return e.Error.Code, msg
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// classify turns an HTTP failure (of the whole request, or of one change
// set inside a $batch) into the class that steers the engine:
//
//   - 401: permanent — the credentials are wrong; retrying cannot help.
//   - 403 (not a CSRF refusal, handled before): permanent — the user lacks
//     the authorisation (communication arrangement or role) for the API.
//   - 429, and 503 with Retry-After: rate limited, with the server's delay.
//   - 408, 412, 5xx: retry — transient, or (412) a repeatable request the
//     server would no longer vouch for; the retry looks the record up first.
//   - other 4xx (400, 404, 409, 422 …): permanent — SAP refused the data.
func classify(status int, h http.Header, body []byte, what string) *erp.Error {
	code, msg := odataError(body)
	e := &erp.Error{Status: status, Code: code}
	switch {
	case status == http.StatusUnauthorized:
		e.Class = erp.Permanent
		e.Err = fmt.Errorf("%s: SAP rejected the credentials: check the user and password (or token) and the SAP client", what)
		return e
	case status == http.StatusForbidden:
		e.Class = erp.Permanent
		e.Err = fmt.Errorf("%s: the SAP user is not authorised: check the credentials and the communication arrangement/role "+
			"for this API", what)
		if msg != "" {
			e.Err = fmt.Errorf("%w: %s", e.Err, msg)
		}
		return e
	case status == http.StatusTooManyRequests:
		e.Class, e.RetryAfter = erp.RateLimited, retryafter.Parse(h.Get("Retry-After"), time.Now())
	case status == http.StatusServiceUnavailable && h.Get("Retry-After") != "":
		e.Class, e.RetryAfter = erp.RateLimited, retryafter.Parse(h.Get("Retry-After"), time.Now())
	case status == http.StatusRequestTimeout, status == http.StatusPreconditionFailed, status >= 500:
		e.Class = erp.Retry
	case status >= 300 && status < 400:
		e.Class = erp.Permanent
		e.Err = fmt.Errorf("%s: redirected to %q: the service wants an interactive logon; use a communication user", what, h.Get("Location"))
		return e
	case status >= 400:
		e.Class = erp.Permanent
	default:
		e.Class = erp.Retry
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	e.Err = fmt.Errorf("%s: %s", what, msg)
	return e
}

// uncertain reports whether a failed request may have been committed by
// SAP before the answer was lost: anything but a clear refusal (4xx) or a
// failure to build the request.
func uncertain(err error) bool {
	var e *erp.Error
	if errors.As(err, &e) && e.Status >= 400 && e.Status < 500 &&
		e.Status != http.StatusRequestTimeout && e.Status != http.StatusPreconditionFailed {
		return false
	}
	return true
}
