package mapping

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Rule is a human decision (or a confirmed repair): source's code means sku.
type Rule struct {
	Source string    `json:"source"`
	Code   string    `json:"code"`
	SKU    string    `json:"sku"`
	Who    string    `json:"who"`
	At     time.Time `json:"at"`
}

// Rules stores the decisions the resolver learns from. Lookup matches codes
// by their cleaned key (case, spaces and dashes do not matter).
type Rules interface {
	Lookup(source, code string) (Rule, bool)
	Confirm(source, code, sku, who string) (Rule, error)
	All() []Rule
}

// MemRules keeps rules in memory; the zero value is not ready, use
// NewMemRules.
type MemRules struct {
	mu    sync.RWMutex
	rules map[string]Rule // source + "\x00" + codeKey
	now   func() time.Time
}

// NewMemRules returns an empty in-memory rule store.
func NewMemRules() *MemRules {
	return &MemRules{rules: map[string]Rule{}, now: func() time.Time { return time.Now().UTC() }}
}

func ruleKey(source, code string) string { return source + "\x00" + codeKey(code) }

// Lookup returns the rule for source's code.
func (m *MemRules) Lookup(source, code string) (Rule, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.rules[ruleKey(source, code)]
	return r, ok
}

// Confirm records that source's code means sku; a later decision replaces
// an earlier one.
func (m *MemRules) Confirm(source, code, sku, who string) (Rule, error) {
	if err := checkRule(source, code, sku, who); err != nil {
		return Rule{}, err
	}
	r := Rule{Source: source, Code: code, SKU: sku, Who: who, At: m.now()}
	m.put(r)
	return r, nil
}

func (m *MemRules) put(r Rule) {
	m.mu.Lock()
	m.rules[ruleKey(r.Source, r.Code)] = r
	m.mu.Unlock()
}

// All returns every rule, oldest first.
func (m *MemRules) All() []Rule {
	m.mu.RLock()
	out := make([]Rule, 0, len(m.rules))
	for _, r := range m.rules {
		out = append(out, r)
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return ruleKey(out[i].Source, out[i].Code) < ruleKey(out[j].Source, out[j].Code)
	})
	return out
}

func checkRule(source, code, sku, who string) error {
	switch {
	case strings.TrimSpace(code) == "" || codeKey(code) == "":
		return errors.New("rule: empty code")
	case strings.TrimSpace(sku) == "":
		return fmt.Errorf("rule %s %q: empty sku", source, code)
	case strings.TrimSpace(who) == "":
		return fmt.Errorf("rule %s %q: who decided is required", source, code)
	}
	return nil
}

// FileRules is a MemRules that appends every decision to a JSON-lines file
// and syncs it before Confirm returns, so an acknowledged decision
// survives a crash.
type FileRules struct {
	*MemRules
	mu sync.Mutex
	f  *os.File
}

// OpenFileRules opens (or creates) a rules file and loads its decisions.
func OpenFileRules(path string) (*FileRules, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	m := NewMemRules()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r Rule
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("rules %s line %d: %w", path, line, err)
		}
		m.put(r)
	}
	if err := sc.Err(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	return &FileRules{MemRules: m, f: f}, nil
}

// Confirm appends the decision to the file, syncs it, then makes it visible.
func (fr *FileRules) Confirm(source, code, sku, who string) (Rule, error) {
	if err := checkRule(source, code, sku, who); err != nil {
		return Rule{}, err
	}
	r := Rule{Source: source, Code: code, SKU: sku, Who: who, At: fr.now()}
	b, err := json.Marshal(r)
	if err != nil {
		return Rule{}, err
	}
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if _, err := fr.f.Write(append(b, '\n')); err != nil {
		return Rule{}, fmt.Errorf("rules: %w", err)
	}
	if err := fr.f.Sync(); err != nil {
		return Rule{}, fmt.Errorf("rules: %w", err)
	}
	fr.put(r)
	return r, nil
}

// Close closes the file.
func (fr *FileRules) Close() error { return fr.f.Close() }
