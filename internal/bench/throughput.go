package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// engine is where a throughput part keeps its two databases.
type engine struct {
	hubDSN  string
	openRaw func(ctx context.Context) (rawWriter, error)
	cleanup func()
}

func sqliteEngine() (*engine, error) {
	dir, err := os.MkdirTemp("", "tillsync-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: temp dir: %w", err)
	}
	return &engine{
		hubDSN: "sqlite:" + filepath.Join(dir, "hub.db"),
		openRaw: func(ctx context.Context) (rawWriter, error) {
			return openSQLiteRaw(ctx, filepath.Join(dir, "raw.db"))
		},
		cleanup: func() { _ = os.RemoveAll(dir) },
	}, nil
}

// errSkip marks a part that cannot run here, with the reason.
type errSkip struct{ why string }

func (e errSkip) Error() string { return e.why }

// postgresEngine creates two fresh schemas (hub and raw) in the database at
// base, reached through search_path and dropped by cleanup.
func postgresEngine(ctx context.Context, base string) (*engine, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("bench: PostgreSQL URL: %w", err)
	}
	where := u.Redacted()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	admin, err := pgx.Connect(cctx, base)
	if err != nil {
		return nil, errSkip{fmt.Sprintf("PostgreSQL unreachable at %s: %v", where, err)}
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "bench_" + hex.EncodeToString(b[:])
	schemas := []string{prefix + "_hub", prefix + "_raw"}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, s := range schemas {
			_, _ = admin.Exec(dctx, `DROP SCHEMA IF EXISTS `+s+` CASCADE`)
		}
		_ = admin.Close(dctx)
	}
	for _, s := range schemas {
		if _, err := admin.Exec(cctx, `CREATE SCHEMA `+s); err != nil {
			drop()
			return nil, fmt.Errorf("bench: create schema %s: %w", s, err)
		}
	}
	dsn := func(schema string) string {
		v := *u
		q := v.Query()
		q.Set("search_path", schema)
		v.RawQuery = q.Encode()
		return v.String()
	}
	return &engine{
		hubDSN: dsn(schemas[0]),
		openRaw: func(ctx context.Context) (rawWriter, error) {
			return openPostgresRaw(ctx, dsn(schemas[1]))
		},
		cleanup: drop,
	}, nil
}

