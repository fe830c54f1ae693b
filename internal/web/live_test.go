package web

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/store"
)

// TestLiveWidgetsAreCoalesced: however often the data changes between two
// samples, each widget changes (and is streamed) at most once per sample;
// unchanged data streams nothing.
func TestLiveWidgetsAreCoalesced(t *testing.T) {
	b := setup(t, nil)
	ctx := context.Background()
	l := b.ui.live
	l.ensure(ctx)
	l.cancel() // drive the samples by hand
	<-l.done
	v0, _ := l.current()
	for i := range 1000 {
		b.mu.Lock()
		b.health = []store.Health{{Location: "s1", LastContact: b.clock.now(), Backlog: int64(i)}}
		b.mu.Unlock()
	}
	l.step(ctx)
	v1, _ := l.current()
	if v1["stores"].version != v0["stores"].version+1 {
		t.Errorf("1000 changes between samples moved the stores widget from version %d to %d, want exactly one update",
			v0["stores"].version, v1["stores"].version)
	}
	if !strings.Contains(v1["stores"].html, `<td class="n">999</td>`) {
		t.Error("the coalesced update does not carry the newest value")
	}
	l.step(ctx)
	v2, _ := l.current()
	if v2["stores"].version != v1["stores"].version {
		t.Error("an unchanged widget was updated")
	}
}

// TestStreamSendsWidgetHTML reads the SSE stream: the current widgets
// first, then a widget again only when it changed.
func TestStreamSendsWidgetHTML(t *testing.T) {
	b := setup(t, func(o *Options) { o.UpdateEvery = 20 * time.Millisecond })
	c := b.loggedIn(t, viewerKey)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // a stuck stream fails, not hangs
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.srv.URL+"/ui/stream?w=stores", nil)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("stream answered %d %s", resp.StatusCode, ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	next := func() (string, string) {
		var name, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data += strings.TrimPrefix(line, "data: ") + "\n"
			case line == "" && name != "":
				return name, data
			}
		}
		t.Fatal("stream ended")
		return "", ""
	}
	name, data := next()
	if name != "stores" || rowState(data, "s1") != "offline" {
		t.Fatalf("first event %q, s1 %q; want stores with s1 offline", name, rowState(data, "s1"))
	}
	b.mu.Lock()
	b.health = []store.Health{{Location: "s1", LastContact: b.clock.now()}}
	b.mu.Unlock()
	name, data = next()
	if name != "stores" || rowState(data, "s1") != "online" {
		t.Errorf("after contact: event %q, s1 %q; want stores with s1 online", name, rowState(data, "s1"))
	}
	if r := c.get("/ui/stream?w=bogus"); r.status != http.StatusBadRequest {
		t.Errorf("unknown widget answered %d", r.status)
	}
}

// TestStreamEndsWithTheSession: a live stream does not outlive its
// session — after logout it closes.
func TestStreamEndsWithTheSession(t *testing.T) {
	b := setup(t, func(o *Options) { o.UpdateEvery = 20 * time.Millisecond })
	c := b.loggedIn(t, viewerKey)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, b.srv.URL+"/ui/stream?w=stores", nil)
	resp, err := c.http.Do(req) //nolint:bodyclose // closed below; read by the goroutine until the server ends it
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		buf := make([]byte, 4096)
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				return
			}
		}
	}()
	if r := c.post("/ui/logout", nil); r.status != http.StatusSeeOther {
		t.Fatalf("logout answered %d", r.status)
	}
	// Something must change for the stream to wake and notice.
	b.mu.Lock()
	b.health = []store.Health{{Location: "s1", LastContact: b.clock.now()}}
	b.mu.Unlock()
	select {
	case <-ended:
	case <-time.After(15 * time.Second):
		t.Fatal("the stream is still open 15 s after logout")
	}
}
