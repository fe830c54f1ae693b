package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/config"
)

// seedFiles adds the example configurations and a few broken ones.
func seedFiles(f *testing.F, example string) {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", example))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(""))
	f.Add([]byte("listen: [1, 2]\n"))
	f.Add([]byte("listn: \":8080\"\n"))
	f.Add([]byte("limits:\n  max_body_bytes: -1\n  max_events: 99999999999999999999\n"))
	f.Add([]byte("log: &a\n  level: *a\n"))
	f.Add([]byte("a: &a [*a, *a, *a, *a]\nb: &b [*a, *a]\n"))
	f.Add([]byte("\t- tab\n"))
	f.Add([]byte("commit:\n  linger: 5 parsecs\n"))
	f.Add([]byte("---\nlisten: \":1\"\n---\nlisten: \":2\"\n"))
}

// checkLoad checks what a loader makes of a file: a configuration that
// validates, or an error that names the file or the fields at fault.
func checkLoad(t *testing.T, body []byte, load func(path string) error, what string) {
	path := filepath.Join(t.TempDir(), what+".yaml")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	err := load(path)
	if err == nil {
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, path) && !strings.HasPrefix(msg, what+" config is not valid:\n  - ") {
		t.Fatalf("error names neither the file nor a field: %v", err)
	}
}

// FuzzLoadHub loads fuzzed hub configuration files: YAML the decoder
// refuses is an error naming the file, a configuration that decodes but is
// wrong is an error naming each field, and a configuration that loads
// validates again unchanged. Never a panic.
func FuzzLoadHub(f *testing.F) {
	seedFiles(f, "hub.yaml")
	f.Add([]byte("destinations:\n  - name: ns\n    type: netsuite\n    fields: [memo, nonsense]\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkLoad(t, body, func(path string) error {
			c, err := config.LoadHub(path)
			if err == nil {
				if err := c.Validate(); err != nil {
					t.Fatalf("loaded, then does not validate: %v", err)
				}
			}
			return err
		}, "hub")
	})
}

// FuzzLoadEdge is FuzzLoadHub for the edge's configuration.
func FuzzLoadEdge(f *testing.F) {
	seedFiles(f, "edge.yaml")
	f.Add([]byte("hub:\n  url: ftp://hub\n  token_file: /nonexistent\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkLoad(t, body, func(path string) error {
			c, err := config.LoadEdge(path)
			if err == nil {
				if err := c.Validate(); err != nil {
					t.Fatalf("loaded, then does not validate: %v", err)
				}
			}
			return err
		}, "edge")
	})
}
