package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

const mappingCatalog = "../../internal/mapping/testdata/catalog.csv"

// tillsync mapping suggest: one JSON line per input line with exactly the
// contract's fields, candidates best first.
func TestMappingSuggestCLI(t *testing.T) {
	t.Parallel()
	in := `{"code": "]E04040042001487"}` + "\n" + `{"code": "GIFTCARD", "description": "gift card"}` + "\n\n" + `{"code": "", "description": "Ironcrest Smoked Sourdough Loaf 800g"}` + "\n"
	var out, errOut bytes.Buffer
	if err := runMapping(context.Background(), []string{"suggest", "--catalog", mappingCatalog}, strings.NewReader(in), &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), out.String())
	}
	for i, l := range lines {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &raw); err != nil {
			t.Fatal(err)
		}
		if len(raw) != 3 || raw["code"] == nil || raw["candidates"] == nil || raw["auto_apply"] == nil {
			t.Errorf("line %d: fields %s, want code, candidates, auto_apply", i+1, l)
		}
		var cands []map[string]any
		if err := json.Unmarshal(raw["candidates"], &cands); err != nil {
			t.Fatalf("line %d: candidates: %v", i+1, err)
		}
		for j, c := range cands {
			if len(c) != 2 || c["sku"] == nil || c["confidence"] == nil {
				t.Errorf("line %d candidate %d: %v, want sku and confidence", i+1, j, c)
			}
			if j > 0 && c["confidence"].(float64) > cands[j-1]["confidence"].(float64) {
				t.Errorf("line %d: candidates not best first: %s", i+1, l)
			}
		}
	}
	if want := `{"code":"]E04040042001487","candidates":[{"sku":"GRC-673435","confidence":`; !strings.HasPrefix(lines[0], want) || !strings.HasSuffix(lines[0], `"auto_apply":true}`) {
		t.Errorf("line 1: %s", lines[0])
	}
	if lines[1] != `{"code":"GIFTCARD","candidates":[],"auto_apply":false}` {
		t.Errorf("line 2 (not in the catalog): %s", lines[1])
	}
	if !strings.Contains(lines[2], `"sku":"GRC-673435"`) || strings.Contains(lines[2], `"auto_apply":true`) {
		t.Errorf("line 3 (description only): %s", lines[2])
	}

	out.Reset()
	err := runMapping(context.Background(), []string{"suggest", "--catalog", mappingCatalog, "--explain"}, strings.NewReader(`{"code":"4040042001487"}`+"\n"+`{"code":`+"\n"), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a broken line: err %v, want one naming line 2", err)
	}
	if !strings.Contains(out.String(), `"evidence":"gtin:as_is"`) {
		t.Errorf("--explain, and lines before the broken one written: %s", out.String())
	}
	if err := runMapping(context.Background(), []string{"suggest"}, strings.NewReader(""), &out, &errOut); err == nil || !strings.Contains(err.Error(), "--catalog") {
		t.Errorf("no catalog: %v", err)
	}
}

// tillsync mapping eval prints the figures; with --json the last line
// carries them.
func TestMappingEvalCLI(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	args := []string{"eval", "../../internal/mapping/testdata/mapping_test.jsonl", "--catalog", mappingCatalog, "--json"}
	if err := runMapping(context.Background(), args, nil, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep struct {
		Lines      int     `json:"lines"`
		Precision  float64 `json:"precision"`
		Recall     float64 `json:"recall"`
		AutoShare  float64 `json:"auto_share"`
		Resolvable int     `json:"resolvable"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line: %v", err)
	}
	if rep.Lines != 4000 || rep.Precision < 0.99 || rep.AutoShare < 0.70 || rep.Recall <= rep.AutoShare {
		t.Errorf("report %+v", rep)
	}
	if !strings.Contains(out.String(), "precision of auto-applied") || !strings.Contains(out.String(), "variant_reorder") {
		t.Errorf("table:\n%s", out.String())
	}
}
