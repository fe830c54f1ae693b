package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tillsync/tillsync/internal/config"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/obs"
	"github.com/tillsync/tillsync/internal/redact"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// A hub logging JSON (as `tillsync hub` does) writes each request's lines
// with its request_id, the one it answered in X-Request-ID.
func TestHubLogLinesCarryRequestID(t *testing.T) {
	buf := &syncBuffer{}
	log := slog.New(obs.NewLogHandler(redact.NewLogHandler(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	cfg := config.DefaultHub()
	cfg.Database = "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	cfg.Stores = []config.Store{{ID: "s1", Zone: et.Zone, TokenSHA256: intake.HashToken(tokS1)}}
	h, err := hub.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		_ = h.Close()
	}()
	url := "http://" + ln.Addr().String()

	ids := map[string]string{} // request → X-Request-ID answered
	for _, c := range []struct{ name, method, path, sentID string }{
		{"stores", http.MethodGet, "/v1/stores", "trace-me-1"},
		{"events", http.MethodPost, "/v1/events", ""},
	} {
		var body *strings.Reader
		if c.method == http.MethodPost {
			b, _ := json.Marshal(map[string]any{"events": []any{et.Sale("rid-1", "s1", et.Base, et.L("A", 1))}})
			body = strings.NewReader(string(b))
		} else {
			body = strings.NewReader("")
		}
		req, _ := http.NewRequestWithContext(ctx, c.method, url+c.path, body)
		req.Header.Set("Authorization", "Bearer "+tokS1)
		if c.sentID != "" {
			req.Header.Set("X-Request-ID", c.sentID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		ids[c.name] = resp.Header.Get("X-Request-ID")
		if c.sentID != "" && ids[c.name] != c.sentID {
			t.Errorf("%s: answered X-Request-ID %q, want the caller's %q", c.name, ids[c.name], c.sentID)
		}
		if ids[c.name] == "" {
			t.Errorf("%s: no X-Request-ID in the answer", c.name)
		}
	}
	seen := map[string]int{}
	for _, l := range buf.lines(t) {
		if l["msg"] != "request" {
			continue
		}
		rid, _ := l["request_id"].(string)
		seen[rid]++
		if l["path"] == "/v1/stores" && rid != ids["stores"] || l["path"] == "/v1/events" && rid != ids["events"] {
			t.Errorf("request line for %v has request_id %q; answered %v", l["path"], rid, ids)
		}
	}
	for name, id := range ids {
		if seen[id] != 1 {
			t.Errorf("%s (%s): %d request log lines with its request_id, want 1", name, id, seen[id])
		}
	}
}
