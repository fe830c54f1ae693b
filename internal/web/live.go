package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/availability"
)

// History is how many samples the overview charts keep (one per update
// period: two minutes by default).
const History = 120

// sample is the hub's state at one moment, for the overview charts.
type sample struct {
	At time.Time
	// EventsPerSecond is the log's growth since the previous sample.
	EventsPerSecond float64
	// LatencyP50 and LatencyMax are sale-to-availability latencies in
	// milliseconds (first tillsync hop to the channel update) of the
	// updates published since the previous sample; -1 when none.
	LatencyP50, LatencyMax float64
	Lag                    map[string]float64
	Utilisation            map[string]float64
	// Throttles are the 429s the ERPs answered since the previous sample.
	Throttles   float64
	DeadLetters float64
}

// live samples the hub every period, renders the live widgets once for
// every viewer, and wakes the streams when a widget changed.
type live struct {
	u       *UI
	once    sync.Once
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	samples []sample
	widgets map[string]widgetState
	changed chan struct{}
	// sampler state, guarded by stepMu
	stepMu    sync.Mutex
	sub       *availability.Subscription
	prevHead  int64
	prevAt    time.Time
	throttles map[string]int64
}

type widgetState struct {
	html    string
	version uint64
}

// Widgets are the names a page can subscribe to.
var Widgets = []string{"overview", "stores", "destinations"}

func newLive(u *UI) *live {
	return &live{u: u, widgets: map[string]widgetState{}, changed: make(chan struct{}), throttles: map[string]int64{}}
}

// ensure starts the sampler on first use, taking one sample at once.
func (l *live) ensure(ctx context.Context) {
	l.once.Do(func() {
		if l.u.opts.Broker != nil {
			l.sub = l.u.opts.Broker.Subscribe(availability.Filter{})
		}
		l.step(ctx)
		run, cancel := context.WithCancel(context.Background())
		l.cancel, l.done = cancel, make(chan struct{})
		go l.run(run)
	})
}

func (l *live) stop() {
	l.once.Do(func() {}) // never start after stop
	if l.cancel != nil {
		l.cancel()
		<-l.done
	}
	if l.sub != nil {
		l.sub.Close()
	}
}

func (l *live) run(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(l.u.opts.UpdateEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.u.opts.Stopping:
			return
		case <-t.C:
			l.step(ctx)
		}
	}
}

// step takes a sample, renders every widget, and wakes the streams if
// any changed. Each widget changes at most once per step, so a stream
// sends it at most once per period however busy the hub is.
func (l *live) step(ctx context.Context) {
	l.stepMu.Lock()
	defer l.stepMu.Unlock()
	s := l.sample(ctx)
	l.mu.Lock()
	l.samples = append(l.samples, s)
	if len(l.samples) > History {
		l.samples = slices.Clone(l.samples[len(l.samples)-History:])
	}
	samples := slices.Clone(l.samples)
	l.mu.Unlock()
	fresh := map[string]string{}
	for _, name := range Widgets {
		html, err := l.u.renderWidget(ctx, name, samples)
		if err != nil {
			l.u.opts.Log.Warn("dashboard: render live widget", "widget", name, "err", err)
			continue
		}
		fresh[name] = html
	}
	l.mu.Lock()
	changed := false
	for name, html := range fresh {
		w := l.widgets[name]
		if w.html != html {
			l.widgets[name] = widgetState{html: html, version: w.version + 1}
			changed = true
		}
	}
	if changed {
		close(l.changed)
		l.changed = make(chan struct{})
	}
	l.mu.Unlock()
}

func (l *live) history() []sample {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.samples)
}

