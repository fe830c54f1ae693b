package csv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/intake"
)

// Watcher imports the files dropped in Dir. Run it in one goroutine; it is
// not safe for concurrent use.
type Watcher struct {
	// Dir is watched for files matching Pattern (default "*.csv",
	// case-insensitive); names starting with '.' or '~' are skipped, so
	// exporters can write to a temporary name and rename.
	Dir     string
	Pattern string
	// Done receives imported files, Failed refused ones next to a
	// <name>.error.txt. Both are created if missing.
	Done   string
	Failed string
	// Mapping says how the files' columns become events.
	Mapping Mapping
	// Submit commits events durably (the hub's committer, or an edge's).
	Submit intake.Submitter
	// Prepare, if set, runs on every event before validation (redaction).
	Prepare func(*event.Event)
	Log     *slog.Logger
	// Interval between scans of Dir (default 5 s). A file is imported once
	// its size and modification time are the same on two scans in a row,
	// so a file still being copied in is left alone.
	Interval time.Duration
	// Now stamps received_at (default time.Now).
	Now func() time.Time
	// MaxFileBytes refuses bigger files (default 64 MiB); Batch is the most
	// events per Submit (default 1000).
	MaxFileBytes int64
	Batch        int

	m     *compiled
	sizes map[string]fileMark
}

type fileMark struct {
	size int64
	mod  time.Time
}

// Result is what became of one file.
type Result struct {
	File       string
	SHA256     string
	Events     int
	Accepted   int
	Duplicates int
	// Problems, when not empty, are why the file went to Failed.
	Problems []Problem
}

func (w *Watcher) init() error {
	var errs []error
	m, err := w.Mapping.compile()
	errs = append(errs, err)
	w.m = m
	if w.Dir == "" || w.Done == "" || w.Failed == "" {
		errs = append(errs, errors.New("csv watcher: dir, done and failed folders are all required"))
	} else if filepath.Clean(w.Dir) == filepath.Clean(w.Done) || filepath.Clean(w.Dir) == filepath.Clean(w.Failed) {
		errs = append(errs, errors.New("csv watcher: done and failed must be other folders than dir"))
	}
	if w.Submit == nil {
		errs = append(errs, errors.New("csv watcher: no Submitter"))
	}
	if w.Pattern == "" {
		w.Pattern = "*.csv"
	}
	if _, err := filepath.Match(w.Pattern, ""); err != nil {
		errs = append(errs, fmt.Errorf("csv watcher: pattern %q: %w", w.Pattern, err))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Interval <= 0 {
		w.Interval = 5 * time.Second
	}
	if w.MaxFileBytes <= 0 {
		w.MaxFileBytes = 64 << 20
	}
	if w.Batch <= 0 {
		w.Batch = 1000
	}
	w.sizes = map[string]fileMark{}
	for _, d := range []string{w.Done, w.Failed} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("csv watcher: %w", err)
		}
	}
	return nil
}

