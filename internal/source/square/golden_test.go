package square

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// Each doc-shaped notification in testdata/webhooks, with the orders in
// testdata/orders behind RetrieveOrder, maps to the canonical events kept
// in testdata/golden/<name>.golden, together with the endpoint's answer.
func TestGolden(t *testing.T) {
	t.Parallel()
	api := orderFiles(t)
	files, err := filepath.Glob("testdata/webhooks/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no webhooks in testdata: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			log := newFakeLog()
			h := newTestHandler(t, testConfig(api.URL), log)
			w := post(t, h, readFile(t, f))
			var got bytes.Buffer
			fmt.Fprintf(&got, "HTTP %d\n%s\n", w.Code, w.Body.String())
			for _, e := range log.all() {
				b, err := json.MarshalIndent(e, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				got.Write(b)
				got.WriteString("\n")
				if err := e.Validate(); err != nil {
					t.Errorf("stored an invalid event: %v", err)
				}
			}
			golden := filepath.Join("testdata", "golden", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o600); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s changed; got:\n%s\nwant:\n%s", golden, got.Bytes(), want)
			}
		})
	}
}
