package netsuite

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

// maxBody bounds what is read of an answer: records read back (a sales
// order's lines, a lookup) are small; anything longer is not ours.
const maxBody = 4 << 20

// call sends one signed request and decodes a JSON answer into out (when
// out is not nil and the answer has a body). Every failure comes back as
// an *erp.Error classified for the destination engine.
func (c *Connector) call(ctx context.Context, method, path, rawQuery string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return erp.PermanentError(fmt.Errorf("encode %s %s: %w", method, path, err))
		}
		rd = bytes.NewReader(b)
	}
	target := c.cfg.baseURL + path
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return misconfigured("build request %s %s: %w", method, target, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := c.signer.sign(req); err != nil {
		return erp.PermanentError(err)
	}
	began := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "netsuite request failed", "method", method, "path", path, "err", err)
		// Timeouts, resets, refused connections, and a dropped answer to a
		// write NetSuite may have committed: all transient, and a retry is
		// safe because every write is keyed by external ID.
		return erp.Retryable(fmt.Errorf("%s %s: %w", method, path, err))
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	// Never the Authorization header; paths hold record types and IDs only.
	c.log.DebugContext(ctx, "netsuite request", "method", method, "path", path, "status", resp.StatusCode, "took", c.now().Sub(began))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil || len(bytes.TrimSpace(data)) == 0 {
			return nil
		}
		if readErr != nil {
			return erp.Retryable(fmt.Errorf("%s %s: reading the answer: %w", method, path, readErr))
		}
		if err := json.Unmarshal(data, out); err != nil {
			return erp.Retryable(fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, err))
		}
		return nil
	}
	return c.classify(method, path, resp, data)
}

// problem is NetSuite's error body (Oracle, "Error Handling in REST Web
// Services": https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156570709583.html):
//
//	{"type": "...", "title": "Bad Request", "status": 400,
//	 "o:errorDetails": [{"detail": "...", "o:errorCode": "INVALID_CONTENT", "o:errorPath": "item.items[0].item"}]}
type problem struct {
	Title   string `json:"title"`
	Status  int    `json:"status"`
	Details []struct {
		Detail    string `json:"detail"`
		Code      string `json:"o:errorCode"`
		Path      string `json:"o:errorPath"`
		URLPath   string `json:"o:urlPath"`
		Header    string `json:"o:errorHeader"`
		QueryPart string `json:"o:errorQueryParam"`
	} `json:"o:errorDetails"`
}

// Error codes that mean "too much load, come back later". REST answers
// 429 for its concurrency limit; RESTlets answer 400 SSS_REQUEST_LIMIT_EXCEEDED
// and SOAP WS_REQUEST_BLOCKED / WS_CONCUR_SESSION_DISALLWD (Oracle, "Errors
// Related to Concurrency Violations":
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/bridgehead_1525252812.html),
// which some proxies and gateways relay as they are.
var loadCodes = map[string]bool{
	"CONCURRENCY_LIMIT_EXCEEDED": true,
	"SSS_REQUEST_LIMIT_EXCEEDED": true,
	"WS_REQUEST_BLOCKED":         true,
	"WS_CONCUR_SESSION_DISALLWD": true,
	"REQUEST_LIMIT_EXCEEDED":     true,
}

// Error codes that are transient even though the status is 4xx: the
// record was changed by someone else between NetSuite's load and save, or
// NetSuite itself failed.
var transientCodes = map[string]bool{
	"RCRD_HAS_BEEN_CHANGED": true,
	"UNEXPECTED_ERROR":      true,
	"SESSION_TIMED_OUT":     true,
}

// classify turns an error answer into a classified error.
func (c *Connector) classify(method, path string, resp *http.Response, data []byte) error {
	var p problem
	msg := ""
	code := ""
	if json.Unmarshal(data, &p) == nil && len(p.Details) > 0 {
		code = p.Details[0].Code
		parts := make([]string, 0, len(p.Details))
		for _, d := range p.Details {
			s := d.Detail
			if d.Path != "" {
				s += " (at " + d.Path + ")"
			}
			parts = append(parts, s)
		}
		msg = strings.Join(parts, "; ")
	} else {
		msg = strings.TrimSpace(string(data))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		if msg == "" {
			msg = resp.Status
		}
	}
	e := &erp.Error{Status: resp.StatusCode, Code: code, Err: fmt.Errorf("%s %s: %s", method, path, msg)}
	switch st := resp.StatusCode; {
	case st == http.StatusTooManyRequests || loadCodes[code]:
		e.Class = erp.RateLimited
		e.RetryAfter = retryafter.Parse(resp.Header.Get("Retry-After"), c.now())
	case st == http.StatusUnauthorized:
		// INVALID_LOGIN: the token, its secret, the consumer key or secret,
		// or the realm (account ID) is wrong, or the token is revoked. No
		// document can succeed until an operator fixes the settings.
		e.Class = erp.Misconfigured
		e.Err = fmt.Errorf("NetSuite refused the login, so the credentials are wrong: check account_id, consumer_key, consumer_secret, token_id and token_secret, "+
			"and that the token is not revoked (NetSuite: Setup > Users/Roles > User Management > View Login Audit Trail). This is configuration, not data: %w", e.Err)
	case st == http.StatusForbidden:
		e.Class = erp.Misconfigured
		e.Err = fmt.Errorf("NetSuite refused the request for lack of permission: give the token's role the REST Web Services and Log in using Access Tokens permissions and access to this record type: %w", e.Err)
	case st == http.StatusRequestTimeout || st >= 500 || transientCodes[code]:
		e.Class = erp.Retry
	default:
		e.Class = erp.Permanent
	}
	return e
}

// status returns the HTTP status of a classified error (0 if none).
func status(err error) int {
	var e *erp.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}