// Run scans Dir every Interval and imports settled files until ctx ends.
// A file whose events cannot be committed (the hub is down) stays in Dir
// and is tried again on the next scan.
func (w *Watcher) Run(ctx context.Context) error {
	if err := w.init(); err != nil {
		return err
	}
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		if err := w.scan(ctx); err != nil && ctx.Err() == nil {
			w.Log.Warn("csv scan", "dir", w.Dir, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// scan imports every file that has settled since the last scan.
func (w *Watcher) scan(ctx context.Context) error {
	entries, err := os.ReadDir(w.Dir)
	if err != nil {
		return err
	}
	present := map[string]bool{}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~") {
			continue
		}
		if ok, _ := filepath.Match(strings.ToLower(w.Pattern), strings.ToLower(name)); !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		present[name] = true
		mark := fileMark{info.Size(), info.ModTime()}
		if prev, seen := w.sizes[name]; !seen || prev != mark {
			w.sizes[name] = mark
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := w.Ingest(ctx, filepath.Join(w.Dir, name)); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(w.sizes, name)
	}
	for name := range w.sizes {
		if !present[name] {
			delete(w.sizes, name)
		}
	}
	return errors.Join(errs...)
}

// Ingest imports one file now, all or nothing, and moves it to Done or
// Failed. An error means the file was left where it is (its events could
// not be committed, or it could not be moved); importing it again is safe.
func (w *Watcher) Ingest(ctx context.Context, path string) (*Result, error) {
	if w.m == nil {
		if err := w.init(); err != nil {
			return nil, err
		}
	}
	name := filepath.Base(path)
	res := &Result{File: name}
	data, err := readLimited(path, w.MaxFileBytes)
	if err != nil {
		if errors.Is(err, errTooBig) {
			res.Problems = []Problem{{File: name, Message: err.Error()}}
			return res, w.fail(path, res, 0)
		}
		return nil, err
	}
	p := parse(name, data, w.m, w.Now().UTC(), w.Prepare)
	res.SHA256, res.Events = p.SHA256, len(p.Events)
	if len(p.Problems) > 0 {
		res.Problems = p.Problems
		return res, w.fail(path, res, 0)
	}
	for start := 0; start < len(p.Events); start += w.Batch {
		end := min(start+w.Batch, len(p.Events))
		outs, err := w.Submit.Submit(ctx, p.Events[start:end])
		if err != nil {
			return nil, fmt.Errorf("import %s: %w (the file stays in %s and is tried again)", name, err, w.Dir)
		}
		for i, o := range outs {
			switch o.Status {
			case intake.StatusAccepted:
				res.Accepted++
			case intake.StatusDuplicate:
				res.Duplicates++
			default:
				e := p.Events[start+i]
				msg := "refused"
				if o.Err != nil {
					msg = o.Err.Error()
				}
				res.Problems = append(res.Problems, Problem{File: name, Line: p.lines[start+i],
					Message: fmt.Sprintf("event %s: %s", e.ID, msg)})
			}
		}
	}
	if len(res.Problems) > 0 {
		// The rest is committed: the file cannot be undone, only fixed and
		// dropped again (the committed rows are recognized as duplicates).
		return res, w.fail(path, res, res.Accepted+res.Duplicates)
	}
	if err := move(path, w.Done); err != nil {
		return nil, fmt.Errorf("import %s: committed, but moving it to %s: %w", name, w.Done, err)
	}
	w.Log.Info("csv file imported", "file", name, "events", res.Events, "accepted", res.Accepted, "duplicates", res.Duplicates)
	return res, nil
}

// fail moves a file to Failed with its problems in <name>.error.txt.
func (w *Watcher) fail(path string, res *Result, stored int) error {
	var b strings.Builder
	if stored == 0 {
		fmt.Fprintf(&b, "%s was not imported: %d problem(s). Nothing was stored; fix the file (or the mapping) and drop it again.\n\n", res.File, len(res.Problems))
	} else {
		fmt.Fprintf(&b, "%s was imported in part: %d event(s) stored, %d refused. Dropping the fixed file again stores only what is missing.\n\n", res.File, stored, len(res.Problems))
	}
	for _, p := range res.Problems {
		b.WriteString(p.String())
		b.WriteString("\n")
	}
	target, err := uniqueName(w.Failed, res.File)
	if err != nil {
		return err
	}
	if err := os.WriteFile(target+".error.txt", []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write %s.error.txt: %w", target, err)
	}
	if err := rename(path, target); err != nil {
		return fmt.Errorf("move %s to %s: %w", res.File, w.Failed, err)
	}
	w.Log.Warn("csv file refused", "file", res.File, "problems", len(res.Problems), "first", res.Problems[0].String())
	return nil
}

var errTooBig = errors.New("file too big")

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path) //nolint:gosec // G304: the path is a file in the configured drop folder
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only: nothing to lose
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes; split the export", errTooBig, limit)
	}
	return data, nil
}

// move renames a file into dir, under a new name if one is taken.
func move(path, dir string) error {
	target, err := uniqueName(dir, filepath.Base(path))
	if err != nil {
		return err
	}
	return rename(path, target)
}

// rename moves a file, copying it when the folders are on different
// file systems.
func rename(from, to string) error {
	err := os.Rename(from, to)
	var le *os.LinkError
	if err == nil || !errors.As(err, &le) {
		return err
	}
	src, err := os.Open(from) //nolint:gosec // G304: a file in the configured drop folder
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }()                                    // read-only: nothing to lose
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // G304: the configured done/failed folder
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close()
		_ = os.Remove(to)
		return err
	}
	if err := dst.Sync(); err != nil {
		_ = dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	return os.Remove(from)
}

// uniqueName is dir/name, or dir/name.N with the first free N: a file
// dropped twice does not overwrite the first one's record.
func uniqueName(dir, name string) (string, error) {
	target := filepath.Join(dir, name)
	for i := 1; ; i++ {
		if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
			return target, nil
		} else if err != nil {
			return "", err
		}
		target = filepath.Join(dir, fmt.Sprintf("%s.%d", name, i))
	}
}
