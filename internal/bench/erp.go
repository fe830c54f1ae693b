package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/connectors"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
	"github.com/tillsync/tillsync/internal/store"
)

// Targets of the ERP benchmark. A missed one is reported, not failed; a
// document lost or duplicated is an error.
const (
	// TargetERPRatio is achieved documents per second over the ceiling
	// the account allows (limit ÷ latency × records per call).
	TargetERPRatio = 0.9
	// TargetRejectionShare is the most of the requests the ERP may refuse
	// for load (429, concurrency): the governor should not need them.
	TargetRejectionShare = 0.01
	// TargetEventsPerRequest is the least POS events one summary request
	// should carry.
	TargetEventsPerRequest = 100
)

// ERPCase is one detail configuration: the account's concurrency limit
// (the simulator's and tillsync's alike) and the ERP's time per request.
type ERPCase struct {
	Limit   int
	Latency time.Duration
}

// DefaultERPCases are NetSuite's base tier limit (5) and tier 1 plus
// SuiteCloud Plus (15), at a quick and a slow record save.
var DefaultERPCases = []ERPCase{
	{Limit: 5, Latency: 200 * time.Millisecond},
	{Limit: 15, Latency: 200 * time.Millisecond},
	{Limit: 5, Latency: time.Second},
	{Limit: 15, Latency: time.Second},
}

// ERPOptions size an ERP benchmark. Zero fields take the defaults.
type ERPOptions struct {
	// Duration is how long each detail case should take at its ceiling
	// (default 20s): its backlog is ceiling × Duration documents.
	Duration time.Duration
	// Cases are the detail configurations (default DefaultERPCases).
	Cases []ERPCase
	// Documents, when set, is every case's backlog instead.
	Documents int
	// SummaryEvents are spread over SummaryStores stores and SummaryHours
	// hours of yesterday (default 3,000 over 3 × 8) and posted as hourly
	// summaries to an account of SummaryCase (default 5 at 200 ms).
	SummaryEvents int
	SummaryStores int
	SummaryHours  int
	SummaryCase   ERPCase
	// CPUProfile, if set, is a file name prefix: each timed run writes a
	// CPU profile PREFIX.erp-<run>.pprof.
	CPUProfile string
	// Progress receives progress lines (default: discarded).
	Progress io.Writer
}

