package e2e_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/intake"
	"github.com/tillsync/tillsync/internal/store"
)

// TestCrashEdge kills the edge process with SIGKILL twice under load and
// restarts it on the same local log. Registers whose requests died with it
// send them again; the edge answers from its log.
func TestCrashEdge(t *testing.T) {
	t.Parallel()
	crash(t, "edge")
}

// TestCrashHub kills the hub process with SIGKILL twice under load and
// restarts it on the same database. The store keeps selling meanwhile; the
// edge resends whatever the hub had not answered.
func TestCrashHub(t *testing.T) {
	t.Parallel()
	crash(t, "hub")
}

func crash(t *testing.T, victim string) {
	const rounds = 2
	ctx := testContext(t)
	mark := clock(t)
	dir := t.TempDir()
	hubDB := filepath.Join(dir, "hub.db")
	hubAddr, edgeAddr := freeAddr(t), freeAddr(t)
	hubURL, edgeURL := "http://"+hubAddr, "http://"+edgeAddr
	hubYAML := writeFile(t, dir, "hub.yaml", fmt.Sprintf(`listen: %q
insecure_plaintext: true
database: %q
stores:
  - id: %s
    name: E2E store
    zone: %s
    token_sha256: %q
log:
  level: info
  format: text
`, hubAddr, "sqlite:"+hubDB, location, zone, intake.HashToken(storeToken)))
	edgeYAML := writeFile(t, dir, "edge.yaml", fmt.Sprintf(`location: %s
zone: %s
listen: %q
data: %q
hub:
  url: %q
  insecure_plaintext: true
  token_env: TILLSYNC_EDGE_TOKEN
uplink:
  batch: 500
  live_share: 0.25
  backoff_min: 20ms
  backoff_max: 500ms
  timeout: 20s
  snapshot_interval: 500ms
  retention: 72h
log:
  level: info
  format: text
`, location, zone, edgeAddr, filepath.Join(dir, "edge.db"), hubURL))

	procs := map[string]*proc{
		"hub":  newProc(t, "hub", dir, "hub", "--config", hubYAML),
		"edge": newProc(t, "edge", dir, "edge", "--config", edgeYAML),
	}
	urls := map[string]string{"hub": hubURL, "edge": edgeURL}
	for _, name := range []string{"hub", "edge"} {
		procs[name].start()
		procs[name].waitHealthy(urls[name])
	}
	mark("hub and edge up")

	regs := newRegisters(t, edgeURL, "crash-"+victim)
	regs.Pace = time.Millisecond
	t.Cleanup(regs.Stop)
	regs.Start(ctx, 6)
	p := procs[victim]
	for round := 1; round <= rounds; round++ {
		regs.waitAcked(t, regs.Acked()+500)
		p.kill()
		mark(fmt.Sprintf("killed the %s (round %d) at %d acknowledged events", victim, round, regs.Acked()))
		switch victim {
		case "edge":
			// Registers find the store's edge gone and keep retrying.
			retries := regs.retries.Load()
			waitFor(t, "registers to retry against the dead edge", func() (bool, string) {
				n := regs.retries.Load()
				return n > retries+10, fmt.Sprint(n - retries)
			})
		case "hub":
			// The store keeps selling while the hub is down.
			regs.waitAcked(t, regs.Acked()+300)
			h := edgeHealth(t, edgeURL)
			if h.Backlog == 0 {
				t.Errorf("edge backlog is 0 while the hub is down: %+v", h)
			}
		}
		p.start()
		p.waitHealthy(urls[victim])
		mark(fmt.Sprintf("restarted the %s", victim))
	}
	regs.waitAcked(t, regs.Acked()+500)
	regs.Stop()
	mark("load stopped")
	waitDrained(t, edgeURL)
	mark("drained")
	for _, name := range []string{"edge", "hub"} {
		if err := procs[name].stop(); err != nil {
			t.Errorf("stop the %s: %v", name, err)
		}
	}

	st, err := store.Open(ctx, "sqlite:"+hubDB)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	acks := regs.Acks()
	verifyLog(t, st, acks)
	mark("verified")
	t.Logf("%d events; %d register retries; %d answered as duplicates (an earlier answer was lost)",
		len(acks), regs.retries.Load(), regs.duplicates.Load())
}

// proc is a tillsync process started from the binary TestMain built.
type proc struct {
	t       *testing.T
	ctx     context.Context
	name    string
	args    []string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error
}

func newProc(t *testing.T, name, dir string, args ...string) *proc {
	p := &proc{t: t, ctx: testContext(t), name: name, args: args, logPath: filepath.Join(dir, name+".log")}
	t.Cleanup(func() {
		if p.running() {
			p.kill()
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.logPath)
			t.Logf("--- %s process log (last 60 lines) ---\n%s", name, lastLines(string(b), 60))
		}
	})
	return p
}

// start starts the process, appending to its log.
func (p *proc) start() {
	p.t.Helper()
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		p.t.Fatal(err)
	}
	defer func() { _ = f.Close() }()                     // the child has its own copy
	cmd := exec.CommandContext(p.ctx, binary, p.args...) // killed if the test ends first
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(cleanEnv(), "TILLSYNC_EDGE_TOKEN="+storeToken)
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start the %s: %v", p.name, err)
	}
	p.cmd, p.exited, p.err = cmd, make(chan struct{}), nil
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
}

func (p *proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL — no shutdown, no flush — and waits for the process
// to be gone.
func (p *proc) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		p.t.Fatalf("kill the %s: %v", p.name, err)
	}
	<-p.exited
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.exited:
		return p.err
	case <-time.After(patience):
		p.kill()
		return fmt.Errorf("still running %s after SIGTERM; killed", patience)
	}
}

// waitHealthy waits for GET /v1/health to answer 200, failing at once if
// the process exits instead.
func (p *proc) waitHealthy(baseURL string) {
	p.t.Helper()
	waitFor(p.t, "the "+p.name+" to answer /v1/health", func() (bool, string) {
		if !p.running() {
			b, _ := os.ReadFile(p.logPath)
			p.t.Fatalf("the %s exited (%v):\n%s", p.name, p.err, lastLines(string(b), 30))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/v1/health", nil)
		resp, err := client.Do(req)
		if err != nil {
			return false, err.Error()
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// cleanEnv is the test's environment without TILLSYNC_ settings, which
// would override the config files.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TILLSYNC_") {
			env = append(env, kv)
		}
	}
	return env
}

// freeAddr returns a local address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
