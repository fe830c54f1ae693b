package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/channel/webhook"
	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/retryafter"
)

// Spec describes the signed-webhook connector.
var Spec = erp.Spec{
	Kind: "webhook",
	Doc: "Any HTTP receiver: documents POSTed as signed JSON batches (X-Tillsync-Signature, as tillsync's " +
		"availability webhooks), one Idempotency-Key per document, answered with one result per document.",
	Fields: fields,
	New:    func(settings map[string]string, deps erp.Deps) (erp.Connector, error) { return New(settings, deps) },
}

var fields = []erp.Field{
	{Name: "url", Required: true, Doc: "Receiver URL; https outside a private network."},
	{Name: "secret", Required: true, Secret: true, Doc: "Shared secret the deliveries are signed with (HMAC-SHA256)."},
	{Name: "max_batch", Default: "50", Doc: "Documents per delivery."},
}

// Result statuses a receiver answers.
const (
	StatusCreated = "created"
	StatusExists  = "exists"
	StatusError   = "error"
)

// Delivery is the JSON body of a request.
type Delivery struct {
	DeliveryID string     `json:"delivery_id"`
	Documents  []Document `json:"documents"`
}

// Document is one document of a delivery: an erp.Document and its
// idempotency key (its external ID).
type Document struct {
	IdempotencyKey string `json:"idempotency_key"`
	erp.Document
}

// Response is the JSON body of a 200 answer.
type Response struct {
	Results []Result `json:"results"`
}

// Result is the receiver's verdict on one document.
type Result struct {
	ExternalID string `json:"external_id"`
	Status     string `json:"status"`
	Error      string `json:"error,omitempty"`
	Permanent  bool   `json:"permanent,omitempty"`
}

// Connector posts to one receiver.
type Connector struct {
	url      string
	secret   []byte
	maxBatch int
	http     *http.Client
	log      *slog.Logger
	now      func() time.Time
}

var (
	_ erp.Connector = (*Connector)(nil)
	_ erp.Checker   = (*Connector)(nil)
)

// New builds a connector from settings (secrets already resolved).
func New(settings map[string]string, deps erp.Deps) (*Connector, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(settings[name]); v != "" {
			return v
		}
		for _, f := range fields {
			if f.Name == name {
				return f.Default
			}
		}
		return ""
	}
	for _, f := range fields {
		if f.Required && get(f.Name) == "" {
			return nil, fmt.Errorf("webhook: setting %s is required: %s", f.Name, f.Doc)
		}
	}
	u, err := url.Parse(get("url"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook: setting url %q is not an http(s) URL", get("url"))
	}
	if len(get("secret")) < 16 {
		return nil, errors.New("webhook: setting secret must be at least 16 characters: receivers trust what it signs")
	}
	n, err := strconv.Atoi(get("max_batch"))
	if err != nil || n < 1 || n > 1000 {
		return nil, fmt.Errorf("webhook: setting max_batch %q must be a whole number from 1 to 1000", get("max_batch"))
	}
	c := &Connector{url: u.String(), secret: []byte(get("secret")), maxBatch: n, http: deps.HTTP, log: deps.Log, now: deps.Clock}
	if c.http == nil {
		c.http = &http.Client{Timeout: 60 * time.Second}
	}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// MaxBatch implements erp.Connector.
func (c *Connector) MaxBatch() int { return c.maxBatch }

// Check sends a signed delivery of no documents: the receiver verifies the
// signature and answers 200 with no results.
func (c *Connector) Check(ctx context.Context) error {
	_, err := c.send(ctx, nil)
	return err
}

// Post implements erp.Connector.
func (c *Connector) Post(ctx context.Context, docs []erp.Document) ([]error, error) {
	errs := make([]error, len(docs))
	send := make([]erp.Document, 0, len(docs))
	for i, d := range docs {
		if d.ExternalID == "" {
			errs[i] = erp.PermanentError(errors.New("webhook: a document without an external ID has no idempotency key"))
			continue
		}
		send = append(send, d)
	}
	if len(send) == 0 {
		return errs, nil
	}
	res, err := c.send(ctx, send)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Result, len(res.Results))
	for _, r := range res.Results {
		byID[r.ExternalID] = r
	}
	for i, d := range docs {
		if errs[i] != nil {
			continue
		}
		r, ok := byID[d.ExternalID]
		switch {
		case !ok:
			errs[i] = erp.Retryable(fmt.Errorf("webhook: the receiver reported nothing about %s", d.ExternalID))
		case r.Status == StatusCreated || r.Status == StatusExists:
		case r.Status == StatusError && r.Permanent:
			errs[i] = &erp.Error{Class: erp.Permanent, Status: http.StatusOK, Code: "error", Err: fmt.Errorf("webhook: receiver refused %s: %s", d.ExternalID, r.Error)}
		case r.Status == StatusError:
			errs[i] = &erp.Error{Class: erp.Retry, Status: http.StatusOK, Code: "error", Err: fmt.Errorf("webhook: receiver failed %s: %s", d.ExternalID, r.Error)}
		default:
			errs[i] = erp.Retryable(fmt.Errorf("webhook: the receiver answered status %q for %s", r.Status, d.ExternalID))
		}
	}
	return errs, nil
}