func (l *live) sample(ctx context.Context) sample {
	now := l.u.opts.Now().UTC()
	s := sample{At: now, LatencyP50: -1, LatencyMax: -1, Lag: map[string]float64{}, Utilisation: map[string]float64{}}
	dests, head, err := l.u.opts.Destinations(ctx)
	if err != nil {
		l.u.opts.Log.Warn("dashboard: read destinations", "err", err)
	}
	if !l.prevAt.IsZero() && now.After(l.prevAt) && head >= l.prevHead {
		s.EventsPerSecond = float64(head-l.prevHead) / now.Sub(l.prevAt).Seconds()
	}
	if err == nil {
		l.prevHead, l.prevAt = head, now
	}
	for _, d := range dests {
		s.Lag[d.Name] = float64(d.Lag)
		s.Utilisation[d.Name] = d.Utilisation() * 100
		if prev, ok := l.throttles[d.Name]; ok && d.Governor.Throttles >= prev {
			s.Throttles += float64(d.Governor.Throttles - prev)
		}
		l.throttles[d.Name] = d.Governor.Throttles
		s.DeadLetters += float64(d.DeadLetters)
	}
	if l.sub != nil {
		s.LatencyP50, s.LatencyMax = l.latency(ctx, l.sub.Take())
	}
	return s
}

// maxLatencySamples bounds the events looked up per sample.
const maxLatencySamples = 64

// latency measures, for the updates published since the last sample, the
// time from each cause event's first tillsync hop to its update.
func (l *live) latency(ctx context.Context, ups []availability.Update) (p50, maxMs float64) {
	at := map[string]time.Time{}
	var ids []string
	for _, u := range ups {
		for _, id := range u.Events {
			if _, ok := at[id]; !ok && len(ids) < maxLatencySamples {
				at[id] = u.At
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return -1, -1
	}
	evs, err := l.u.opts.Store.EventsByID(ctx, ids)
	if err != nil {
		return -1, -1
	}
	var ms []float64
	for id, st := range evs {
		if rec := st.Event.ReceivedAt; !rec.IsZero() {
			ms = append(ms, float64(at[id].Sub(rec).Microseconds())/1000)
		}
	}
	if len(ms) == 0 {
		return -1, -1
	}
	sort.Float64s(ms)
	return ms[len(ms)/2], ms[len(ms)-1]
}

// current returns the widgets' latest HTML and versions.
func (l *live) current() (map[string]widgetState, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]widgetState, len(l.widgets))
	for k, v := range l.widgets {
		out[k] = v
	}
	return out, l.changed
}

// stream serves /ui/stream?w=stores,overview: Server-Sent Events, one
// event per changed widget, named after it, its data the widget's HTML.
func (u *UI) stream(w http.ResponseWriter, r *http.Request) {
	want := map[string]bool{}
	for _, n := range strings.Split(r.URL.Query().Get("w"), ",") {
		if slices.Contains(Widgets, n) {
			want[n] = true
		}
	}
	if len(want) == 0 {
		u.errorPage(w, r, sessionFrom(r), http.StatusBadRequest, "Name the widgets to stream: w="+strings.Join(Widgets, ","))
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	u.live.ensure(r.Context())
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	fl.Flush()
	sent := map[string]uint64{}
	ss := sessionFrom(r)
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		// The stream ends with the session (logout, idle or absolute
		// expiry); the browser's reconnect is then refused.
		if !u.sessions.alive(ss) {
			return
		}
		cur, changed := u.live.current()
		var buf bytes.Buffer
		for _, name := range Widgets {
			ws, ok := cur[name]
			if !want[name] || !ok || ws.version == sent[name] {
				continue
			}
			sent[name] = ws.version
			writeEvent(&buf, name, ws.html)
		}
		if buf.Len() > 0 {
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
			fl.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-u.opts.Stopping:
			return
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			fl.Flush()
		case <-changed:
		}
	}
}

func writeEvent(buf *bytes.Buffer, name, data string) {
	buf.WriteString("event: ")
	buf.WriteString(name)
	buf.WriteByte('\n')
	for line := range strings.SplitSeq(data, "\n") {
		buf.WriteString("data: ")
		buf.WriteString(strings.TrimRight(line, "\r"))
		buf.WriteByte('\n')
	}
	buf.WriteByte('\n')
}
