package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// latency measures sale-to-availability: a till posts sales to an edge at a
// steady rate; the edge stores and uplinks them; the hub commits them and
// publishes availability; a client on the hub's SSE stream notes when each
// sale's ID first shows among an update's causes. Latency is that moment
// minus the edge's 200 to the till.
func (r *runner) latency(ctx context.Context) (*Latency, error) {
	opt := r.opt
	res := &Latency{RatePerS: opt.Rate, TargetP99Ms: TargetLatencyP99}
	dir, err := os.MkdirTemp("", "tillsync-bench-")
	if err != nil {
		return res, fmt.Errorf("bench: temp dir: %w", err)
	}
	defer os.RemoveAll(dir)

	cat := newCatalog(opt.SKUs, 1)
	loc := cat.locations[0]
	now := time.Now().UTC()
	r.progress("latency: hub + edge, %d sales/s for %s", opt.Rate, opt.Duration)
	h, err := startHub(ctx, "sqlite:"+filepath.Join(dir, "hub.db"), cat)
	if err != nil {
		return res, err
	}
	defer h.stop()
	e, err := startEdge(ctx, filepath.Join(dir, "edge.db"), h.url, loc)
	if err != nil {
		return res, err
	}
	defer e.stop()
	// Enough tills that a slow answer does not hold up the pace: at 1,000
	// sales/s, 250 in flight cover answers of up to a quarter second.
	workers := max(opt.Rate/4, 16)
	client := newClient(workers)
	defer client.CloseIdleConnections()

	// Stock every SKU through the edge, as the store's goods-in would, so
	// every sale lowers a positive available-to-promise.
	seed := cat.seed(r.run+"-seed", loc, now)
	for start := 0; start < len(seed); start += 50 {
		chunk := seed[start:min(start+50, len(seed))]
		body, err := encodeBatch(chunk)
		if err != nil {
			return res, err
		}
		if err := postEvents(ctx, client, e.url, "", body, len(chunk)); err != nil {
			return res, err
		}
	}
	if err := waitSynced(ctx, client, h.url, e.url, int64(len(seed))); err != nil {
		return res, err
	}

	sales, err := newStream(newGenerator(cat, 7), (*generator).sale, r.run+"-sale-", loc, 2048, now, false)
	if err != nil {
		return res, err
	}
	total := max(int(float64(opt.Rate)*opt.Duration.Seconds()), 1)
	var (
		base   = time.Now()
		ackAt  = make([]atomic.Int64, total) // since base, +1 so that 0 means never
		seenAt = make([]atomic.Int64, total)
		seen   atomic.Int64
	)
	sseCtx, stopSSE := context.WithCancel(ctx)
	defer stopSSE()
	sseDone, err := subscribe(sseCtx, h.url, func(ids []string) {
		t := int64(time.Since(base)) + 1
		for _, id := range ids {
			n, ok := strings.CutPrefix(id, sales.prefix)
			if !ok {
				continue
			}
			i, err := strconv.Atoi(n)
			if err == nil && i < total && seenAt[i].CompareAndSwap(0, t) {
				seen.Add(1)
			}
		}
	})
	if err != nil {
		return res, err
	}

	// Pace: sale i is due at base + i/rate; workers take them in order.
	jobs := make(chan int, total)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		first    error
		posAcks  = make([][]time.Duration, workers)
		sendCtx  context.Context
		stopSend context.CancelFunc
	)
	sendCtx, stopSend = context.WithCancel(ctx)
	defer stopSend()
	for w := range workers {
		wg.Go(func() {
			var buf []byte
			for i := range jobs {
				buf = batchBody(buf[:0], func(dst []byte, _ int) []byte { return sales.appendEvent(dst, int64(i)) }, 1, "")
				t := time.Now()
				if err := postEvents(sendCtx, client, e.url, "", buf, 1); err != nil {
					errOnce.Do(func() { first = err })
					stopSend()
					return
				}
				ackAt[i].Store(int64(time.Since(base)) + 1)
				posAcks[w] = append(posAcks[w], time.Since(t))
			}
		})
	}
	stop := r.profile("latency")
	cpu := cpuTime()
	start := time.Now()
	next := 0
	lastReport := start
	for next < total && sendCtx.Err() == nil {
		due := min(int(time.Since(start).Seconds()*float64(opt.Rate))+1, total)
		for ; next < due; next++ {
			jobs <- next
		}
		if time.Since(lastReport) >= time.Second {
			lastReport = time.Now()
			r.progress("latency: %d/%d sales sent, %d seen on the stream", next, total, seen.Load())
		}
		time.Sleep(500 * time.Microsecond)
	}
	close(jobs)
	wg.Wait()
	sent := time.Since(start)
	res.CPUMicros = round(float64((cpuTime()-cpu).Microseconds())/float64(total), 1)
	stop()
	if first != nil {
		return res, first
	}
	// Give the last sales time to show.
	_ = waitFor(ctx, 10*time.Second, 5*time.Millisecond, "sales on the stream", func() (bool, error) {
		return seen.Load() >= int64(total), nil
	})
	stopSSE()
	<-sseDone

	if err := waitSynced(ctx, client, h.url, e.url, int64(len(seed)+total)); err != nil {
		return res, err
	}
	stored, err := h.h.Store().CountEvents(ctx)
	if err != nil {
		return res, err
	}
	if want := int64(len(seed) + total); stored != want {
		return res, fmt.Errorf("bench: the edge acknowledged %d events but the hub's log holds %d: %w", want, stored, errLost)
	}

	var lat []time.Duration
	for i := range total {
		a, s := ackAt[i].Load(), seenAt[i].Load()
		if a == 0 {
			return res, fmt.Errorf("bench: sale %d was never acknowledged", i)
		}
		if s == 0 {
			res.Unseen++
			continue
		}
		lat = append(lat, time.Duration(s-a))
	}
	slices.Sort(lat)
	var pos []time.Duration
	for _, p := range posAcks {
		pos = append(pos, p...)
	}
	slices.Sort(pos)
	res.Sent = total
	res.AchievedPerS = round(float64(total)/sent.Seconds(), 1)
	res.Measured = len(lat)
	res.P50Ms, res.P99Ms = ms(percentile(lat, 0.5)), ms(percentile(lat, 0.99))
	if len(lat) > 0 {
		res.MaxMs = ms(lat[len(lat)-1])
	}
	res.PosAckP99Ms = ms(percentile(pos, 0.99))
	res.Pass = res.Measured > 0 && res.P99Ms <= res.TargetP99Ms
	r.progress("latency: %d sales measured: p50 %.1f ms, p99 %.1f ms, max %.1f ms", res.Measured, res.P50Ms, res.P99Ms, res.MaxMs)
	if res.Measured == 0 {
		return res, fmt.Errorf("bench: no sale showed on the availability stream")
	}
	return res, nil
}

