package config

import (
	"fmt"
	"os"

	"github.com/tillsync/tillsync/internal/redact"
)

// Redact configures the first-hop redaction of card and personal data.
// Card numbers and sensitive authentication data are always removed; these
// settings choose the display form and the personal-data tokens.
type Redact struct {
	// Mask keeps a PAN's display form (BIN and last four) instead of
	// removing it (PCI DSS Req. 3.4.1).
	Mask bool `yaml:"mask"`
	// PIIKeys are the keys that tokenize personal data (keyed
	// HMAC-SHA256, Req. 3.5.1.1); PIICurrent names the one new tokens use.
	// Keep retired keys listed so their tokens still verify. Without keys,
	// personal data is left as it is.
	PIIKeys    []PIIKey `yaml:"pii_keys"`
	PIICurrent string   `yaml:"pii_current"`
}

// PIIKey is one tokenization key, read from an environment variable.
type PIIKey struct {
	ID        string `yaml:"id"`
	SecretEnv string `yaml:"secret_env"`
}

// Redactor builds the redactor the config describes.
func (r Redact) Redactor() (*redact.Redactor, error) {
	cfg := redact.Config{Mask: r.Mask}
	if len(r.PIIKeys) > 0 {
		keys := map[string][]byte{}
		for i, k := range r.PIIKeys {
			v := os.Getenv(k.SecretEnv)
			if k.ID == "" || v == "" {
				return nil, fmt.Errorf("redact.pii_keys[%d]: needs an id and secret_env naming a set environment variable", i)
			}
			keys[k.ID] = []byte(v)
		}
		cur := r.PIICurrent
		if cur == "" {
			cur = r.PIIKeys[len(r.PIIKeys)-1].ID
		}
		tok, err := redact.NewTokenizer(cur, keys)
		if err != nil {
			return nil, fmt.Errorf("redact: %w", err)
		}
		cfg.Tokenizer = tok
	}
	red, err := redact.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("redact: %w", err)
	}
	return red, nil
}
