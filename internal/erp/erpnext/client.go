package erpnext

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/retryafter"
)

// apiError is the body of a Frappe v1 API error: the exception's class
// name (exc_type), its last traceback line (exception, when tracebacks are
// allowed) and the messages the server raised (_server_messages, a JSON
// string holding a list of JSON strings with a "message" each); see
// frappe/utils/response.py report_error. The status is the exception's
// http_status_code: 417 for ValidationError and its subclasses
// (LinkValidationError, MandatoryError, UniqueValidationError), 404
// DoesNotExistError, 409 DuplicateEntryError, 401 AuthenticationError, 403
// PermissionError, 429 TooManyRequestsError (with Retry-After from the rate
// limiter), 500 for anything unhandled (frappe/exceptions.py).
type apiError struct {
	ExcType        string `json:"exc_type"`
	Exception      string `json:"exception"`
	ServerMessages string `json:"_server_messages"`
}

var tags = regexp.MustCompile(`<[^>]*>`)

// message is the human text of the error.
func (e apiError) message() string {
	var parts []string
	var raw []string
	if json.Unmarshal([]byte(e.ServerMessages), &raw) == nil {
		for _, r := range raw {
			var m struct {
				Message string `json:"message"`
			}
			if json.Unmarshal([]byte(r), &m) == nil && m.Message != "" {
				parts = append(parts, strings.TrimSpace(tags.ReplaceAllString(m.Message, "")))
			}
		}
	}
	if len(parts) == 0 && e.Exception != "" {
		parts = append(parts, e.Exception)
	}
	return strings.Join(parts, "; ")
}

// do makes one API call: query parameters for reads, a JSON body for
// writes, and "Authorization: token api_key:api_secret".
// https://docs.frappe.io/framework/user/en/api/rest
func (c *Connector) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := c.cfg.baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return erp.PermanentError(fmt.Errorf("erpnext %s: encode: %w", path, err))
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return erp.PermanentError(fmt.Errorf("erpnext %s: %w", path, err))
	}
	req.Header.Set("Authorization", "token "+c.cfg.apiKey+":"+c.cfg.apiSecret)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tillsync-erpnext/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return erp.Retryable(fmt.Errorf("erpnext %s %s: %w", method, path, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return erp.Retryable(fmt.Errorf("erpnext %s %s: read the answer: %w", method, path, err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.classify(resp, data, path)
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return erp.Retryable(fmt.Errorf("erpnext %s %s: unreadable answer: %w", method, path, err))
	}
	return nil
}

// classify turns a Frappe error answer into an *erp.Error whose Code is
// Frappe's exc_type.
func (c *Connector) classify(resp *http.Response, data []byte, path string) error {
	var body apiError
	_ = json.Unmarshal(data, &body)
	msg := body.message()
	if msg == "" {
		msg = strings.TrimSpace(string(data))
		if len(msg) > 300 || strings.HasPrefix(msg, "<") {
			msg = http.StatusText(resp.StatusCode)
		}
	}
	e := &erp.Error{Class: erp.Permanent, Status: resp.StatusCode, Code: body.ExcType}
	switch st := resp.StatusCode; {
	case st == http.StatusUnauthorized:
		e.Err = fmt.Errorf("erpnext refused the credentials on %s (%s): check the api_key and api_secret settings (sent as token api_key:api_secret) and that the API user is enabled", path, msg)
	case st == http.StatusForbidden:
		e.Err = fmt.Errorf("erpnext %s: the API user is not permitted (%s): give it roles that may create and submit the documents tillsync posts", path, msg)
	case st == http.StatusTooManyRequests:
		e.Class, e.RetryAfter = erp.RateLimited, retryafter.Parse(resp.Header.Get("Retry-After"), c.now())
		e.Err = fmt.Errorf("erpnext %s: rate limit: %s", path, msg)
	case st == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		e.Class, e.RetryAfter = erp.RateLimited, retryafter.Parse(resp.Header.Get("Retry-After"), c.now())
		e.Err = fmt.Errorf("erpnext %s: overloaded: %s", path, msg)
	case st >= 500 || st == http.StatusRequestTimeout:
		e.Class = erp.Retry
		e.Err = fmt.Errorf("erpnext %s: server error: %s", path, msg)
	default: // 417 validation, 404 missing, 409 duplicate, 400 …
		e.Err = fmt.Errorf("erpnext %s refused: %s", path, msg)
	}
	return e
}

// refusal reports an error about what a document carries (a validation,
// a missing link, a duplicate), as opposed to the call, the server or the
// credentials: the other documents of a refused batch may be fine.
func refusal(err error) bool {
	var e *erp.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Status {
	case http.StatusExpectationFailed, http.StatusNotFound, http.StatusConflict:
		return true
	}
	return false
}

// duplicate reports Frappe's refusal of a second record with the same
// unique reference: DuplicateEntryError (409) for a name, or
// UniqueValidationError (417) for a unique field such as ref_field.
func duplicate(err error) bool {
	var e *erp.Error
	return errors.As(err, &e) && (e.Code == "DuplicateEntryError" || e.Code == "UniqueValidationError")
}

func erpPermanent(format string, args ...any) error {
	return erp.PermanentError(fmt.Errorf("erpnext: "+format, args...))
}
