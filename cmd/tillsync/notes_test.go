package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// tillsync notes parse: one JSON object per input line, in order, with the
// contract's fields; a card number in a note is not in the output.
func TestNotesParseCLI(t *testing.T) {
	t.Parallel()
	in := "emp disc 20%\ngift wrap\npm walmart 24.99 card 4111 1111 1111 1111\n"
	var out, errOut bytes.Buffer
	if err := runNotes(context.Background(), []string{"parse"}, strings.NewReader(in), &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), out.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["note"] != "emp disc 20%" || first["reason_code"] != "EMPLOYEE" || first["kind"] != "percent" || first["value"] != "20" {
		t.Errorf("line 1: %s", lines[0])
	}
	if !strings.Contains(lines[1], `"reason_code":null`) || strings.Contains(lines[1], `"kind"`) {
		t.Errorf("line 2 (no discount): %s", lines[1])
	}
	if strings.Contains(out.String(), "4111") {
		t.Errorf("card number in the output:\n%s", out.String())
	}

	out.Reset()
	err := runNotes(context.Background(), []string{"parse", "--json-in"}, strings.NewReader(`{"note":"dmgd 10%"}`+"\n"+`{"id":1}`+"\n"), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("--json-in with a line without note: err %v, want one naming line 2", err)
	}
}

// tillsync notes eval prints the figures and, with --json, a last line
// that carries them.
func TestNotesEvalCLI(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if err := runNotes(context.Background(), []string{"eval", "../../internal/mapping/notes/testdata/notes_dev.jsonl", "--json"}, nil, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep struct {
		Notes     int      `json:"notes"`
		Accuracy  float64  `json:"accuracy"`
		Precision *float64 `json:"precision"`
		Recall    *float64 `json:"recall"`
		Resolved  *float64 `json:"resolved"`
		Invented  *int     `json:"invented_discounts"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line: %v\n%s", err, out.String())
	}
	if rep.Notes < 200 || rep.Accuracy < 0.9 || rep.Precision == nil || rep.Recall == nil || rep.Resolved == nil || rep.Invented == nil {
		t.Errorf("report %+v\n%s", rep, out.String())
	}
	for _, want := range []string{"precision of auto-applied", "recall", "resolved automatically", "invented discounts"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// With --llm-url, only the notes the parser is unsure of go to the model,
// redacted, and a valid, more confident answer replaces the parser's.
func TestNotesParseWithModel(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Messages []struct{ Content string } `json:"messages"`
		}
		_ = json.Unmarshal(body, &req)
		mu.Lock()
		asked = append(asked, string(body))
		mu.Unlock()
		content := `{"reason_code":"PRICE_MATCH","kind":"fixed_price","value":"19.99","currency":null,"coupon_code":null,"competitor":"Walmart","approved_by":null,"confidence":0.95}`
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": content}}}})
	}))
	defer srv.Close()
	in := "emp disc 20%\nwally world had it 19.99 - card 4111111111111111 paid\n"
	var out, errOut bytes.Buffer
	if err := runNotes(context.Background(), []string{"parse", "--llm-url", srv.URL + "/v1", "--llm-model", "m"}, strings.NewReader(in), &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	sc := bufio.NewScanner(&out)
	var got []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if len(got) != 2 || got[0]["reason_code"] != "EMPLOYEE" || got[1]["reason_code"] != "PRICE_MATCH" || got[1]["value"] != "19.99" {
		t.Errorf("results %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 1 {
		t.Fatalf("model asked %d times, want 1 (only the unsure note)", len(asked))
	}
	if strings.Contains(asked[0], "4111") {
		t.Errorf("card number sent to the model: %s", asked[0])
	}
}
