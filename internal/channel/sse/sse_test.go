package sse_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/channel/sse"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/store"
	"github.com/tillsync/tillsync/internal/store/storetest"
)

var channels = []availability.Channel{
	{Name: "web", Buffer: event.Units(1)},
	{Name: "market", Locations: map[string]bool{"s1": true}},
}

type bundle struct {
	st       *store.Store
	broker   *availability.Broker
	stopping chan struct{}
	srv      *httptest.Server
}

func setup(t *testing.T, heartbeat time.Duration) *bundle {
	t.Helper()
	b := &bundle{
		st:       storetest.Open(t, storetest.Engine{Name: "sqlite", DSN: storetest.SQLiteDSN}),
		broker:   availability.NewBroker(),
		stopping: make(chan struct{}),
	}
	b.srv = httptest.NewServer(&sse.Handler{Broker: b.broker, Store: b.st, Channels: channels, Heartbeat: heartbeat, Stopping: b.stopping})
	t.Cleanup(b.srv.Close)
	return b
}

func at(minute int) time.Time { return et.Base.Add(time.Duration(minute) * time.Minute) }

func (b *bundle) appendEvents(t *testing.T, evs ...*event.Event) int64 {
	t.Helper()
	out, err := b.st.Append(context.Background(), evs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return out.MaxSeq
}

// frame is one Server-Sent Event: fields by name, comments aside.
type frame struct {
	id, event, data, retry string
	comments               []string
}

// stream is an open event stream.
type stream struct {
	resp   *http.Response
	frames chan frame
}

// open connects to the stream; it returns once the server has answered
// (and so has subscribed).
func (b *bundle) open(t *testing.T, query, lastEventID string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.srv.URL+"/v1/availability/stream"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	s := &stream{resp: resp, frames: make(chan frame, 100)}
	if resp.StatusCode != http.StatusOK {
		close(s.frames)
		return s
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	go func() {
		defer close(s.frames)
		sc := bufio.NewScanner(resp.Body)
		var f frame
		empty := true
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				if !empty {
					s.frames <- f
				}
				f, empty = frame{}, true
				continue
			}
			empty = false
			if c, ok := strings.CutPrefix(line, ":"); ok {
				f.comments = append(f.comments, strings.TrimSpace(c))
				continue
			}
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch k {
			case "id":
				f.id = v
			case "event":
				f.event = v
			case "data":
				f.data += v
			case "retry":
				f.retry = v
			default:
				t.Errorf("unknown field in %q", line)
			}
		}
	}()
	return s
}

// next returns the next frame, or fails after a deadline.
func (s *stream) next(t *testing.T) (frame, bool) {
	t.Helper()
	select {
	case f, ok := <-s.frames:
		return f, ok
	case <-time.After(10 * time.Second):
		t.Fatal("no frame from the stream")
		return frame{}, false
	}
}

// nextUpdate skips frames that carry no data (retry, heartbeats) and
// decodes the next availability update.
func (s *stream) nextUpdate(t *testing.T) (availability.Update, frame) {
	t.Helper()
	for {
		f, ok := s.next(t)
		if !ok {
			t.Fatal("the stream ended")
		}
		if f.data == "" {
			continue
		}
		if f.event != "availability" {
			t.Errorf("event %q, want availability", f.event)
		}
		var u availability.Update
		if err := json.Unmarshal([]byte(f.data), &u); err != nil {
			t.Fatalf("data %q: %v", f.data, err)
		}
		if f.id != strconv.FormatInt(u.Seq, 10) {
			t.Errorf("id %q for an update at seq %d", f.id, u.Seq)
		}
		return u, f
	}
}

func describe(u availability.Update) string {
	return fmt.Sprintf("%s %s@%s=%s#%d", u.Channel, u.SKU, u.Location, u.Available, u.Seq)
}

func update(ch, sku, loc string, avail, seq int64) availability.Update {
	return availability.Update{Channel: ch, SKU: sku, Location: loc, Available: event.Units(avail), Seq: seq}
}

func TestStreamLiveUpdates(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	s := b.open(t, "", "")
	if f, _ := s.next(t); f.retry != "1000" {
		t.Errorf("first frame %+v, want the retry hint", f)
	}
	u := update("web", "JKT", "s1", 4, 17)
	u.OnHand, u.Reserved, u.Events = event.Units(6), event.Units(1), []string{"sale-9"}
	b.broker.Publish([]availability.Update{u})
	got, f := s.nextUpdate(t)
	if f.id != "17" {
		t.Errorf("id %q, want 17", f.id)
	}
	if describe(got) != "web JKT@s1=4#17" || got.OnHand != event.Units(6) || got.Reserved != event.Units(1) || len(got.Events) != 1 {
		t.Errorf("update %+v", got)
	}
	b.broker.Publish([]availability.Update{update("web", "JKT", "s1", 3, 18)})
	if got, _ := s.nextUpdate(t); describe(got) != "web JKT@s1=3#18" {
		t.Errorf("second update %s", describe(got))
	}
}

