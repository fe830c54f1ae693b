package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/edge"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
)

var quiet = slog.New(slog.DiscardHandler)

// token is the bearer token of a benchmark store.
func token(loc string) string { return "bench-token-" + loc }

// runningHub is a hub serving on a loopback port.
type runningHub struct {
	h    *hub.Hub
	url  string
	addr string
	stop func()
}

// startHub opens a hub on database that accepts every location of cat, and
// serves it on 127.0.0.1 until stop.
func startHub(ctx context.Context, database string, cat *catalog) (*runningHub, error) {
	return startHubWith(ctx, database, cat, nil)
}

// startHubWith is startHub with tune, if set, changing the config first.
func startHubWith(ctx context.Context, database string, cat *catalog, tune func(*config.Hub)) (*runningHub, error) {
	cfg := config.DefaultHub()
	cfg.Listen = "127.0.0.1:0"
	cfg.Database = database
	for _, loc := range cat.locations {
		cfg.Stores = append(cfg.Stores, config.Store{ID: loc, Name: loc, Zone: zone, TokenSHA256: intake.HashToken(token(loc))})
	}
	if tune != nil {
		tune(&cfg)
	}
	h, err := hub.New(ctx, cfg, quiet)
	if err != nil {
		return nil, fmt.Errorf("bench: start hub: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("bench: start hub: %w", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.Serve(runCtx, ln)
	}()
	addr := ln.Addr().String()
	var once sync.Once
	return &runningHub{h: h, url: "http://" + addr, addr: addr, stop: func() {
		once.Do(func() {
			cancel()
			<-done
			_ = h.Close()
		})
	}}, nil
}

// runningEdge is an edge serving on a loopback port.
type runningEdge struct {
	e    *edge.Edge
	url  string
	stop func()
}

// startEdge opens an edge for loc with its local log at data, sending to
// hubURL, and serves it on 127.0.0.1 until stop.
func startEdge(ctx context.Context, data, hubURL, loc string) (*runningEdge, error) {
	cfg := config.DefaultEdge()
	cfg.Location, cfg.Zone, cfg.Listen, cfg.Data = loc, zone, "127.0.0.1:0", data
	cfg.Hub = config.EdgeHub{URL: hubURL, Token: token(loc), InsecurePlaintext: true}
	e, err := edge.New(ctx, cfg, quiet, edge.Options{})
	if err != nil {
		return nil, fmt.Errorf("bench: start edge: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = e.Close()
		return nil, fmt.Errorf("bench: start edge: %w", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.Serve(runCtx, ln)
	}()
	var once sync.Once
	return &runningEdge{e: e, url: "http://" + ln.Addr().String(), stop: func() {
		once.Do(func() {
			cancel()
			<-done
			_ = e.Close()
		})
	}}, nil
}

// newClient returns an HTTP client that keeps a connection per concurrent
// caller instead of opening new ones.
func newClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = conns * 2
	t.MaxIdleConnsPerHost = conns * 2
	t.DisableCompression = true
	return &http.Client{Transport: t, Timeout: 60 * time.Second}
}

// errLost is wrapped by every error that means events were not stored.
var errLost = errors.New("events lost")

// postEvents posts one batch to an events endpoint (hub or edge) and checks
// that every event was stored: accepted or, on a retry, duplicate. An
// overloaded server (503) is retried.
func postEvents(ctx context.Context, c *http.Client, url, bearer string, body []byte, want int) error {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/events", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("bench: post %d events to %s: %w", want, url, err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return fmt.Errorf("bench: post %d events to %s: %w", want, url, err)
		}
		if resp.StatusCode == http.StatusServiceUnavailable && attempt < 100 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("bench: post %d events to %s: %w: answered %d: %s", want, url, errLost, resp.StatusCode, strings.TrimSpace(string(b)))
		}
		var r struct {
			Accepted, Duplicates, Rejected int
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("bench: answer from %s does not decode: %w", url, err)
		}
		if r.Rejected > 0 || r.Accepted+r.Duplicates != want {
			var full intake.Response
			_ = json.Unmarshal(b, &full)
			why := ""
			for _, res := range full.Results {
				if res.Error != nil {
					why = fmt.Sprintf("; first: %s %s", res.ID, res.Error.Error())
					break
				}
			}
			return fmt.Errorf("bench: %s stored %d of %d events (%d rejected)%s: %w", url, r.Accepted+r.Duplicates, want, r.Rejected, why, errLost)
		}
		return nil
	}
}

// getJSON decodes the JSON answer of a GET.
func getJSON(ctx context.Context, c *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// hubHead reads the hub's log head from GET /v1/health.
func hubHead(ctx context.Context, c *http.Client, hubURL string) (int64, error) {
	var h struct {
		LogHead int64 `json:"log_head"`
	}
	err := getJSON(ctx, c, hubURL+"/v1/health", &h)
	return h.LogHead, err
}

// edgeHealth reads an edge's GET /v1/health.
func edgeHealth(ctx context.Context, c *http.Client, edgeURL string) (edge.Health, error) {
	var h edge.Health
	err := getJSON(ctx, c, edgeURL+"/v1/health", &h)
	return h, err
}

// waitFor polls cond every interval until it holds, fails, or timeout.
func waitFor(ctx context.Context, timeout, interval time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("bench: waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: %s did not happen within %s", what, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// commitStats is the hub's group-commit histograms, as /metrics shows them.
type commitStats struct {
	batches     float64 // commits
	events      float64 // events in them
	requests    float64 // requests in them
	commitSecs  float64 // time appending and committing
	fsyncSecs   float64 // time in COMMIT itself
	fsyncCounts float64
}

func (a commitStats) add(b commitStats) commitStats {
	return commitStats{a.batches + b.batches, a.events + b.events, a.requests + b.requests,
		a.commitSecs + b.commitSecs, a.fsyncSecs + b.fsyncSecs, a.fsyncCounts + b.fsyncCounts}
}

func (a commitStats) sub(b commitStats) commitStats {
	return commitStats{a.batches - b.batches, a.events - b.events, a.requests - b.requests,
		a.commitSecs - b.commitSecs, a.fsyncSecs - b.fsyncSecs, a.fsyncCounts - b.fsyncCounts}
}

// scrapeCommits reads the group-commit histograms from the hub's /metrics.
func scrapeCommits(ctx context.Context, c *http.Client, hubURL string) (commitStats, error) {
	var s commitStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hubURL+"/metrics", nil)
	if err != nil {
		return s, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return s, fmt.Errorf("bench: read hub metrics: %w", err)
	}
	defer resp.Body.Close()
	fields := map[string]*float64{
		"tillsync_commit_batch_events_count":  &s.batches,
		"tillsync_commit_batch_events_sum":    &s.events,
		"tillsync_commit_batch_requests_sum":  &s.requests,
		"tillsync_commit_seconds_sum":         &s.commitSecs,
		"tillsync_commit_fsync_seconds_sum":   &s.fsyncSecs,
		"tillsync_commit_fsync_seconds_count": &s.fsyncCounts,
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if dst := fields[name]; ok && dst != nil {
			v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil {
				return s, fmt.Errorf("bench: hub metric %s: %w", name, err)
			}
			*dst = v
		}
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("bench: read hub metrics: %w", err)
	}
	return s, nil
}
