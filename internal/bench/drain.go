package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// drain builds a backlog at an edge whose hub is unreachable, then lets the
// hub be reached and times the edge until its backlog is 0.
func (r *runner) drain(ctx context.Context, hubIntake float64) (*Drain, error) {
	opt := r.opt
	res := &Drain{Backlog: opt.Backlog, HubIntakeEventsPerS: hubIntake, Target: TargetDrainRatio}
	dir, err := os.MkdirTemp("", "tillsync-bench-")
	if err != nil {
		return res, fmt.Errorf("bench: temp dir: %w", err)
	}
	defer os.RemoveAll(dir)

	cat := newCatalog(opt.SKUs, 1)
	loc := cat.locations[0]
	now := time.Now().UTC()
	h, err := startHub(ctx, "sqlite:"+filepath.Join(dir, "hub.db"), cat)
	if err != nil {
		return res, err
	}
	defer h.stop()
	const posters = 8
	client := newClient(posters)
	defer client.CloseIdleConnections()
	seeded, err := seedHub(ctx, client, h.url, cat, r.run+"-seed", now)
	if err != nil {
		return res, err
	}
	// The edge reaches the hub only through a gate that holds every
	// connection until opened: to the edge the hub is away (its requests
	// go unanswered) but it builds up no retry back-off, so the drain
	// measures throughput, not the back-off schedule.
	g, err := newGate(h.addr)
	if err != nil {
		return res, err
	}
	defer g.close()
	e, err := startEdge(ctx, filepath.Join(dir, "edge.db"), "http://"+g.addr(), loc)
	if err != nil {
		return res, err
	}
	defer e.stop()

	r.progress("drain: posting %d events to the edge while the hub is unreachable", opt.Backlog)
	const perRequest = 1000
	var (
		wg      sync.WaitGroup
		taken   atomic.Int64 // events claimed by the posters
		errOnce sync.Once
		first   error
	)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for p := range posters {
		s, err := newStream(newGenerator(cat, uint64(100+p)), (*generator).next, fmt.Sprintf("%s-d%d-", r.run, p), loc, 1024, now, false)
		if err != nil {
			return res, err
		}
		wg.Go(func() {
			var buf []byte
			var next int64
			for pctx.Err() == nil {
				from := taken.Add(perRequest) - perRequest
				n := int(min(perRequest, int64(opt.Backlog)-from))
				if n <= 0 {
					return
				}
				buf = batchBody(buf[:0], func(dst []byte, j int) []byte { return s.appendEvent(dst, next+int64(j)) }, n, "")
				if err := postEvents(pctx, client, e.url, "", buf, n); err != nil {
					errOnce.Do(func() { first = err })
					cancel()
					return
				}
				next += int64(n)
			}
		})
	}
	wg.Wait()
	if first != nil {
		return res, first
	}
	fill := time.Since(start)
	res.FillEventsPerS = round(float64(opt.Backlog)/fill.Seconds(), 1)
	hl, err := edgeHealth(ctx, client, e.url)
	if err != nil {
		return res, err
	}
	if hl.Backlog != int64(opt.Backlog) {
		return res, fmt.Errorf("bench: the edge took %d events but reports a backlog of %d", opt.Backlog, hl.Backlog)
	}
	r.progress("drain: edge took %d events in %.1fs; opening the way to the hub", opt.Backlog, fill.Seconds())

	stop := r.profile("drain")
	t0 := time.Now()
	g.open()
	want := seeded + int64(opt.Backlog)
	last := t0
	err = waitFor(ctx, 10*time.Minute, 10*time.Millisecond, "the hub to hold the backlog", func() (bool, error) {
		head, err := hubHead(ctx, client, h.url)
		if time.Since(last) >= time.Second {
			last = time.Now()
			r.progress("drain: hub holds %d/%d backlog events", head-seeded, opt.Backlog)
		}
		return head >= want, err
	})
	if err == nil {
		err = waitFor(ctx, time.Minute, 5*time.Millisecond, "the edge's backlog to reach 0", func() (bool, error) {
			hl, err = edgeHealth(ctx, client, e.url)
			return hl.Backlog == 0, err
		})
	}
	took := time.Since(t0)
	stop()
	if err != nil {
		return res, err
	}
	if hl.Rejected > 0 {
		return res, fmt.Errorf("bench: the hub rejected %d backlog events: %s: %w", hl.Rejected, hl.LastError, errLost)
	}
	stored, err := h.h.Store().CountEvents(ctx)
	if err != nil {
		return res, err
	}
	if stored != want {
		return res, fmt.Errorf("bench: the edge synced %d events but the hub's log holds %d: %w", want, stored, errLost)
	}
	res.Seconds = round(took.Seconds(), 3)
	res.EventsPerS = round(float64(opt.Backlog)/took.Seconds(), 1)
	res.Ratio = ratio(res.EventsPerS, hubIntake)
	res.Pass = hubIntake > 0 && res.Ratio >= res.Target
	r.progress("drain: %d events in %.2fs: %.0f events/s", opt.Backlog, took.Seconds(), res.EventsPerS)
	return res, nil
}

// gate is a TCP proxy to target that holds every connection, unanswered,
// until opened.
type gate struct {
	ln     net.Listener
	target string
	opened chan struct{}
	closed chan struct{}
	once   sync.Once
	mu     sync.Mutex
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func newGate(target string) (*gate, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: gate: %w", err)
	}
	g := &gate{ln: ln, target: target, opened: make(chan struct{}), closed: make(chan struct{}), conns: map[net.Conn]bool{}}
	g.wg.Go(g.accept)
	return g, nil
}

func (g *gate) addr() string { return g.ln.Addr().String() }

func (g *gate) open() { close(g.opened) }

func (g *gate) accept() {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		if !g.track(c) {
			return
		}
		g.wg.Go(func() { g.pipe(c) })
	}
}

// track records a connection to close with the gate; false once closed.
func (g *gate) track(c net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.closed:
		_ = c.Close()
		return false
	default:
	}
	g.conns[c] = true
	return true
}

func (g *gate) pipe(c net.Conn) {
	defer c.Close()
	select {
	case <-g.opened:
	case <-g.closed:
		return
	}
	var dialer net.Dialer
	up, err := dialer.DialContext(context.Background(), "tcp", g.target)
	if err != nil {
		return
	}
	if !g.track(up) {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

func (g *gate) close() {
	g.once.Do(func() {
		g.mu.Lock()
		close(g.closed)
		for c := range g.conns {
			_ = c.Close()
		}
		g.mu.Unlock()
		_ = g.ln.Close()
		g.wg.Wait()
	})
}
