package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tillsync/tillsync/internal/mapping/llm"
	"github.com/tillsync/tillsync/internal/mapping/notes"
)

const notesUsage = `Usage:
  tillsync notes parse [--json-in] [--currency ISO] [--threshold 0.8]
                       [--llm-url URL --llm-model M]  < notes > results.jsonl
  tillsync notes eval FILE [--json] [--misses] [--currency ISO] [--threshold 0.8]

parse reads one cashier note per line on stdin (with --json-in, one JSON
object per line with a "note" field) and writes one JSON object per line:
  {"note": ..., "reason_code": ..., "kind": ..., "value": ..., "currency": ...,
   "coupon_code": ..., "competitor": ..., "approved_by": ..., "confidence": 0..1}
Fields are absent when unknown; reason_code is null when the note carries no
discount. Notes are redacted before they are read: a card number typed into
a note is not in the output. With --llm-url, notes below the threshold are
also put to an OpenAI-compatible model (redacted, in the background, with a
timeout); its answer replaces the parser's when valid and more confident.

eval reads a labelled set in the same form (the right answer on each line)
and prints exact-match accuracy on reason_code+kind+value, the precision of
the answers confident enough to apply automatically, recall, the share of
notes resolved automatically, discounts invented for notes that carry none,
and a calibration table; with --json, a last line with the figures.

`

// runNotes: tillsync notes parse|eval.
func runNotes(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, notesUsage)
		return exitCode(2)
	}
	switch args[0] {
	case "parse":
		return runNotesParse(ctx, args[1:], stdin, stdout, stderr)
	case "eval":
		return runNotesEval(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, notesUsage)
		return nil
	}
	fmt.Fprintf(stderr, "tillsync notes: unknown command %q\n\n%s", args[0], notesUsage)
	return exitCode(2)
}

func notesFlags(name string, stderr io.Writer) (*flag.FlagSet, *notes.Config) {
	fs := flag.NewFlagSet("notes "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, notesUsage)
		fs.PrintDefaults()
	}
	cfg := &notes.Config{}
	fs.StringVar(&cfg.DefaultCurrency, "currency", "", "the store's ISO 4217 currency, for amounts typed without one")
	fs.Float64Var(&cfg.Threshold, "threshold", notes.DefaultThreshold, "confidence needed to apply an answer automatically")
	return fs, cfg
}