// waitSynced waits until the hub's log holds want events and the edge has
// no backlog.
func waitSynced(ctx context.Context, c *http.Client, hubURL, edgeURL string, want int64) error {
	err := waitFor(ctx, 2*time.Minute, 10*time.Millisecond, fmt.Sprintf("the hub to hold %d events", want), func() (bool, error) {
		head, err := hubHead(ctx, c, hubURL)
		return head >= want, err
	})
	if err != nil {
		return err
	}
	return waitFor(ctx, time.Minute, 10*time.Millisecond, "the edge's backlog to reach 0", func() (bool, error) {
		h, err := edgeHealth(ctx, c, edgeURL)
		if err == nil && h.Rejected > 0 {
			return false, fmt.Errorf("the hub rejected %d events: %s: %w", h.Rejected, h.LastError, errLost)
		}
		return h.Backlog == 0, err
	})
}

// subscribe reads the hub's availability stream until ctx ends, calling
// seen with the causes of every update as it arrives. It returns once
// subscribed; the channel closes when reading stops.
func subscribe(ctx context.Context, hubURL string, seen func(ids []string)) (<-chan struct{}, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hubURL+"/v1/availability/stream", nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{}).Do(req) //nolint:bodyclose // the reader goroutine closes it
	if err != nil {
		return nil, fmt.Errorf("bench: subscribe to availability: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("bench: subscribe to availability: %s", resp.Status)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		br := bufio.NewReaderSize(resp.Body, 1<<20)
		var u struct {
			Events []string `json:"events"`
		}
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			data, ok := bytes.CutPrefix(line, []byte("data: "))
			if !ok {
				continue
			}
			u.Events = u.Events[:0]
			if json.Unmarshal(data, &u) == nil && len(u.Events) > 0 {
				seen(u.Events)
			}
		}
	}()
	return done, nil
}