func (o *ERPOptions) defaults() {
	if o.Duration <= 0 {
		o.Duration = 20 * time.Second
	}
	if len(o.Cases) == 0 {
		o.Cases = DefaultERPCases
	}
	if o.SummaryEvents <= 0 {
		o.SummaryEvents = 3000
	}
	if o.SummaryStores <= 0 {
		o.SummaryStores = 3
	}
	if o.SummaryHours <= 0 {
		o.SummaryHours = 8
	}
	if o.SummaryCase.Limit <= 0 || o.SummaryCase.Latency <= 0 {
		o.SummaryCase = DefaultERPCases[0]
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// ERPReport is the outcome of an ERP benchmark.
type ERPReport struct {
	Detail  []*ERPDetail `json:"detail"`
	Summary *ERPSummary  `json:"summary"`
	Machine Machine      `json:"machine"`
}

// ERPDetail is one detail case: a backlog drained through the engine into
// a simulated NetSuite account.
type ERPDetail struct {
	Error string `json:"error,omitempty"`

	Limit            int     `json:"limit"`
	LatencyMs        float64 `json:"latency_ms"`
	CeilingDocsPerS  float64 `json:"ceiling_docs_per_s"`
	AchievedDocsPerS float64 `json:"achieved_docs_per_s"`
	Ratio            float64 `json:"ratio"`
	Target           float64 `json:"target"`
	// Requests reached the simulator; Rejections of them were refused
	// for load (429 over the concurrency limit).
	Requests        int64   `json:"requests"`
	Rejections      int64   `json:"rejections"`
	RejectionShare  float64 `json:"rejection_share"`
	RejectionTarget float64 `json:"rejection_target"`
	// Lost are documents the backlog should have created that the
	// simulator does not hold; Duplicates records it created twice.
	Lost       int   `json:"lost"`
	Duplicates int64 `json:"duplicates"`
	Documents  int   `json:"documents"`
	// Seconds from the destination's start to its saved cursor at the
	// log's head (the cursor is saved every 200 ms).
	Seconds float64 `json:"seconds"`
	Pass    bool    `json:"pass"`

	DeadLetters int64 `json:"dead_letters"`
	// PeakConcurrency is the most requests the simulator served at once.
	PeakConcurrency int64 `json:"peak_concurrency"`
	// CursorBehind is the most documents the ERP already had that were
	// still after the destination's saved cursor: what a restart then
	// would post again (harmless upserts, but requests).
	CursorBehind int64 `json:"cursor_behind_max"`
	// ERPMsAvg is how long the simulator took to answer a request, on
	// average: Latency plus its own work and, on a busy machine, its late
	// timers. SlotsBusy is the share of the account's request slots
	// (limit × seconds) the simulator spent answering: what is missing
	// from 1 is time the engine left a slot empty.
	ERPMsAvg  float64 `json:"erp_ms_avg"`
	SlotsBusy float64 `json:"slots_busy"`
	// CPUMicros is the process's CPU time per document: engine, store,
	// connector, simulator and the benchmark's own polling together (at
	// 1 s per request the polling is most of it).
	CPUMicros float64 `json:"cpu_us_per_doc"`
}

// ERPSummary is summary mode: closed periods posted as one journal entry
// per store and hour.
type ERPSummary struct {
	Error string `json:"error,omitempty"`

	Events int `json:"events"`
	// Summaries are the journal entries delivered; Periods the store-hours
	// the events fall in (one summary each, unless a period was split).
	Summaries        int     `json:"summaries"`
	Requests         int64   `json:"requests"`
	EventsPerRequest float64 `json:"events_per_request"`
	Target           float64 `json:"target"`
	Lost             int     `json:"lost"`
	Duplicates       int64   `json:"duplicates"`
	Pass             bool    `json:"pass"`

	Periods     int     `json:"periods"`
	Limit       int     `json:"limit"`
	LatencyMs   float64 `json:"latency_ms"`
	Seconds     float64 `json:"seconds"`
	DeadLetters int64   `json:"dead_letters"`
}

// errIncorrect is wrapped by every error that means a document was lost
// or duplicated on its way to the ERP.
var errIncorrect = errors.New("ERP documents lost or duplicated")

// ERP runs the ERP benchmark: each detail case, then summary mode. It
// returns the report of every part that ran and an error if any failed or
// lost or duplicated a document; missed targets are not errors.
func ERP(ctx context.Context, opt ERPOptions) (*ERPReport, error) {
	opt.defaults()
	r := &runner{opt: Options{CPUProfile: opt.CPUProfile, Progress: opt.Progress}}
	rep := &ERPReport{Machine: Machine{CPUs: runtime.NumCPU(), LoadBefore: loadAvg()}}
	defer func() { rep.Machine.LoadAfter = loadAvg() }()
	var errs []error
	fail := func(part string, err error) string {
		err = fmt.Errorf("%s: %w", part, err)
		errs = append(errs, err)
		r.progress("%v", err)
		return err.Error()
	}
	for _, c := range opt.Cases {
		d, err := r.erpDetail(ctx, opt, c)
		if err != nil {
			d.Error = fail(fmt.Sprintf("erp detail limit %d latency %s", c.Limit, c.Latency), err)
		}
		rep.Detail = append(rep.Detail, d)
		if ctx.Err() != nil {
			return rep, errors.Join(append(errs, ctx.Err())...)
		}
	}
	s, err := r.erpSummary(ctx, opt)
	if err != nil {
		s.Error = fail("erp summary", err)
	}
	rep.Summary = s
	return rep, errors.Join(errs...)
}

// erpRig is one simulated NetSuite account and a destination posting a
// hub's log to it.
type erpRig struct {
	st   *store.Store
	head int64
	sim  *nssim.Server
	// served wraps sim, timing every request it serves.
	served timedHandler
	ts     *httptest.Server
	dest   *destination.ERPDestination
	name   string
	close  func()
}

// newERPRig stores events as a hub's log on a temporary SQLite file, starts
// a simulated NetSuite account with a concurrency limit and latency, and
// builds the destination the way the hub does: the connector from its
// spec with the hub's HTTP client, one governor for the account.
func (r *runner) newERPRig(ctx context.Context, c ERPCase, mode destination.Mode, events []*event.Event) (*erpRig, error) {
	dir, err := os.MkdirTemp("", "tillsync-bench-erp-")
	if err != nil {
		return nil, fmt.Errorf("bench: temp dir: %w", err)
	}
	rig := &erpRig{name: "netsuite-" + string(mode)}
	var closers []func()
	rig.close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		_ = os.RemoveAll(dir)
	}
	ok := false
	defer func() {
		if !ok {
			rig.close()
		}
	}()
	if rig.st, err = store.Open(ctx, "sqlite:"+filepath.Join(dir, "hub.db")); err != nil {
		return nil, err
	}
	closers = append(closers, func() { _ = rig.st.Close() })
	const chunk = 1000
	for i := 0; i < len(events); i += chunk {
		res, err := rig.st.Append(ctx, events[i:min(i+chunk, len(events))], time.Now())
		if err != nil {
			return nil, err
		}
		for j, x := range res.Results {
			if x.Outcome != store.Accepted {
				return nil, fmt.Errorf("bench: the log took event %s as %s", events[i+j].ID, x.Outcome)
			}
		}
		rig.head = res.MaxSeq
	}

	creds := nssim.DefaultCredentials()
	rig.sim = nssim.New(erpsim.Options{Latency: c.Latency, Concurrency: c.Limit}, creds)
	rig.served.h = rig.sim
	rig.ts = httptest.NewServer(&rig.served)
	closers = append(closers, rig.ts.Close)

	spec, err := connectors.Lookup("netsuite")
	if err != nil {
		return nil, err
	}
	settings := map[string]string{
		"account_id": creds.AccountID, "base_url": rig.ts.URL,
		"consumer_key": creds.ConsumerKey, "consumer_secret": creds.ConsumerSecret,
		"token_id": creds.TokenID, "token_secret": creds.TokenSecret,
		"subsidiary": "1", "customer": "42", "adjustment_account": "500",
		"sales_account": "4000", "tax_accounts": "DE-VAT-19=2201,*=2200",
		"payment_accounts": "card=1100,cash=1000,gift_card=2400,store_credit=2410", "tips_account": "2300",
	}
	for _, f := range spec.Fields {
		if settings[f.Name] == "" && f.Default != "" {
			settings[f.Name] = f.Default
		}
	}
	log := slog.New(slog.NewTextHandler(progressWriter{r}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The hub's client: &http.Client{} (see hub.buildERP).
	conn, err := spec.New(settings, erp.Deps{HTTP: &http.Client{}, Log: log, Clock: time.Now})
	if err != nil {
		return nil, err
	}
	gov := destination.NewGovernor(destination.GovernorConfig{Name: "netsuite", Concurrency: c.Limit})
	cfg := destination.ERPConfig{Name: rig.name, Connector: conn, Governor: gov, Mode: mode}
	if mode == destination.Summary {
		cfg.Interval = time.Hour
	}
	rig.dest = destination.NewERPDestination(cfg, rig.st, destination.NewNotifier(), destination.NewMetrics(prometheus.NewRegistry()), log)
	ok = true
	return rig, nil
}

// drainERP runs the destination until its saved cursor reaches the log's
// head, reporting progress every second, and stops it. It returns the
// time from start to the cursor at the head, and the most records the
// simulator had created for events still after the saved cursor (the log
// holds one document per event from seq 1): what a restart at that moment
// would post again.
func (r *runner) drainERP(ctx context.Context, rig *erpRig, what string, timeout time.Duration) (took time.Duration, behind int64, err error) {
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	t0 := time.Now()
	go func() { done <- rig.dest.Run(rctx) }()
	last, polls := t0, 0
	err = waitFor(ctx, timeout, 20*time.Millisecond, what+" to reach the log's head", func() (bool, error) {
		c, err := rig.st.Cursor(ctx, rig.name)
		if err != nil {
			return false, err
		}
		if c >= rig.head {
			took = time.Since(t0)
			return true, nil
		}
		polls++
		if polls%5 != 0 {
			return false, nil // Stats copies every record: sample it less often
		}
		st := rig.sim.Sim().Stats()
		behind = max(behind, st.Created-c)
		if time.Since(last) >= time.Second {
			last = time.Now()
			r.progress("%s: cursor %d/%d after %.0fs, %d requests, %d records created, %d refused for load",
				what, c, rig.head, time.Since(t0).Seconds(), st.Requests, st.Created, rejections(st))
		}
		return false, nil
	})
	cancel()
	if rerr := <-done; rerr != nil && err == nil {
		err = rerr
	}
	return took, behind, err
}

// progressWriter writes to Options.Progress under the runner's lock, so
// the engine's warnings and progress lines never interleave.
type progressWriter struct{ r *runner }

func (w progressWriter) Write(p []byte) (int, error) {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	return w.r.opt.Progress.Write(p)
}

// timedHandler times the requests a handler serves: on a loaded machine
// the simulator's own answers run late, and that is not the engine's doing.
type timedHandler struct {
	h    http.Handler
	n    atomic.Int64
	busy atomic.Int64 // nanoseconds
}

func (t *timedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	defer func() {
		t.busy.Add(int64(time.Since(t0)))
		t.n.Add(1)
	}()
	t.h.ServeHTTP(w, r)
}

// rejections counts the simulator's refusals for load.
func rejections(st erpsim.Stats) int64 {
	return st.Rejections["concurrency"] + st.Rejections["rate"] + st.Rejections["forced_throttle"]
}

// erpDetail drains a backlog of one document per event in detail mode and
// checks that the simulator holds each exactly once.
func (r *runner) erpDetail(ctx context.Context, opt ERPOptions, c ERPCase) (*ERPDetail, error) {
	const recordsPerCall = 1 // NetSuite connector's MaxBatch
	ceiling := float64(c.Limit) / c.Latency.Seconds() * recordsPerCall
	res := &ERPDetail{Limit: c.Limit, LatencyMs: ms(c.Latency), CeilingDocsPerS: round(ceiling, 2),
		Target: TargetERPRatio, RejectionTarget: TargetRejectionShare}
	docs := opt.Documents
	if docs <= 0 {
		docs = int(ceiling*opt.Duration.Seconds() + 0.5)
	}
	res.Documents = docs
	what := fmt.Sprintf("erp detail limit %d latency %s", c.Limit, c.Latency)
	cat := newCatalog(500, 3)
	events, err := detailBacklog(cat, docs, time.Now().UTC())
	if err != nil {
		return res, err
	}
	rig, err := r.newERPRig(ctx, c, destination.Detail, events)
	if err != nil {
		return res, err
	}
	defer rig.close()
	r.progress("%s: %d documents backed up; ceiling %.1f docs/s, about %.0fs", what, docs, ceiling, float64(docs)/ceiling)

	stop := r.profile(fmt.Sprintf("erp-detail-%d-%s", c.Limit, c.Latency))
	cpu0 := cpuTime()
	took, behind, err := r.drainERP(ctx, rig, what, time.Duration(3*float64(docs)/ceiling*float64(time.Second))+time.Minute)
	cpu := cpuTime() - cpu0
	stop()

	st := rig.sim.Sim().Stats()
	res.Requests, res.Rejections, res.Duplicates = st.Requests, rejections(st), st.Duplicates
	res.PeakConcurrency, res.CursorBehind = st.PeakConcurrency, behind
	res.RejectionShare = ratio(float64(res.Rejections), float64(res.Requests))
	for _, e := range events {
		if st.Records[netsuiteID(e.ID)] == 0 {
			res.Lost++
		}
	}
	res.DeadLetters, _ = rig.st.CountDeadLetters(ctx, rig.name, store.DeadParked)
	if err != nil {
		return res, err
	}
	res.Seconds = round(took.Seconds(), 3)
	res.AchievedDocsPerS = round(float64(docs)/took.Seconds(), 2)
	res.Ratio = ratio(res.AchievedDocsPerS, ceiling)
	res.CPUMicros = round(float64(cpu.Microseconds())/float64(max(docs, 1)), 0)
	if n := rig.served.n.Load(); n > 0 {
		busy := time.Duration(rig.served.busy.Load())
		res.ERPMsAvg = ms(busy / time.Duration(n))
		res.SlotsBusy = ratio(busy.Seconds(), float64(c.Limit)*took.Seconds())
	}
	res.Pass = res.Ratio >= res.Target && res.RejectionShare <= res.RejectionTarget
	r.progress("%s: %d documents in %.2fs: %.1f docs/s (%.2f of the ceiling; ERP answered in %.1f ms on average, slots busy %.2f), %d of %d requests refused for load, %d lost, %d duplicated",
		what, docs, took.Seconds(), res.AchievedDocsPerS, res.Ratio, res.ERPMsAvg, res.SlotsBusy, res.Rejections, res.Requests, res.Lost, res.Duplicates)
	return res, correct(res.Lost, res.Duplicates, res.DeadLetters)
}

// correct is an error when documents were lost, duplicated or parked.
func correct(lost int, dupes, dead int64) error {
	if lost == 0 && dupes == 0 {
		return nil
	}
	return fmt.Errorf("bench: %d documents lost (%d parked as dead letters), %d duplicated: %w", lost, dead, dupes, errIncorrect)
}

// erpSummary posts yesterday's till events as hourly summaries and checks
// that every event is carried by exactly one summary the simulator holds.
func (r *runner) erpSummary(ctx context.Context, opt ERPOptions) (*ERPSummary, error) {
	c := opt.SummaryCase
	res := &ERPSummary{Events: opt.SummaryEvents, Target: TargetEventsPerRequest, Limit: c.Limit, LatencyMs: ms(c.Latency)}
	cat := newCatalog(500, opt.SummaryStores)
	events, err := summaryBacklog(cat, opt.SummaryEvents, opt.SummaryHours, time.Now())
	if err != nil {
		return res, err
	}
	periods := map[string]bool{}
	for _, e := range events {
		periods[e.Location+"/"+e.LocalTime().Truncate(time.Hour).Format(time.RFC3339)] = true
	}
	res.Periods = len(periods)
	rig, err := r.newERPRig(ctx, c, destination.Summary, events)
	if err != nil {
		return res, err
	}
	defer rig.close()
	what := "erp summary"
	r.progress("%s: %d events of yesterday in %d store-hours, account limit %d at %s", what, len(events), res.Periods, c.Limit, c.Latency)
	stop := r.profile("erp-summary")
	took, _, err := r.drainERP(ctx, rig, what, 5*time.Minute)
	stop()
	res.Seconds = round(took.Seconds(), 3)

	st := rig.sim.Sim().Stats()
	res.Requests, res.Duplicates = st.Requests, st.Duplicates
	res.DeadLetters, _ = rig.st.CountDeadLetters(ctx, rig.name, store.DeadParked)
	_, delivered, derr := rig.st.DeliveryCounts(ctx, rig.name)
	if derr != nil && err == nil {
		err = derr
	}
	// Every event must be carried by a summary the hub recorded as
	// delivered and the simulator holds.
	summaries := map[string]bool{}
	for _, e := range events {
		id, serr := rig.st.SummaryOf(ctx, rig.name, e.ID)
		if serr != nil {
			if err == nil {
				err = serr
			}
			break
		}
		if id == "" || st.Records[netsuiteID(id)] == 0 {
			res.Lost++
			continue
		}
		summaries[id] = true
	}
	res.Summaries = len(summaries)
	res.EventsPerRequest = ratio(float64(delivered), float64(res.Requests))
	if err != nil {
		return res, err
	}
	res.Pass = res.EventsPerRequest >= res.Target
	r.progress("%s: %d events in %d summaries over %d requests (%.1f events per request) in %.2fs, %d lost, %d duplicated",
		what, len(events), res.Summaries, res.Requests, res.EventsPerRequest, took.Seconds(), res.Lost, res.Duplicates)
	return res, correct(res.Lost, res.Duplicates, res.DeadLetters)
}

// WriteERPTable prints an ERP report as tables for people.
func WriteERPTable(w io.Writer, rep *ERPReport, opt ERPOptions) error {
	opt.defaults()
	fmt.Fprintf(w, "tillsync bench erp — simulated NetSuite (1 record per request), %d CPUs, %s %s/%s, ~%s per detail case",
		rep.Machine.CPUs, runtime.Version(), runtime.GOOS, runtime.GOARCH, opt.Duration)
	if rep.Machine.LoadBefore > 0 || rep.Machine.LoadAfter > 0 {
		fmt.Fprintf(w, ", load average %.1f before, %.1f after", rep.Machine.LoadBefore, rep.Machine.LoadAfter)
	}
	fmt.Fprint(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "detail\tlimit\tlatency\tdocs\tceiling/s\tachieved/s\tratio (≥ 0.90)\trefused for load (≤ 1 %)\tlost\tdupes\tseconds")
	for _, d := range rep.Detail {
		if d.Error != "" && d.Seconds == 0 {
			fmt.Fprintf(tw, "\t%d\t%s\t%d\tFAILED: %s\n", d.Limit, latency(d.LatencyMs), d.Documents, d.Error)
			continue
		}
		fmt.Fprintf(tw, "\t%d\t%s\t%d\t%.1f\t%.1f\t%.2f %s\t%d of %d (%.2f %%) %s\t%d\t%d\t%.1f\n",
			d.Limit, latency(d.LatencyMs), d.Documents, d.CeilingDocsPerS, d.AchievedDocsPerS,
			d.Ratio, verdict(d.Ratio >= d.Target), d.Rejections, d.Requests, 100*d.RejectionShare, verdict(d.RejectionShare <= d.RejectionTarget),
			d.Lost, d.Duplicates, d.Seconds)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "where the time went\tlimit\tlatency\tERP answer (avg)\tslots busy\tpeak in flight\tcursor behind the ERP (max)\tCPU/doc")
	for _, d := range rep.Detail {
		if d.Seconds == 0 {
			continue
		}
		fmt.Fprintf(tw, "\t%d\t%s\t%.1f ms\t%.2f\t%d\t%d docs\t%.0f µs\n", d.Limit, latency(d.LatencyMs),
			d.ERPMsAvg, d.SlotsBusy, d.PeakConcurrency, d.CursorBehind, d.CPUMicros)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s := rep.Summary; s != nil {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "summary (hourly, closed periods)\tlimit\tlatency\tevents\tstore-hours\tsummaries\trequests\tevents/request (≥ 100)\tlost\tdupes\tseconds")
		if s.Error != "" && s.Seconds == 0 {
			fmt.Fprintf(tw, "\t%d\t%s\t%d\tFAILED: %s\n", s.Limit, latency(s.LatencyMs), s.Events, s.Error)
		} else {
			fmt.Fprintf(tw, "\t%d\t%s\t%d\t%d\t%d\t%d\t%.1f %s\t%d\t%d\t%.1f\n", s.Limit, latency(s.LatencyMs),
				s.Events, s.Periods, s.Summaries, s.Requests, s.EventsPerRequest, verdict(s.Pass), s.Lost, s.Duplicates, s.Seconds)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, d := range rep.Detail {
		if d.Error != "" {
			fmt.Fprintf(w, "ERROR detail limit %d: %s\n", d.Limit, d.Error)
		}
	}
	if s := rep.Summary; s != nil && s.Error != "" {
		fmt.Fprintf(w, "ERROR summary: %s\n", s.Error)
	}
	return nil
}

// latency formats milliseconds as a duration (200ms, 1s).
func latency(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