func runNotesParse(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, cfg := notesFlags("parse", stderr)
	jsonIn := fs.Bool("json-in", false, `read one JSON object per line with a "note" field`)
	var lc llm.Config
	fs.StringVar(&lc.BaseURL, "llm-url", "", "OpenAI-compatible API root (http://localhost:11434/v1) to ask about notes below the threshold; off if empty")
	fs.StringVar(&lc.Model, "llm-model", "", "the model to ask, with --llm-url")
	keyEnv := fs.String("llm-key-env", "TILLSYNC_LLM_API_KEY", "environment variable holding the API key, if the server needs one")
	fs.DurationVar(&lc.Timeout, "llm-timeout", 10*time.Second, "timeout of one model request")
	wait := fs.Duration("llm-wait", 30*time.Second, "how long to wait at the end for the model's outstanding answers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitCode(2)
	}
	p, err := notes.New(*cfg)
	if err != nil {
		return err
	}
	var ask *llmPass
	if lc.BaseURL != "" {
		lc.APIKey = os.Getenv(*keyEnv)
		cl, err := llm.New(lc, p.Reasons(), nil)
		if err != nil {
			return err
		}
		ask = newLLMPass(ctx, cl, p.Threshold())
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for line := 1; sc.Scan(); line++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		text := sc.Text()
		if *jsonIn {
			if strings.TrimSpace(text) == "" {
				continue
			}
			var in struct {
				Note *string `json:"note"`
			}
			if err := json.Unmarshal([]byte(text), &in); err != nil {
				return fmt.Errorf("notes parse: stdin line %d: %w", line, err)
			}
			if in.Note == nil {
				return fmt.Errorf(`notes parse: stdin line %d: no "note" field`, line)
			}
			text = *in.Note
		}
		r := p.Parse(text)
		if ask != nil {
			ask.add(r)
			continue
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("notes parse: read stdin: %w", err)
	}
	if ask != nil {
		for _, r := range ask.finish(*wait, stderr) {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	}
	return w.Flush()
}

// llmPass asks the model about the notes the parser is not confident
// about, in the background, and keeps the better answer of the two.
type llmPass struct {
	q         *llm.Queue
	cancel    context.CancelFunc
	threshold float64
	mu        sync.Mutex
	results   []notes.Result
	asked     int
	refused   int
	failed    int
	used      int
	pending   sync.WaitGroup
}

func newLLMPass(ctx context.Context, cl *llm.Client, threshold float64) *llmPass {
	ctx, cancel := context.WithCancel(ctx)
	a := &llmPass{q: llm.NewQueue(cl.Parse, 4, 1024), cancel: cancel, threshold: threshold}
	a.q.Start(ctx)
	return a
}

func (a *llmPass) add(r notes.Result) {
	a.mu.Lock()
	i := len(a.results)
	a.results = append(a.results, r)
	a.mu.Unlock()
	if r.Confidence >= a.threshold {
		return
	}
	a.pending.Add(1)
	ok := a.q.Submit(r.Note, func(m notes.Result, err error) {
		defer a.pending.Done()
		a.mu.Lock()
		defer a.mu.Unlock()
		switch {
		case err != nil:
			a.failed++
		case m.Confidence > a.results[i].Confidence:
			a.results[i], a.used = m, a.used+1
		}
	})
	a.mu.Lock()
	if ok {
		a.asked++
	} else {
		a.refused++
		a.pending.Done()
	}
	a.mu.Unlock()
}

// finish waits up to wait for outstanding answers and returns the results
// in input order; answers that come later are dropped.
func (a *llmPass) finish(wait time.Duration, stderr io.Writer) []notes.Result {
	done := make(chan struct{})
	go func() { a.pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
	}
	a.cancel()
	a.mu.Lock()
	out := slices.Clone(a.results)
	fmt.Fprintf(stderr, "notes parse: model asked about %d notes: %d answers used, %d failed or invalid, %d not asked (queue full)\n",
		a.asked, a.used, a.failed, a.refused)
	a.mu.Unlock()
	go a.q.Close() // the workers end with the cancelled context
	return out
}

func runNotesEval(args []string, stdout, stderr io.Writer) error {
	fs, cfg := notesFlags("eval", stderr)
	asJSON := fs.Bool("json", false, "end with one JSON line of the figures")
	misses := fs.Bool("misses", false, "list the notes read wrong")
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return exitCode(2)
	}
	p, err := notes.New(*cfg)
	if err != nil {
		return err
	}
	f, err := os.Open(files[0])
	if err != nil {
		return fmt.Errorf("notes eval: %w", err)
	}
	labels, err := notes.ReadLabels(f)
	_ = f.Close() // read-only: nothing to lose
	if err != nil {
		return fmt.Errorf("notes eval: %s: %w", files[0], err)
	}
	rep := notes.Evaluate(p, labels)
	if *misses {
		for _, m := range rep.Misses {
			want, _ := json.Marshal(m.Want)
			got, _ := json.Marshal(m.Got)
			fmt.Fprintf(stdout, "want %s\n got %s\n", want, got)
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "notes\t%d\t(%d with a discount, %d without)\n", rep.Notes, rep.Discounts, rep.NoDiscount)
	fmt.Fprintf(tw, "exact reason_code+kind+value\t%.1f %%\t(%d of %d)\n", 100*rep.Accuracy, rep.Exact, rep.Notes)
	fmt.Fprintf(tw, "reason_code right\t%.1f %%\t\n", 100*rep.Reason)
	fmt.Fprintf(tw, "resolved automatically\t%.1f %%\t(%d with confidence >= %.2f)\n", 100*rep.Resolved, rep.Auto, rep.Threshold)
	fmt.Fprintf(tw, "precision of auto-applied\t%.1f %%\t(%d of %d right)\n", 100*rep.Precision, rep.AutoRight, rep.Auto)
	fmt.Fprintf(tw, "recall\t%.1f %%\t(discounts auto-applied and right, of %d)\n", 100*rep.Recall, rep.Discounts)
	fmt.Fprintf(tw, "invented discounts on no-discount notes\t%d\t(of %d)\n", rep.Invented, rep.NoDiscount)
	fmt.Fprintf(tw, "missed discounts\t%d\t\n", rep.Missed)
	for _, a := range []struct {
		name string
		a    notes.Agreement
	}{{"coupon codes", rep.CouponCodes}, {"competitors", rep.Competitors}, {"approvers", rep.Approvers}, {"currencies", rep.Currencies}} {
		fmt.Fprintf(tw, "%s right\t%d of %d\t\n", a.name, a.a.Right, a.a.Labelled)
	}
	fmt.Fprintln(tw, "calibration\tcount\tmean confidence\tshare right")
	for _, b := range rep.Calibration {
		fmt.Fprintf(tw, "  %s\t%d\t%.2f\t%.2f\n", b.Label, b.Count, b.MeanConf, b.ShareRight)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if *asJSON {
		rep.Misses = nil
		if err := jsonLine(stdout, rep); err != nil {
			return err
		}
	}
	return nil
}
