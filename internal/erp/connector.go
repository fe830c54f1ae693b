package erp

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Connector posts documents to one ERP account.
type Connector interface {
	// Post creates (or, on redelivery, finds or updates) one record per
	// document, using the ERP's own batching where it has some. It returns
	// one error per document (nil for success), in order, or a non-nil
	// second result when the call as a whole failed and nothing is known
	// about any document.
	Post(ctx context.Context, docs []Document) ([]error, error)
	// MaxBatch is how many documents one Post may carry.
	MaxBatch() int
}

// Limits is what an ERP account allows, as the connector knows it.
type Limits struct {
	// Concurrency is the most requests in flight at once for the account.
	Concurrency int
	// RatePerSecond is the most requests per second (0: no rate limit).
	RatePerSecond float64
}

// LimitReader is implemented by connectors that can read their account's
// limits from the ERP (NetSuite governanceLimits).
type LimitReader interface {
	ReadLimits(ctx context.Context) (Limits, error)
}

// Checker is implemented by connectors that can verify their configuration
// against the ERP at start (credentials, record types).
type Checker interface {
	Check(ctx context.Context) error
}

// Field describes one configuration field of a connector.
type Field struct {
	Name    string
	Doc     string
	Default string
	// Secret fields are read from the environment variable named by the
	// field's value with an _env suffix, and never logged.
	Secret   bool
	Required bool
}

// Deps are what a connector is built with.
type Deps struct {
	HTTP  *http.Client
	Log   *slog.Logger
	Clock func() time.Time
}

// Spec describes a connector kind: its name, its configuration fields and
// its constructor. Specs are listed in one place (see Registry in the hub).
type Spec struct {
	Kind   string
	Doc    string
	Fields []Field
	// New builds a connector from resolved settings (secrets already read).
	New func(settings map[string]string, deps Deps) (Connector, error)
}