func TestStreamReconnectBackfillsThenGoesLive(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("OLD", 5)))       // seq 1
	b.appendEvents(t, et.Receive("rcv-2", "s1", at(1), et.L("JKT", 5)))       // seq 2
	b.appendEvents(t, et.Receive("rcv-3", "s2", at(2), et.L("HAT", 3)))       // seq 3
	head := b.appendEvents(t, et.Sale("sale-1", "s1", at(3), et.L("JKT", 2))) // seq 4

	// The client last saw seq 3: it gets seq 3 again (it may have been cut
	// off mid-way) and everything after, from the ledger, with each
	// channel's rules: web holds back 1; market sells only from s1.
	s := b.open(t, "", "3")
	var got []string
	for range 3 {
		u, _ := s.nextUpdate(t)
		got = append(got, describe(u))
	}
	want := []string{"web HAT@s2=2#3", "market JKT@s1=3#4", "web JKT@s1=2#4"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("backfill\n got %v\nwant %v", got, want)
	}

	// Then live.
	b.broker.Publish([]availability.Update{update("web", "JKT", "s1", 1, head+1)})
	if u, _ := s.nextUpdate(t); describe(u) != fmt.Sprintf("web JKT@s1=1#%d", head+1) {
		t.Errorf("live after backfill: %s", describe(u))
	}
}

func TestStreamBackfillIsFiltered(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 5), et.L("HAT", 5)))
	b.appendEvents(t, et.Receive("rcv-2", "s2", at(1), et.L("JKT", 5)))
	s := b.open(t, "?sku=JKT&channel=web", "1")
	var got []string
	for range 2 {
		u, _ := s.nextUpdate(t)
		got = append(got, describe(u))
	}
	if want := "web JKT@s1=4#1, web JKT@s2=4#2"; strings.Join(got, ", ") != want {
		t.Errorf("backfill %v, want %s", got, want)
	}
	// Nothing else was sent before the first live update.
	b.broker.Publish([]availability.Update{update("web", "JKT", "s2", 9, 3)})
	if u, _ := s.nextUpdate(t); describe(u) != "web JKT@s2=9#3" {
		t.Errorf("after the backfill: %s", describe(u))
	}
}

func TestStreamSnapshot(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	b.broker.Seen([]availability.Update{update("web", "JKT", "s1", 4, 7), update("web", "HAT", "s2", 2, 8)})
	s := b.open(t, "?snapshot=true&location=s1", "")
	if u, _ := s.nextUpdate(t); describe(u) != "web JKT@s1=4#7" {
		t.Errorf("snapshot %s", describe(u))
	}
	b.broker.Publish([]availability.Update{update("web", "HAT", "s2", 1, 9), update("web", "JKT", "s1", 3, 9)})
	if u, _ := s.nextUpdate(t); describe(u) != "web JKT@s1=3#9" {
		t.Errorf("live after the snapshot: %s (the s2 update must be filtered out)", describe(u))
	}

	// Without snapshot=true nothing is sent until something changes.
	s2 := b.open(t, "", "")
	b.broker.Publish([]availability.Update{update("web", "CAP", "s1", 1, 10)})
	if u, _ := s2.nextUpdate(t); u.SKU != "CAP" {
		t.Errorf("without snapshot the first update is %s, want the live CAP change", describe(u))
	}
}

func TestStreamFilters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"?channel=market", "market JKT@s1=5#1"},
		{"?sku=HAT", "web HAT@s1=3#1"},
		{"?location=s2", "web JKT@s2=2#1"},
		{"?channel=web&sku=JKT&location=s1", "web JKT@s1=4#1"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			b := setup(t, 0)
			s := b.open(t, tc.query, "")
			b.broker.Publish([]availability.Update{
				update("web", "HAT", "s1", 3, 1),
				update("web", "JKT", "s1", 4, 1),
				update("market", "JKT", "s1", 5, 1),
				update("web", "JKT", "s2", 2, 1),
			})
			b.broker.Publish([]availability.Update{update("web", "END", "s9", 1, 2)}) // matches none of the filters
			u, _ := s.nextUpdate(t)
			if describe(u) != tc.want {
				t.Errorf("first update %s, want %s", describe(u), tc.want)
			}
			// The updates of one publish arrive together; nothing else of
			// them may follow.
			select {
			case f := <-s.frames:
				if f.data != "" {
					t.Errorf("an update outside the filter: %s", f.data)
				}
			case <-time.After(50 * time.Millisecond):
			}
		})
	}
}

func TestStreamEndsWhenStopping(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	s := b.open(t, "", "")
	s.next(t) // retry hint
	close(b.stopping)
	for {
		f, ok := s.next(t)
		if !ok {
			return // the server ended the stream
		}
		if f.data != "" {
			t.Errorf("unexpected update %s", f.data)
		}
	}
}

func TestStreamHeartbeat(t *testing.T) {
	t.Parallel()
	b := setup(t, 5*time.Millisecond)
	s := b.open(t, "", "")
	for {
		f, ok := s.next(t)
		if !ok {
			t.Fatal("the stream ended")
		}
		if len(f.comments) > 0 && f.comments[0] == "ping" {
			return
		}
	}
}

func TestStreamBadLastEventID(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	for _, id := range []string{"abc", "-1", "1.5"} {
		s := b.open(t, "", id)
		if s.resp.StatusCode != http.StatusBadRequest {
			t.Errorf("Last-Event-ID %q: status %d, want 400", id, s.resp.StatusCode)
		}
	}
}
