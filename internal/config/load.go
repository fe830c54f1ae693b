package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// load reads a YAML file strictly into v: unknown keys are errors, so a typo
// does not silently fall back to a default.
func load(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) { // an empty file: defaults only
			return nil
		}
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// Problems collects validation failures and reports them all at once.
type Problems []string

func (p *Problems) add(field, format string, args ...any) {
	*p = append(*p, field+": "+fmt.Sprintf(format, args...))
}

// Err returns nil when there are no problems.
func (p Problems) Err(what string) error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%s config is not valid:\n  - %s", what, strings.Join(p, "\n  - "))
}

// secret resolves a secret given inline or, preferably, by the name of an
// environment variable that holds it.
func secret(inline, env string) string {
	if env != "" {
		return os.Getenv(env)
	}
	return inline
}
