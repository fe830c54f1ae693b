package settlement

import (
	"encoding/json"
	"io"
)

// JSONWriter writes transactions as JSON lines, one object each, and the
// summary as a last line {"summary": {...}}: the output of `tillsync
// settlement parse --json`.
type JSONWriter struct {
	enc *json.Encoder
}

// NewJSONWriter writes to w.
func NewJSONWriter(w io.Writer) *JSONWriter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &JSONWriter{enc: enc}
}

// Transaction writes one transaction line.
func (w *JSONWriter) Transaction(tx Transaction) error { return w.enc.Encode(tx) }

// Summary writes the summary line.
func (w *JSONWriter) Summary(s Summary) error {
	if s.Totals == nil {
		s.Totals = map[string]Totals{}
	}
	if s.Problems == nil {
		s.Problems = []Problem{}
	}
	return w.enc.Encode(struct {
		Summary Summary `json:"summary"`
	}{s})
}