// throughput runs the hub's intake on an engine under concurrent clients
// and a raw loop writing as many events at the batch size the hub's group
// commit achieved, in alternating rounds so that both see the same machine
// (on a shared one, load comes and goes).
func (r *runner) throughput(ctx context.Context, name string) (*Throughput, error) {
	opt := r.opt
	res := &Throughput{Target: TargetRatio, Clients: opt.Clients, RequestEvents: opt.RequestEvents}
	var eng *engine
	var err error
	if name == "postgres" {
		eng, err = postgresEngine(ctx, opt.Postgres)
	} else {
		eng, err = sqliteEngine()
	}
	if skip := (errSkip{}); errors.As(err, &skip) {
		res.Skipped = skip.why
		r.progress("%s: skipped: %s", name, skip.why)
		return res, nil
	}
	if err != nil {
		return res, err
	}
	defer eng.cleanup()

	cat := newCatalog(opt.SKUs, opt.Locations)
	now := time.Now().UTC()
	h, err := startHub(ctx, eng.hubDSN, cat)
	if err != nil {
		return res, err
	}
	defer h.stop()
	client := newClient(opt.Clients)
	defer client.CloseIdleConnections()
	seeded, err := seedHub(ctx, client, h.url, cat, r.run+"-seed", now)
	if err != nil {
		return res, err
	}
	streams := make([]*stream, opt.Clients)
	for i := range streams {
		loc := cat.locations[i%len(cat.locations)]
		if streams[i], err = newStream(newGenerator(cat, uint64(i+1)), (*generator).next, fmt.Sprintf("%s-c%02d-", r.run, i), loc, 1024, now, false); err != nil {
			return res, err
		}
	}
	w, err := eng.openRaw(ctx)
	if err != nil {
		return res, err
	}
	defer func() { _ = w.close() }()
	rr, err := newRawReplay(cat, w, opt.RequestEvents, now)
	if err != nil {
		return res, err
	}
	rawSeeded, err := rr.seed(ctx, now)
	if err != nil {
		return res, err
	}

	// Rounds of at least 2.5 seconds; one round when profiling, so that
	// each profile covers one whole phase.
	rounds := max(int(opt.Duration/(2500*time.Millisecond)), 1)
	if opt.CPUProfile != "" {
		rounds = 1
	}
	r.progress("%s: hub intake, %d clients × %d events per request, %d SKUs × %d locations, %s in %d rounds against the raw loop",
		name, opt.Clients, opt.RequestEvents, opt.SKUs, opt.Locations, opt.Duration, rounds)
	var (
		total              commitStats
		hubCPU, hubServer  time.Duration
		rawCPU, rawServer  time.Duration
		rawTook, steadyDur time.Duration
		steadyEvents       int64
		acks               []time.Duration
		next               = make([]int64, len(streams))
	)
	for round := range rounds {
		before, err := scrapeCommits(ctx, client, h.url)
		if err != nil {
			return res, err
		}
		stop := r.profile(name + "-hub")
		cpu, server := cpuTime(), postgresCPU()
		load, err := r.drive(ctx, name, client, h.url, streams, next, opt.RequestEvents, opt.Duration/time.Duration(rounds))
		hubCPU, hubServer = hubCPU+cpuTime()-cpu, hubServer+postgresCPU()-server
		stop()
		if err != nil {
			return res, err
		}
		after, err := scrapeCommits(ctx, client, h.url)
		if err != nil {
			return res, err
		}
		d := after.sub(before)
		total = total.add(d)
		res.Events += load.events
		res.Requests += int64(len(load.acks))
		steadyEvents += load.steadyEvents
		steadyDur += load.steady
		acks = append(acks, load.acks...)
		batch := 1
		if d.batches > 0 {
			batch = max(int(math.Round(d.events/d.batches)), 1)
		}

		stop = r.profile(name + "-raw")
		cpu, server = cpuTime(), postgresCPU()
		took, err := rr.run(ctx, load.events, batch)
		rawCPU, rawServer = rawCPU+cpuTime()-cpu, rawServer+postgresCPU()-server
		stop()
		if err != nil {
			return res, err
		}
		rawTook += took
		r.progress("%s: round %d/%d: hub %.0f events/s (%d per commit), raw %.0f events/s",
			name, round+1, rounds, float64(load.steadyEvents)/load.steady.Seconds(), batch, float64(load.events)/took.Seconds())
	}

	stored, err := h.h.Store().CountEvents(ctx)
	if err != nil {
		return res, err
	}
	if stored != seeded+res.Events {
		return res, fmt.Errorf("bench: the hub acknowledged %d events but its log holds %d: %w", seeded+res.Events, stored, errLost)
	}
	n, err := w.count(ctx)
	if err != nil {
		return res, fmt.Errorf("bench: count raw events: %w", err)
	}
	if n != rawSeeded+res.Events {
		return res, fmt.Errorf("bench: the raw loop wrote %d events but its table holds %d: %w", rawSeeded+res.Events, n, errLost)
	}

	res.Seconds = round(steadyDur.Seconds(), 3)
	res.HubEventsPerS = round(float64(steadyEvents)/steadyDur.Seconds(), 1)
	slices.Sort(acks)
	res.AckP50Ms, res.AckP99Ms = ms(percentile(acks, 0.5)), ms(percentile(acks, 0.99))
	if total.batches > 0 {
		res.BatchEventsAvg = round(total.events/total.batches, 1)
		res.BatchRequestsAvg = round(total.requests/total.batches, 2)
		res.CommitMsAvg = round(total.commitSecs/total.batches*1000, 3)
	}
	if total.fsyncCounts > 0 {
		res.FsyncMsAvg = round(total.fsyncSecs/total.fsyncCounts*1000, 3)
	}
	res.RawBatch = max(int(math.Round(res.BatchEventsAvg)), 1)
	res.RawSeconds = round(rawTook.Seconds(), 3)
	res.RawEventsPerS = round(float64(res.Events)/rawTook.Seconds(), 1)
	res.Ratio = ratio(res.HubEventsPerS, res.RawEventsPerS)
	res.Pass = res.Ratio >= res.Target
	perEvent := func(d time.Duration) float64 { return round(float64(d.Microseconds())/float64(res.Events), 1) }
	res.HubCPUMicros, res.RawCPUMicros = perEvent(hubCPU), perEvent(rawCPU)
	if name == "postgres" {
		res.HubServerCPUMicros, res.RawServerCPUMicros = perEvent(hubServer), perEvent(rawServer)
	}
	res.CPURatio = ratio(res.RawCPUMicros+res.RawServerCPUMicros, res.HubCPUMicros+res.HubServerCPUMicros)
	r.progress("%s: hub %.0f events/s, raw %.0f events/s: hub/raw %.2f", name, res.HubEventsPerS, res.RawEventsPerS, res.Ratio)
	return res, nil
}

