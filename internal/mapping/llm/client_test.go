package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/mapping/llm"
	"github.com/tillsync/tillsync/internal/mapping/notes"
)

// fakeAPI is an OpenAI-compatible chat-completions server: it checks the
// request the way such a server would and answers what answer returns
// for the user message.
type fakeAPI struct {
	t      *testing.T
	srv    *httptest.Server
	answer func(note string) (status int, content string)
	mu     sync.Mutex
	bodies []string
	block  chan struct{} // if set, requests wait for it (or their context)
}

func newFakeAPI(t *testing.T, answer func(string) (int, string)) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	block := f.block
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer sk-test" {
		http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
		return
	}
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role, Content string
		} `json:"messages"`
		ResponseFormat struct {
			Type       string `json:"type"`
			JSONSchema struct {
				Name   string          `json:"name"`
				Strict bool            `json:"strict"`
				Schema json.RawMessage `json:"schema"`
			} `json:"json_schema"`
		} `json:"response_format"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Model != "test-model" || len(req.Messages) != 2 ||
		req.ResponseFormat.Type != "json_schema" || !req.ResponseFormat.JSONSchema.Strict ||
		!strings.Contains(string(req.ResponseFormat.JSONSchema.Schema), `"reason_code"`) {
		http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			return
		}
	}
	status, content := f.answer(req.Messages[1].Content)
	if status != http.StatusOK {
		http.Error(w, content, status)
		return
	}
	resp := map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content}}}}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func client(t *testing.T, f *fakeAPI, c llm.Config) *llm.Client {
	t.Helper()
	c.BaseURL, c.Model, c.APIKey = f.srv.URL+"/v1", "test-model", "sk-test"
	cl, err := llm.New(c, nil, f.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

const goodAnswer = `{"reason_code":"PRICE_MATCH","kind":"fixed_price","value":"24.99","currency":"USD","coupon_code":null,"competitor":"Walmart","approved_by":null,"confidence":0.97}`

func TestParseValidAnswer(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(string) (int, string) { return http.StatusOK, goodAnswer })
	r, err := client(t, f, llm.Config{}).Parse(context.Background(), "mtchd the wally world price 24.99")
	if err != nil {
		t.Fatal(err)
	}
	if r.ReasonCode != notes.PriceMatch || r.Kind != notes.FixedPrice || r.Value != "24.99" || r.Competitor != "Walmart" {
		t.Errorf("got %+v", r)
	}
	if r.Confidence != 0.85 {
		t.Errorf("confidence %v: the model's 0.97 must be capped at MaxConfidence 0.85", r.Confidence)
	}
}

func TestParseRejectsInvalidAnswers(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		status  int
		content string
		invalid bool // ErrInvalidAnswer, as opposed to a transport error
	}{
		"unknown reason": {200, `{"reason_code":"FRIENDS_AND_FAMILY","kind":null,"value":null,"currency":null,"coupon_code":null,"competitor":null,"approved_by":null,"confidence":0.9}`, true},
		"bad kind":       {200, `{"reason_code":"OTHER","kind":"ratio","value":"10","currency":null,"coupon_code":null,"competitor":null,"approved_by":null,"confidence":0.9}`, true},
		"float value":    {200, `{"reason_code":"OTHER","kind":"amount","value":"ten","currency":null,"coupon_code":null,"competitor":null,"approved_by":null,"confidence":0.9}`, true},
		"invented value": {200, `{"reason_code":"OTHER","kind":"amount","value":"7.00","currency":null,"coupon_code":null,"competitor":null,"approved_by":null,"confidence":0.9}`, true},
		"percent > 100":  {200, `{"reason_code":"OTHER","kind":"percent","value":"2499","currency":null,"coupon_code":null,"competitor":null,"approved_by":null,"confidence":0.9}`, true},
		"kind no value":  {200, `{"reason_code":"OTHER","kind":"percent","value":null,"currency":null,"coupon_code":null,"competitor":null,"approved_by":null,"confidence":0.9}`, true},
		"bad currency":   {200, `{"reason_code":"OTHER","kind":"amount","value":"24.99","currency":"DOLLARS","coupon_code":null,"competitor":null,"approved_by":null,"confidence":0.9}`, true},
		"extra field":    {200, `{"reason_code":null,"kind":null,"value":null,"currency":null,"coupon_code":null,"competitor":null,"approved_by":null,"confidence":0.9,"note":"x"}`, true},
		"no confidence":  {200, `{"reason_code":null,"kind":null,"value":null,"currency":null,"coupon_code":null,"competitor":null,"approved_by":null}`, true},
		"prose":          {200, `Sure! The discount is 24.99.`, true},
		"server error":   {500, `{"error":{"message":"overloaded"}}`, false},
		"rate limited":   {429, `{"error":{"message":"rate limit"}}`, false},
	} {
		f := newFakeAPI(t, func(string) (int, string) { return c.status, c.content })
		_, err := client(t, f, llm.Config{}).Parse(context.Background(), "pm walmart 24.99")
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if errors.Is(err, llm.ErrInvalidAnswer) != c.invalid {
			t.Errorf("%s: err %v, ErrInvalidAnswer want %v", name, err, c.invalid)
		}
	}
}

func TestParseTimesOut(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(string) (int, string) { return http.StatusOK, goodAnswer })
	f.block = make(chan struct{}) // never answers
	t.Cleanup(func() { close(f.block) })
	_, err := client(t, f, llm.Config{Timeout: 20 * time.Millisecond}).Parse(context.Background(), "pm walmart 24.99")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
}

// A card number in a note never reaches the model: the request body holds
// the redacted note only.
func TestCardNumberNeverSent(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(string) (int, string) {
		return http.StatusOK, `{"reason_code":null,"kind":null,"value":null,"currency":null,"coupon_code":null,"competitor":null,"approved_by":null,"confidence":0.9}`
	})
	r, err := client(t, f, llm.Config{}).Parse(context.Background(), "cust paid 4111 1111 1111 1111 exp 12/28 gave 5 bucks off??")
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bodies) != 1 {
		t.Fatalf("%d requests, want 1", len(f.bodies))
	}
	for _, s := range []string{f.bodies[0], r.Note} {
		if strings.Contains(strings.ReplaceAll(s, " ", ""), "4111111111111111") || strings.Contains(s, "4111 1111") {
			t.Errorf("card number reached the model or the result: %s", s)
		}
	}
	if !strings.Contains(f.bodies[0], "gave 5 bucks off") {
		t.Errorf("request lost the rest of the note: %s", f.bodies[0])
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []llm.Config{
		{Model: "m"},
		{BaseURL: "localhost:8080", Model: "m"},
		{BaseURL: "http://localhost:8080/v1"},
		{BaseURL: "http://localhost:8080/v1", Model: "m", Timeout: -1},
		{BaseURL: "http://localhost:8080/v1", Model: "m", MaxConfidence: 2},
	} {
		if _, err := llm.New(c, nil, nil); err == nil {
			t.Errorf("New(%+v): want an error", c)
		}
	}
}
