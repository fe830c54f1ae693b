// Package link is a TCP fault proxy: it sits between an edge and its hub
// (or any client and server) and can cut the network between them on
// command — every open connection reset at once, new ones refused — then
// restore it. Tests and the demo use it to simulate a store losing its
// internet connection.
//
// It must not interpret what it carries: it forwards bytes, counts them and
// breaks connections, nothing else.
package link

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// dialTimeout bounds how long the proxy waits for the target to accept.
const dialTimeout = 5 * time.Second

// Proxy forwards TCP connections from its own address to a target.
type Proxy struct {
	target string
	ln     net.Listener

	// closing is closed by Close; it cancels dials in progress.
	closing chan struct{}

	mu     sync.Mutex
	cut    bool
	closed bool
	conns  map[*pipe]struct{}
	wg     sync.WaitGroup

	cuts, accepted, refused, dropped, failed atomic.Int64
	up, down                                 atomic.Int64
}

// pipe is one forwarded connection: the client's side and the target's.
type pipe struct {
	client, server net.Conn
	done           atomic.Bool // closed or reset already
}

// Stats counts what the proxy has done since New.
type Stats struct {
	// Cuts is how many times the link went down.
	Cuts int64
	// Accepted is how many connections were forwarded to the target.
	Accepted int64
	// Refused is how many connections were reset at once because the link
	// was cut when they arrived.
	Refused int64
	// Dropped is how many forwarded connections a Cut (or Close) tore down.
	Dropped int64
	// Failed is how many connections were reset because the target could
	// not be reached.
	Failed int64
	// Active is how many connections are open now.
	Active int64
	// BytesUp and BytesDown are bytes forwarded client → target and
	// target → client.
	BytesUp, BytesDown int64
}

// New starts a proxy on 127.0.0.1 (a free port) that forwards to target
// ("host:port"). The link starts up.
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("link: listen: %w", err)
	}
	p := &Proxy{target: target, ln: ln, conns: map[*pipe]struct{}{}, closing: make(chan struct{})}
	p.wg.Go(p.accept)
	return p, nil
}

// Addr is the proxy's address ("127.0.0.1:port"): point clients here.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Cut takes the link down: every open connection is reset now, and new ones
// are reset as soon as they arrive, until Restore. It returns how many open
// connections it tore down.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	if !p.cut {
		p.cuts.Add(1)
	}
	p.cut = true
	open := make([]*pipe, 0, len(p.conns))
	for c := range p.conns {
		open = append(open, c)
	}
	p.mu.Unlock()
	return p.drop(open)
}

// drop resets open pipes and counts those it tore down (not those already
// ending on their own).
func (p *Proxy) drop(open []*pipe) int {
	n := 0
	for _, c := range open {
		if c.reset() {
			n++
		}
	}
	p.dropped.Add(int64(n))
	return n
}

// Restore brings the link back up for new connections.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// IsCut reports whether the link is down.
func (p *Proxy) IsCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

// Flap cuts and restores the link in turn — up for period, down for period —
// until ctx ends, and leaves it up. It returns how many times it cut.
func (p *Proxy) Flap(ctx context.Context, period time.Duration) int {
	t := time.NewTicker(period)
	defer t.Stop()
	defer p.Restore()
	cuts := 0
	for {
		select {
		case <-ctx.Done():
			return cuts
		case <-t.C:
		}
		if p.IsCut() {
			p.Restore()
			continue
		}
		p.Cut()
		cuts++
	}
}

// Stats returns the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	active := int64(len(p.conns))
	p.mu.Unlock()
	return Stats{
		Cuts: p.cuts.Load(), Accepted: p.accepted.Load(), Refused: p.refused.Load(), Dropped: p.dropped.Load(), Failed: p.failed.Load(),
		Active: active, BytesUp: p.up.Load(), BytesDown: p.down.Load(),
	}
}

// Close stops listening, resets every open connection and waits for the
// proxy's goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	open := make([]*pipe, 0, len(p.conns))
	for c := range p.conns {
		open = append(open, c)
	}
	p.mu.Unlock()
	close(p.closing)
	err := p.ln.Close()
	p.drop(open)
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or the like: do not spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.mu.Lock()
		cut, closed := p.cut, p.closed
		p.mu.Unlock()
		if cut || closed {
			p.refused.Add(1)
			resetConn(c)
			continue
		}
		p.wg.Go(func() { p.forward(c) })
	}
}

// forward dials the target for client and copies both ways until both
// directions end or the pipe is reset.
func (p *Proxy) forward(client net.Conn) {
	server, err := p.dialTarget()
	if err != nil {
		p.failed.Add(1)
		resetConn(client)
		return
	}
	c := &pipe{client: client, server: server}
	p.mu.Lock()
	if p.cut || p.closed { // cut while dialling
		p.mu.Unlock()
		p.refused.Add(1)
		c.reset()
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	p.accepted.Add(1)

	var wg sync.WaitGroup
	wg.Go(func() { c.copy(server, client, &p.up) })
	wg.Go(func() { c.copy(client, server, &p.down) })
	wg.Wait()
	c.close() // both directions ended cleanly, or the pipe was reset already
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// dialTarget connects to the target, giving up after dialTimeout or when the
// proxy closes.
func (p *Proxy) dialTarget() (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	go func() {
		select {
		case <-p.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	return (&net.Dialer{}).DialContext(ctx, "tcp", p.target)
}

// copy forwards src to dst. At src's clean end it half-closes dst, so a
// client that shuts down its sending side still gets its answer; on any
// error the whole pipe is reset.
func (c *pipe) copy(dst, src net.Conn, n *atomic.Int64) {
	_, err := io.Copy(counter{dst, n}, src)
	if err != nil {
		c.reset()
		return
	}
	if hc, ok := dst.(interface{ CloseWrite() error }); ok {
		if hc.CloseWrite() == nil {
			return
		}
	}
	c.reset()
}

// reset closes both sides with a TCP reset, so neither peer waits for
// anything more: a dead link, not a polite goodbye. It reports whether this
// call closed the pipe.
func (c *pipe) reset() bool {
	if c.done.Swap(true) {
		return false
	}
	resetConn(c.client)
	resetConn(c.server)
	return true
}

// close closes both sides normally, so data still on its way to a peer is
// delivered.
func (c *pipe) close() {
	if c.done.Swap(true) {
		return
	}
	_ = c.client.Close()
	_ = c.server.Close()
}

func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// counter is a writer that adds what it writes to n.
type counter struct {
	w net.Conn
	n *atomic.Int64
}

func (c counter) Write(b []byte) (int, error) {
	k, err := c.w.Write(b)
	c.n.Add(int64(k))
	return k, err
}