// seedHub stocks every SKU of the catalog at every location, directly at
// the hub, and returns how many events that took.
func seedHub(ctx context.Context, c *http.Client, hubURL string, cat *catalog, prefix string, at time.Time) (int64, error) {
	var n int64
	for _, loc := range cat.locations {
		evs := cat.seed(prefix, loc, at)
		for start := 0; start < len(evs); start += 50 {
			chunk := evs[start:min(start+50, len(evs))]
			body, err := encodeBatch(chunk)
			if err != nil {
				return n, err
			}
			if err := postEvents(ctx, c, hubURL, token(loc), body, len(chunk)); err != nil {
				return n, err
			}
			n += int64(len(chunk))
		}
	}
	return n, nil
}

// clientLabels mark the benchmark's own client goroutines in CPU profiles,
// so the hub's share can be told apart: go tool pprof -tagignore bench=client.
var clientLabels = pprof.WithLabels(context.Background(), pprof.Labels("bench", "client"))

// load is what a run of concurrent clients achieved.
type load struct {
	events int64           // stored
	acks   []time.Duration // per request, as the client saw it
	// steadyEvents were answered within the steady window, after the
	// clients' warm-up and before they stopped sending.
	steadyEvents int64
	steady       time.Duration
}

// drive runs one client per stream, each posting requests of n events to
// the hub back to back for d, and waits for the last answers. next holds
// each stream's next event number, carried over between calls.
func (r *runner) drive(ctx context.Context, name string, c *http.Client, hubURL string, streams []*stream, next []int64, n int, d time.Duration) (*load, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		events  atomic.Int64
		steady  atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
		acks    = make([][]time.Duration, len(streams))
	)
	start := time.Now()
	deadline := start.Add(d)
	// The steady window leaves out the ramp-up: every client has had an
	// answer or two by then.
	from := start.Add(min(d/4, 500*time.Millisecond))
	for i, s := range streams {
		wg.Go(func() {
			pprof.SetGoroutineLabels(clientLabels)
			var buf []byte
			edgeID := fmt.Sprintf("bench-edge-%02d", i)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				buf = batchBody(buf[:0], func(dst []byte, j int) []byte { return s.appendEvent(dst, next[i]+int64(j)) }, n, edgeID)
				t := time.Now()
				if err := postEvents(ctx, c, hubURL, token(s.loc), buf, n); err != nil {
					errOnce.Do(func() { first = err })
					cancel()
					return
				}
				end := time.Now()
				acks[i] = append(acks[i], end.Sub(t))
				next[i] += int64(n)
				events.Add(int64(n))
				if end.After(from) && end.Before(deadline) {
					steady.Add(int64(n))
				}
			}
		})
	}
	done := make(chan struct{})
	var ticking sync.WaitGroup
	ticking.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				el := time.Since(start)
				r.progress("%s: hub %d events, %.0f events/s", name, events.Load(), float64(events.Load())/el.Seconds())
			}
		}
	})
	wg.Wait()
	close(done)
	ticking.Wait()
	l := &load{events: events.Load(), steadyEvents: steady.Load(), steady: deadline.Sub(from)}
	if l.steadyEvents == 0 { // answers slower than the round: count them all
		l.steadyEvents, l.steady = l.events, time.Since(start)
	}
	for _, a := range acks {
		l.acks = append(l.acks, a...)
	}
	if first != nil {
		return l, first
	}
	if l.events == 0 {
		return l, fmt.Errorf("bench: no request completed in %s", d)
	}
	return l, nil
}
