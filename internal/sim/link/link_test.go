package link_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/sim/link"
)

// guard bounds every blocking read and write in these tests: a read that
// hits it is a proxy that hangs, which is the failure being tested for.
const guard = 10 * time.Second

// echo starts a TCP server that writes back every line it reads and closes
// its side when the client closes its own.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func setup(t *testing.T, target string) *link.Proxy {
	t.Helper()
	p, err := link.New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func dial(t *testing.T, p *link.Proxy) net.Conn {
	t.Helper()
	c, err := (&net.Dialer{Timeout: guard}).DialContext(t.Context(), "tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(guard))
	return c
}

// roundTrip sends a line and reads it back.
func roundTrip(c net.Conn, line string) (string, error) {
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

// assertDead checks that c is broken — the read fails at once with a reset
// or EOF, not by running into the guard deadline.
func assertDead(t *testing.T, c net.Conn) {
	t.Helper()
	_, err := roundTrip(c, "anyone there?")
	if err == nil {
		t.Fatal("connection still carries data")
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection hung until the %s guard instead of failing: %v", guard, err)
	}
}

// assertRefused checks that a new connection to p fails at once: the dial
// itself may see the reset, or the first round trip does.
func assertRefused(t *testing.T, p *link.Proxy) {
	t.Helper()
	c, err := (&net.Dialer{Timeout: guard}).DialContext(t.Context(), "tcp", p.Addr())
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("dial hung until the %s guard: %v", guard, err)
		}
		return
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(guard))
	assertDead(t, c)
}

// waitStats polls until ok holds for the proxy's counters: they are updated
// by the proxy's goroutines just after the peer sees the effect.
func waitStats(t *testing.T, p *link.Proxy, ok func(link.Stats) bool) link.Stats {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		st := p.Stats()
		if ok(st) || time.Now().After(deadline) {
			return st
		}
		time.Sleep(time.Millisecond)
	}
}

func TestForwardsAndCounts(t *testing.T) {
	t.Parallel()
	p := setup(t, echo(t))
	c := dial(t, p)
	for _, msg := range []string{"hello", "sale 1", strings.Repeat("x", 100_000)} {
		got, err := roundTrip(c, msg)
		if err != nil {
			t.Fatal(err)
		}
		if got != msg {
			t.Fatalf("echo returned %d bytes, want %d", len(got), len(msg))
		}
	}
	const want = int64(len("hello\n") + len("sale 1\n") + 100_001)
	st := p.Stats()
	if st.BytesUp != want || st.BytesDown != want {
		t.Errorf("bytes up %d down %d, want %d each", st.BytesUp, st.BytesDown, want)
	}
	if st.Accepted != 1 || st.Active != 1 || st.Refused != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v, want one accepted and active connection", st)
	}
}

func TestHalfCloseDeliversTheAnswer(t *testing.T) {
	t.Parallel()
	p := setup(t, echo(t))
	c := dial(t, p)
	if _, err := io.WriteString(c, "last words"); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read after half-close: %v", err)
	}
	if string(got) != "last words" {
		t.Fatalf("got %q after half-close, want the echo", got)
	}
}

func TestCutTearsDownOpenConnections(t *testing.T) {
	t.Parallel()
	p := setup(t, echo(t))
	c1, c2 := dial(t, p), dial(t, p)
	for _, c := range []net.Conn{c1, c2} {
		if _, err := roundTrip(c, "up"); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.Cut(); n != 2 {
		t.Errorf("Cut tore down %d connections, want 2", n)
	}
	assertDead(t, c1)
	assertDead(t, c2)
	p.Cut() // already down: not a second cut
	if st := p.Stats(); st.Dropped != 2 || st.Cuts != 1 {
		t.Errorf("dropped %d, cuts %d; want 2 and 1", st.Dropped, st.Cuts)
	}
}

func TestCutRefusesNewConnectionsUntilRestore(t *testing.T) {
	t.Parallel()
	p := setup(t, echo(t))
	p.Cut()
	if !p.IsCut() {
		t.Fatal("IsCut is false after Cut")
	}
	for range 3 {
		assertRefused(t, p)
	}
	if st := waitStats(t, p, func(s link.Stats) bool { return s.Refused == 3 }); st.Refused != 3 || st.Accepted != 0 {
		t.Errorf("stats %+v, want 3 refused and none accepted", st)
	}
	p.Restore()
	got, err := roundTrip(dial(t, p), "back")
	if err != nil || got != "back" {
		t.Fatalf("after Restore: %q, %v", got, err)
	}
}

func TestCutUnblocksAReaderWaitingForData(t *testing.T) {
	t.Parallel()
	// A client waiting for an answer that will never come (a hub mid-commit
	// when the line drops) must be woken by the cut, not by its timeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	held := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			held <- c // read nothing, answer nothing
		}
	}()
	p := setup(t, ln.Addr().String())
	c := dial(t, p)
	if _, err := io.WriteString(c, "POST /v1/events\n"); err != nil {
		t.Fatal(err)
	}
	srv := <-held
	t.Cleanup(func() { _ = srv.Close() })
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	p.Cut()
	err = <-done
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("blocked read ended with %v, want a reset", err)
	}
	// The target's side is torn down too.
	_ = srv.SetReadDeadline(time.Now().Add(guard))
	if _, err := io.ReadAll(srv); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("target side still open after Cut")
	}
}

func TestUnreachableTargetFailsFast(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	p := setup(t, addr)
	assertRefused(t, p)
	if st := waitStats(t, p, func(s link.Stats) bool { return s.Failed == 1 }); st.Failed != 1 {
		t.Errorf("failed %d, want 1", st.Failed)
	}
}

func TestFlapAlternatesAndEndsUp(t *testing.T) {
	t.Parallel()
	p := setup(t, echo(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- p.Flap(ctx, 20*time.Millisecond) }()
	// Watch the link go down and come back up at least twice.
	deadline := time.Now().Add(guard)
	var downs, ups int
	was := false
	for (downs < 2 || ups < 2) && time.Now().Before(deadline) {
		now := p.IsCut()
		switch {
		case now && !was:
			downs++
		case !now && was:
			ups++
		}
		was = now
		time.Sleep(time.Millisecond)
	}
	cancel()
	cuts := <-done
	if downs < 2 || ups < 2 {
		t.Fatalf("saw %d cuts and %d restores before the deadline", downs, ups)
	}
	if cuts < 2 || int64(cuts) != p.Stats().Cuts {
		t.Errorf("Flap reported %d cuts and Stats %d, want the same, at least 2", cuts, p.Stats().Cuts)
	}
	if p.IsCut() {
		t.Fatal("link is still cut after Flap returned")
	}
	if got, err := roundTrip(dial(t, p), "steady"); err != nil || got != "steady" {
		t.Fatalf("after Flap: %q, %v", got, err)
	}
}

func TestCloseResetsAndStops(t *testing.T) {
	t.Parallel()
	p := setup(t, echo(t))
	c := dial(t, p)
	if _, err := roundTrip(c, "hi"); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	assertDead(t, c)
	if _, err := (&net.Dialer{Timeout: time.Second}).DialContext(t.Context(), "tcp", p.Addr()); err == nil {
		t.Error("proxy still accepts connections after Close")
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func ExampleProxy() {
	// Put the proxy between a client and its server, then break the line.
	p, err := link.New("127.0.0.1:8080") // the hub
	if err != nil {
		panic(err)
	}
	defer func() { _ = p.Close() }()
	_ = "http://" + p.Addr() // give this URL to the edge as its hub
	p.Cut()                  // the store loses its internet
	p.Restore()              // and gets it back
}
