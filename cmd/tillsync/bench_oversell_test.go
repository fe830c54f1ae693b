package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// tillsync bench oversell prints the table and, with --json, the report
// as the last line; bad flags name the flag and exit 2.
func TestBenchOversellCLI(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"bench", "oversell", "--json", "--stores", "4", "--skus", "30", "--stores-per-sku", "2",
		"--hours", "1", "--seed", "3", "--online-rate", "60", "--propagation", "100ms,300ms,500ms,800ms"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !strings.Contains(out.String(), "phantom exposure, batch every 15 min / tillsync") {
		t.Errorf("no phantom ratio line in:\n%s", out.String())
	}
	var rep struct {
		Strategies []struct {
			Name          string   `json:"name"`
			OversoldUnits *int64   `json:"oversold_units"`
			Phantom       *float64 `json:"phantom_sku_seconds"`
			Cancelled     *int64   `json:"cancelled_orders"`
		} `json:"strategies"`
		Propagation struct {
			Source string  `json:"source"`
			P95Ms  float64 `json:"p95_ms"`
		} `json:"propagation"`
		Day struct {
			Stores int `json:"stores"`
		} `json:"day"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not the JSON report: %v\n%s", err, lines[len(lines)-1])
	}
	if len(rep.Strategies) != 3 || rep.Strategies[2].Name != "tillsync" || rep.Day.Stores != 4 ||
		rep.Propagation.P95Ms != 300 || !strings.HasPrefix(rep.Propagation.Source, "given") {
		t.Errorf("report: %+v", rep)
	}
	for _, s := range rep.Strategies {
		if s.OversoldUnits == nil || s.Phantom == nil || s.Cancelled == nil {
			t.Errorf("%s: a contract field is missing", s.Name)
		}
	}

	for _, args := range [][]string{{"--units", "5-1"}, {"--propagation", "1s,2s"}, {"--intervals", "soon"}, {"--hours", "0"}} {
		var o, e bytes.Buffer
		err := run(context.Background(), append([]string{"bench", "oversell"}, args...), &o, &e)
		var code exitCode
		if !errors.As(err, &code) || code != 2 || !strings.Contains(e.String(), args[0]) {
			t.Errorf("%v: error %v, stderr %q; want exit 2 naming the flag", args, err, e.String())
		}
	}
}