// deliveryID names a batch by its documents' keys, so every retry of the
// same batch carries the same X-Tillsync-Delivery.
func deliveryID(keys []string) string {
	sum := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	return "erp-" + hex.EncodeToString(sum[:16])
}

func (c *Connector) send(ctx context.Context, docs []erp.Document) (Response, error) {
	keys := make([]string, len(docs))
	body := Delivery{Documents: make([]Document, len(docs))}
	for i, d := range docs {
		keys[i] = d.ExternalID
		body.Documents[i] = Document{IdempotencyKey: d.ExternalID, Document: d}
	}
	body.DeliveryID = deliveryID(keys)
	raw, err := json.Marshal(body)
	if err != nil {
		return Response{}, erp.PermanentError(fmt.Errorf("webhook: encode: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(raw))
	if err != nil {
		return Response{}, erp.PermanentError(fmt.Errorf("webhook: %w", err))
	}
	now := c.now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tillsync-erp-webhook/1")
	if len(keys) > 0 {
		req.Header.Set("Idempotency-Key", strings.Join(keys, ","))
	}
	req.Header.Set(webhook.HeaderDelivery, body.DeliveryID)
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.HeaderSignature, webhook.Sign(c.secret, now, raw))
	resp, err := c.http.Do(req)
	if err != nil {
		return Response{}, erp.Retryable(fmt.Errorf("webhook: delivery %s: %w", body.DeliveryID, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return Response{}, erp.Retryable(fmt.Errorf("webhook: delivery %s: read the answer: %w", body.DeliveryID, err))
	}
	if resp.StatusCode != http.StatusOK {
		return Response{}, c.classify(resp, data)
	}
	var out Response
	if err := json.Unmarshal(data, &out); err != nil || (len(docs) > 0 && out.Results == nil) {
		return Response{}, erp.Retryable(fmt.Errorf("webhook: delivery %s: the answer is not {\"results\": [...]}: %.200s", body.DeliveryID, data))
	}
	return out, nil
}

func (c *Connector) classify(resp *http.Response, data []byte) error {
	msg := strings.TrimSpace(string(data))
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &body) == nil && body.Error != "" {
		msg = body.Error
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	e := &erp.Error{Class: erp.Permanent, Status: resp.StatusCode}
	switch st := resp.StatusCode; {
	case st == http.StatusTooManyRequests, st == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		e.Class, e.RetryAfter = erp.RateLimited, retryafter.Parse(resp.Header.Get("Retry-After"), c.now())
		e.Err = fmt.Errorf("webhook: receiver busy: %s", msg)
	case st >= 500 || st == http.StatusRequestTimeout:
		e.Class = erp.Retry
		e.Err = fmt.Errorf("webhook: receiver error: %s", msg)
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		e.Err = fmt.Errorf("webhook: the receiver refused the signature (%s): check that the secret setting matches the receiver's", msg)
	default:
		e.Err = fmt.Errorf("webhook: receiver refused the delivery: %s", msg)
	}
	return e
}
