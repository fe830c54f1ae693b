package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// binary is the tillsync binary TestMain builds for the crash tests.
var binary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tillsync-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary, err = build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build the tillsync binary:", err)
		return 1
	}
	return m.Run()
}

// build compiles ./cmd/tillsync from the module root into dir — with the
// race detector when these tests have it, so the real processes are checked
// too.
func build(dir string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	bin := filepath.Join(dir, "tillsync")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/tillsync")...)
	cmd.Dir = filepath.Dir(gomod)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w\n%s", err, b)
	}
	return bin, nil
}

// logSink collects a component's log lines and prints them only if the test
// fails: a passing run stays quiet, a failing one shows what happened.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func newLogSink(t *testing.T, name string) *logSink {
	s := &logSink{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- %s log (last 60 lines) ---\n%s", name, s.tail(60))
		}
	})
	return s
}

func (s *logSink) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(b)
}

func (s *logSink) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return lastLines(s.buf.String(), n)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// clock logs how far a test has got, for reading a slow run.
func clock(t *testing.T) func(what string) {
	start := time.Now()
	return func(what string) { t.Logf("%6.2fs %s", time.Since(start).Seconds(), what) }
}

// waitFor polls cond until it holds or patience runs out; cond returns
// whether it holds and, for the failure message, what it saw.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(patience)
	pause := 5 * time.Millisecond
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last saw: %s", patience, what, saw)
		}
		time.Sleep(pause)
		pause = min(pause*3/2, 100*time.Millisecond) // a health check costs the system under test too
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

// getJSON GETs url and decodes a 200 answer into v.
func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, bytes.TrimSpace(b))
	}
	return json.Unmarshal(b, v)
}
