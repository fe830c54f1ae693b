package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/retryafter"
)

// apiError is the body of a JSON-2 error answer: "a 4xx/5xx status with a
// JSON-serialized error object in the body" with name (the Python
// exception), message, arguments, context and debug (the traceback).
// https://www.odoo.com/documentation/19.0/developer/reference/external_api.html#response
type apiError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// call runs one JSON-2 call: POST /json/2/<model>/<method> with the named
// arguments as a JSON object, the API key as a bearer token and, when set,
// the database in X-Odoo-Database. Each call is its own SQL transaction,
// committed on success and rolled back on error (doc: "Transaction").
func (c *Connector) call(ctx context.Context, model, method string, args map[string]any, out any) error {
	body, err := json.Marshal(args)
	if err != nil {
		return erp.PermanentError(fmt.Errorf("odoo %s/%s: encode: %w", model, method, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.baseURL+"/json/2/"+model+"/"+method, bytes.NewReader(body))
	if err != nil {
		return erp.PermanentError(fmt.Errorf("odoo %s/%s: %w", model, method, err))
	}
	req.Header.Set("Authorization", "bearer "+c.cfg.apiKey)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "tillsync-odoo/1")
	if c.cfg.database != "" {
		req.Header.Set("X-Odoo-Database", c.cfg.database)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// A timeout, a reset, or the answer lost after Odoo committed:
		// transient, and the retry's search_read finds what was committed.
		return erp.Retryable(fmt.Errorf("odoo %s/%s: %w", model, method, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return erp.Retryable(fmt.Errorf("odoo %s/%s: read the answer: %w", model, method, err))
	}
	if resp.StatusCode != http.StatusOK {
		return c.classify(resp, data, model, method)
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return erp.Retryable(fmt.Errorf("odoo %s/%s: unreadable answer: %w", model, method, err))
	}
	return nil
}

// classify turns a JSON-2 error answer into an *erp.Error. Odoo answers
// UserError and its subclasses (ValidationError, MissingError, AccessError,
// AccessDenied) with the exception's http_status — 422 for UserError and
// ValidationError, 403 for access errors, 404 for a missing record — and
// werkzeug HTTP errors with their own code (401 "Invalid apikey", 404 for an
// unknown model or method, 429 from a rate-limiting proxy); anything else is
// a 500 (odoo/http.py Json2Dispatcher.handle_error, odoo/exceptions.py).
func (c *Connector) classify(resp *http.Response, data []byte, model, method string) error {
	var body apiError
	_ = json.Unmarshal(data, &body)
	msg := strings.TrimSpace(body.Message)
	if msg == "" {
		msg = strings.TrimSpace(string(data))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
	}
	e := &erp.Error{Class: erp.Permanent, Status: resp.StatusCode, Code: body.Name}
	what := model + "/" + method
	switch st := resp.StatusCode; {
	case st == http.StatusUnauthorized || (st == http.StatusForbidden && strings.HasSuffix(body.Name, "AccessDenied")):
		e.Err = fmt.Errorf("odoo refused the credentials on %s (%s): check the api_key setting (a bot user's key from Preferences → Account Security; keys expire after at most three months) and, on a multi-database server, the database setting", what, msg)
	case st == http.StatusForbidden:
		e.Err = fmt.Errorf("odoo %s: the API user lacks access rights (%s): grant the bot user the Sales, Inventory and Accounting rights tillsync posts with", what, msg)
	case st == http.StatusTooManyRequests:
		e.Class, e.RetryAfter = erp.RateLimited, retryafter.Parse(resp.Header.Get("Retry-After"), c.now())
		e.Err = fmt.Errorf("odoo %s: too many requests: %s", what, msg)
	case st == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		// Workers saturated behind a proxy that says when to come back:
		// load, so the governor backs off.
		e.Class, e.RetryAfter = erp.RateLimited, retryafter.Parse(resp.Header.Get("Retry-After"), c.now())
		e.Err = fmt.Errorf("odoo %s: overloaded: %s", what, msg)
	case st >= 500 || st == http.StatusRequestTimeout:
		e.Class = erp.Retry
		e.Err = fmt.Errorf("odoo %s: server error: %s", what, msg)
	case st == http.StatusNotFound && strings.HasPrefix(body.Name, "werkzeug."):
		e.Err = fmt.Errorf("odoo %s not found (%s): is the app that provides it installed, and on a multi-database server is the database setting right?", what, msg)
	default: // 400 bad request, 404 missing record, 422 validation
		e.Err = fmt.Errorf("odoo %s refused: %s", what, msg)
	}
	return e
}

// isValidation reports an Odoo UserError/ValidationError (HTTP 422): the
// call's transaction was rolled back because of what it carried.
func isValidation(err error) bool {
	var e *erp.Error
	return errors.As(err, &e) && e.Status == http.StatusUnprocessableEntity
}

func erpPermanent(format string, args ...any) error {
	return erp.PermanentError(fmt.Errorf("odoo: "+format, args...))
}
