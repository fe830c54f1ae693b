package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/mapping/notes"
	"github.com/tillsync/tillsync/internal/redact"
)

// Config configures the client. BaseURL and Model are required; the
// rest have defaults.
type Config struct {
	// BaseURL is the API root, up to and including its version:
	// "https://api.openai.com/v1", "http://localhost:11434/v1".
	BaseURL string `yaml:"base_url" json:"base_url"`
	// Model is the model name the server knows.
	Model string `yaml:"model" json:"model"`
	// APIKey is sent as a bearer token; local servers need none.
	APIKey string `yaml:"api_key" json:"-"`
	// Timeout bounds one request; 0 means 10 s.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// MaxConfidence caps the confidence of a model's answer, whatever the
	// model says; 0 means 0.85. Set it below the auto-apply threshold to
	// send every model answer to a person as a suggestion.
	MaxConfidence float64 `yaml:"max_confidence" json:"max_confidence"`
}

// Validate reports the first problem in c, naming the field.
func (c Config) Validate() error {
	u, err := url.Parse(c.BaseURL)
	switch {
	case c.BaseURL == "":
		return errors.New("llm: base_url is required (e.g. http://localhost:11434/v1)")
	case err != nil:
		return fmt.Errorf("llm: base_url %q: %w", c.BaseURL, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("llm: base_url %q: want http(s)://host[:port]/path", c.BaseURL)
	case c.Model == "":
		return errors.New("llm: model is required")
	case c.Timeout < 0:
		return fmt.Errorf("llm: timeout %v: must not be negative", c.Timeout)
	case c.MaxConfidence < 0 || c.MaxConfidence > 1:
		return fmt.Errorf("llm: max_confidence %v: must be between 0 and 1", c.MaxConfidence)
	}
	return nil
}

// Client asks a chat-completions API to read notes. It is safe for
// concurrent use.
type Client struct {
	cfg     Config
	http    *http.Client
	red     *redact.Redactor
	reasons []string
	known   map[string]bool
}

// New returns a client for the taxonomy reasons (notes.Parser.Reasons).
// hc may be nil for a default client.
func New(c Config, reasons []string, hc *http.Client) (*Client, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MaxConfidence == 0 {
		c.MaxConfidence = 0.85
	}
	if len(reasons) == 0 {
		reasons = notes.DefaultReasons()
	}
	if hc == nil {
		hc = &http.Client{}
	}
	red, err := redact.New(redact.Config{})
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	cl := &Client{cfg: c, http: hc, red: red, reasons: reasons, known: map[string]bool{}}
	for _, r := range reasons {
		cl.known[r] = true
	}
	return cl, nil
}

// ErrInvalidAnswer is wrapped by every error about what the model
// answered, as opposed to reaching it.
var ErrInvalidAnswer = errors.New("invalid model answer")

// Parse asks the model to read one note. The note is redacted before it
// is sent; the result's Note is the redacted note.
func (c *Client) Parse(ctx context.Context, note string) (notes.Result, error) {
	red, _ := c.red.Text(note)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	body, err := json.Marshal(c.request(red))
	if err != nil {
		return notes.Result{}, err
	}
	endpoint := strings.TrimRight(c.cfg.BaseURL, "/") + "/chat/completions"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return notes.Result{}, fmt.Errorf("llm: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return notes.Result{}, fmt.Errorf("llm: POST %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return notes.Result{}, fmt.Errorf("llm: POST %s: read answer: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		return notes.Result{}, fmt.Errorf("llm: POST %s: %s: %s", endpoint, resp.Status, snippet(raw))
	}
	var cr chatResponse
	if err := json.Unmarshal(raw, &cr); err != nil {
		return notes.Result{}, fmt.Errorf("llm: %w: not a chat completion: %w", ErrInvalidAnswer, err)
	}
	if len(cr.Choices) == 0 {
		return notes.Result{}, fmt.Errorf("llm: %w: no choices", ErrInvalidAnswer)
	}
	return c.validate(red, cr.Choices[0].Message.Content)
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model          string         `json:"model"`
	Messages       []message      `json:"messages"`
	Temperature    float64        `json:"temperature"`
	ResponseFormat responseFormat `json:"response_format"`
}

type responseFormat struct {
	Type       string     `json:"type"`
	JSONSchema jsonSchema `json:"json_schema"`
}

type jsonSchema struct {
	Name   string         `json:"name"`
	Strict bool           `json:"strict"`
	Schema map[string]any `json:"schema"`
}

type chatResponse struct {
	Choices []struct {
		Message message `json:"message"`
	} `json:"choices"`
}

const systemPrompt = `You read notes a retail cashier typed on a sale and say which discount, if any, the note records.
Answer with one JSON object and nothing else, following the schema.
- reason_code: one of the listed codes, or null when the note records no discount (payments, returns, gift wrap, pickups, calls).
- kind: "percent" (value is a percentage), "amount" (value is money taken off) or "fixed_price" (value is the price the item sold at), or null when the note gives no value.
- value: the number as a decimal string ("20", "5.00", "24.99"), taken from the note; "half off" is percent "50"; null when none.
- currency: ISO 4217 code when the note shows one ($ is USD unless told otherwise), else null.
- coupon_code, competitor, approved_by: as written in the note, else null.
- confidence: your probability between 0 and 1 that the answer is right.
Do not guess a value the note does not contain.`

func (c *Client) request(note string) chatRequest {
	nullable := func(extra map[string]any) map[string]any { // a string or null
		m := map[string]any{"type": []string{"string", "null"}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	reasons := make([]any, 0, len(c.reasons)+1)
	for _, r := range c.reasons {
		reasons = append(reasons, r)
	}
	reasons = append(reasons, nil)
	schema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"reason_code": map[string]any{"type": []string{"string", "null"}, "enum": reasons},
			"kind":        map[string]any{"type": []string{"string", "null"}, "enum": []any{"percent", "amount", "fixed_price", nil}},
			"value":       nullable(map[string]any{"pattern": `^[0-9]+(\.[0-9]+)?$`}),
			"currency":    nullable(map[string]any{"pattern": `^[A-Z]{3}$`}),
			"coupon_code": nullable(nil),
			"competitor":  nullable(nil),
			"approved_by": nullable(nil),
			"confidence":  map[string]any{"type": "number", "minimum": 0, "maximum": 1},
		},
		"required":             []string{"reason_code", "kind", "value", "currency", "coupon_code", "competitor", "approved_by", "confidence"},
		"additionalProperties": false,
	}
	return chatRequest{
		Model: c.cfg.Model,
		Messages: []message{
			{Role: "system", Content: systemPrompt + "\nReason codes: " + strings.Join(c.reasons, ", ") + "."},
			{Role: "user", Content: note},
		},
		ResponseFormat: responseFormat{Type: "json_schema", JSONSchema: jsonSchema{Name: "discount", Strict: true, Schema: schema}},
	}
}

// answer is what the schema allows the model to say.
type answer struct {
	ReasonCode *string  `json:"reason_code"`
	Kind       *string  `json:"kind"`
	Value      *string  `json:"value"`
	Currency   *string  `json:"currency"`
	CouponCode *string  `json:"coupon_code"`
	Competitor *string  `json:"competitor"`
	ApprovedBy *string  `json:"approved_by"`
	Confidence *float64 `json:"confidence"`
}

var decimalRE = regexp.MustCompile(`^[0-9]{1,12}(\.[0-9]{1,6})?$`)

// validate checks a model's answer against the schema, the taxonomy and
// the note itself.
func (c *Client) validate(note, content string) (notes.Result, error) {
	content = strings.TrimSpace(content)
	// Some servers wrap JSON in a code fence even when asked not to.
	content = strings.TrimPrefix(strings.TrimSuffix(content, "```"), "```json")
	dec := json.NewDecoder(strings.NewReader(content))
	dec.DisallowUnknownFields()
	var a answer
	if err := dec.Decode(&a); err != nil {
		return notes.Result{}, fmt.Errorf("llm: %w: %w", ErrInvalidAnswer, err)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.TrimSpace(*p)
	}
	r := notes.Result{Note: note, ReasonCode: str(a.ReasonCode), Kind: notes.Kind(str(a.Kind)), Value: str(a.Value),
		Currency: str(a.Currency), CouponCode: str(a.CouponCode), Competitor: str(a.Competitor), ApprovedBy: str(a.ApprovedBy)}
	bad := func(format string, args ...any) (notes.Result, error) {
		return notes.Result{}, fmt.Errorf("llm: %w: "+format, append([]any{ErrInvalidAnswer}, args...)...)
	}
	switch {
	case a.Confidence == nil:
		return bad("no confidence")
	case *a.Confidence < 0 || *a.Confidence > 1:
		return bad("confidence %v outside 0..1", *a.Confidence)
	case r.ReasonCode != "" && !c.known[r.ReasonCode]:
		return bad("reason_code %q is not in the taxonomy", r.ReasonCode)
	case r.ReasonCode == "" && (r.Kind != "" || r.Value != ""):
		return bad("a kind or value without a reason_code")
	case r.Kind != "" && !r.Kind.Valid():
		return bad("kind %q: want percent, amount or fixed_price", r.Kind)
	case (r.Kind == "") != (r.Value == ""):
		return bad("kind %q and value %q: give both or neither", r.Kind, r.Value)
	case r.Value != "" && !decimalRE.MatchString(r.Value):
		return bad("value %q is not a decimal string", r.Value)
	case r.Value != "" && notes.SameValue(r.Value, "0"):
		return bad("value is zero")
	case r.Kind == notes.Percent && !percentOK(r.Value):
		return bad("percent %q above 100", r.Value)
	case r.Currency != "" && !knownCurrency(r.Currency):
		return bad("currency %q is not ISO 4217", r.Currency)
	case r.Value != "" && !inNote(note, r.Value):
		return bad("value %s is not in the note", r.Value)
	}
	if r.Kind == notes.Percent {
		r.Currency = ""
	}
	r.Confidence = min(*a.Confidence, c.cfg.MaxConfidence)
	return r, nil
}

func percentOK(v string) bool {
	intPart, _, _ := strings.Cut(v, ".")
	intPart = strings.TrimLeft(intPart, "0")
	return len(intPart) < 3 || intPart == "100" && notes.SameValue(v, "100")
}

func knownCurrency(code string) bool {
	_, ok := event.MinorUnits(code)
	return ok
}

// inNote reports whether a value appears in the note as a number, or as
// the words that mean it ("half" for 50, "bogo"/"free" for 100).
func inNote(note, value string) bool {
	low := strings.ToLower(note)
	switch {
	case notes.SameValue(value, "50") && strings.Contains(low, "half"),
		notes.SameValue(value, "25") && strings.Contains(low, "quarter"),
		notes.SameValue(value, "100") && (strings.Contains(low, "bogo") || strings.Contains(low, "free")):
		return true
	}
	for _, n := range numbersIn(note) {
		if notes.SameValue(n, value) {
			return true
		}
	}
	return false
}

var numberRE = regexp.MustCompile(`[0-9]+(?:[.,][0-9]+)*`)

// numbersIn lists the numbers of a note as plain decimals, reading a comma
// as the decimal mark when one or two digits follow it ("79,99").
func numbersIn(s string) []string {
	var out []string
	for _, m := range numberRE.FindAllString(s, -1) {
		out = append(out, strings.ReplaceAll(m, ",", ""))
		if i := strings.LastIndexByte(m, ','); i >= 0 && len(m)-i <= 3 {
			out = append(out, strings.ReplaceAll(m[:i], ".", "")+"."+m[i+1:])
		}
	}
	return out
}
