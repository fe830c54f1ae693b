package shopify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"time"
)

// RetrySchedule is the wait before each retry of a failed delivery. Shopify
// documents that a delivery without a 2xx answer within 5 seconds "will be
// retried a total of 8 times over 4 hours using an exponential backoff
// schedule" and that retries carry the original payload and
// X-Shopify-Triggered-At (https://shopify.dev/changelog/updates-to-webhook-retry-mechanism,
// 2024-09-10); when failures persist, a subscription made through the Admin
// API is deleted (https://shopify.dev/docs/apps/build/webhooks/subscribe/https).
// The exact intervals are not published: this is a doubling schedule whose
// eight waits add up to four hours (56.5 s, 1.9 min, 3.8 min, … 2.1 h).
var RetrySchedule = func() []time.Duration {
	const n = 8
	base := 4 * time.Hour / (1<<n - 1)
	s := make([]time.Duration, n)
	for i := range s {
		s[i] = base << i
	}
	return s
}()

// Timeout is how long Shopify waits for an answer before counting the
// attempt as failed (one second to connect, five in all).
const Timeout = 5 * time.Second

// Emitter delivers webhooks to one endpoint as Shopify does.
type Emitter struct {
	// URL is the endpoint (the hub's POST /v1/sources/shopify/{shop}).
	URL string
	// Domain is X-Shopify-Shop-Domain; Secret the app's client secret that
	// signs X-Shopify-Hmac-Sha256; APIVersion X-Shopify-API-Version.
	Domain     string
	Secret     string
	APIVersion string
	Client     *http.Client
	// Schedule is the waits before each retry; default RetrySchedule.
	Schedule []time.Duration
	// Speedup divides every wait: 1e5 turns Shopify's four hours into
	// 144 ms. Default 1 (real time).
	Speedup float64
}

// Attempt is one POST of a delivery.
type Attempt struct {
	Topic     string
	EventID   string
	WebhookID string
	Try       int // 0 for the first attempt
	Status    int // 0 when the request failed
	Err       error
}

// Send makes one attempt: signs the body and sets Shopify's headers. The
// webhook ID identifies the delivery (the same on its retries); duplicates
// of one event get their own.
func (e *Emitter) Send(ctx context.Context, d Delivery, webhookID string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("X-Shopify-Topic", d.Topic)
	h.Set("X-Shopify-Hmac-Sha256", Sign(e.Secret, d.Body))
	h.Set("X-Shopify-Shop-Domain", e.Domain)
	h.Set("X-Shopify-API-Version", e.apiVersion())
	h.Set("X-Shopify-Webhook-Id", webhookID)
	h.Set("X-Shopify-Event-Id", d.EventID)
	h.Set("X-Shopify-Triggered-At", d.TriggeredAt.UTC().Format(time.RFC3339Nano))
	client := e.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

func (e *Emitter) apiVersion() string {
	if e.APIVersion == "" {
		return "2026-10"
	}
	return e.APIVersion
}

// Sign is X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the raw body keyed
// with the app's client secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Options shape a run of deliveries.
type Options struct {
	// Seed makes shuffling and duplication repeatable.
	Seed uint64
	// Shuffle sends the deliveries in a random order (Shopify does not
	// promise order).
	Shuffle bool
	// Duplicates is the chance that a delivery is sent twice, as its own
	// delivery of the same event (same X-Shopify-Event-Id).
	Duplicates float64
	// OnAttempt, if set, is told about every attempt.
	OnAttempt func(Attempt)
}

// Report sums up a run.
type Report struct {
	Attempts  int
	Delivered int // deliveries (duplicates included) answered 2xx
	Retries   int
	// Dropped are deliveries that failed every retry: Shopify gives up on
	// them.
	Dropped []Delivery
	// Statuses counts answers by HTTP status (0: no answer).
	Statuses map[int]int
}

type pending struct {
	d         Delivery
	webhookID string
	try       int
	due       time.Duration // since the start of the run, in Shopify time
	order     int
}

// Deliver sends every delivery, retrying failures on the schedule (waits
// divided by Speedup), until each is answered 2xx or has used up its
// retries. Attempts are sequential and earliest-due first, so a failed
// delivery is overtaken by later ones — the out-of-order arrival real
// retries cause.
func (e *Emitter) Deliver(ctx context.Context, ds []Delivery, opt Options) (Report, error) {
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed)) //nolint:gosec // simulation, not security
	schedule := e.Schedule
	if schedule == nil {
		schedule = RetrySchedule
	}
	speed := e.Speedup
	if speed <= 0 {
		speed = 1
	}
	var queue []*pending
	n := 0
	add := func(d Delivery) {
		queue = append(queue, &pending{d: d, webhookID: uuid(), order: n})
		n++
	}
	order := make([]int, len(ds))
	for i := range order {
		order[i] = i
	}
	if opt.Shuffle {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	for _, i := range order {
		add(ds[i])
		if opt.Duplicates > 0 && rng.Float64() < opt.Duplicates {
			add(ds[i])
		}
	}
	rep := Report{Statuses: map[int]int{}}
	var clock time.Duration // Shopify time elapsed
	for len(queue) > 0 {
		sort.SliceStable(queue, func(i, j int) bool {
			if queue[i].due != queue[j].due {
				return queue[i].due < queue[j].due
			}
			return queue[i].order < queue[j].order
		})
		p := queue[0]
		queue = queue[1:]
		if wait := p.due - clock; wait > 0 {
			t := time.NewTimer(time.Duration(float64(wait) / speed))
			select {
			case <-ctx.Done():
				t.Stop()
				return rep, ctx.Err()
			case <-t.C:
			}
			clock = p.due
		}
		status, err := e.Send(ctx, p.d, p.webhookID)
		rep.Attempts++
		rep.Statuses[status]++
		if opt.OnAttempt != nil {
			opt.OnAttempt(Attempt{Topic: p.d.Topic, EventID: p.d.EventID, WebhookID: p.webhookID, Try: p.try, Status: status, Err: err})
		}
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		if err == nil && status >= 200 && status < 300 {
			rep.Delivered++
			continue
		}
		if p.try >= len(schedule) {
			rep.Dropped = append(rep.Dropped, p.d)
			continue
		}
		p.due = clock + schedule[p.try]
		p.try++
		rep.Retries++
		queue = append(queue, p)
	}
	return rep, nil
}

// String describes a report in one line.
func (r Report) String() string {
	return fmt.Sprintf("%d attempts, %d delivered, %d retries, %d dropped, statuses %v",
		r.Attempts, r.Delivered, r.Retries, len(r.Dropped), r.Statuses)
}
