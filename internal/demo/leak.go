package demo

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/tillsync/tillsync/internal/redact"
)

// capture keeps every request body that reached a simulator.
type capture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *capture) add(b []byte) {
	c.mu.Lock()
	c.buf.Write(b)
	c.buf.WriteByte('\n')
	c.mu.Unlock()
}

func (c *capture) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf.Bytes()...)
}

// tap records request bodies before the handler sees them.
func (c *capture) tap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			b, _ := io.ReadAll(r.Body)
			_ = r.Body.Close()
			c.add(b)
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		next.ServeHTTP(w, r)
	})
}

// scanForCardData writes what the simulators received next to the
// databases and the log, and counts PAN-like and SAD-like values in all of
// them: what `tillsync scan DIR` would report to an assessor.
// Each finding is located (file, table, row, column) with the value masked,
// relative to dir.
func scanForCardData(ctx context.Context, dir string, wire []byte) ([]string, error) {
	if err := os.WriteFile(filepath.Join(dir, "received-by-simulators.log"), wire, 0o600); err != nil {
		return nil, err
	}
	red, err := redact.New(redact.Config{})
	if err != nil {
		return nil, err
	}
	rep, err := red.ScanPath(ctx, dir)
	if err != nil {
		return nil, err
	}
	found := make([]string, 0, len(rep.Hits))
	for _, h := range rep.Hits {
		if rel, err := filepath.Rel(dir, h.File); err == nil {
			h.File = rel
		}
		found = append(found, h.String())
	}
	return found, nil
}
