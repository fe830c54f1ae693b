package erp

import (
	"errors"
	"fmt"
	"time"
)

// Class says what the engine should do about a failure.
type Class int

// Failure classes.
const (
	// Retry: a transient failure (5xx, timeout, reset); try again later,
	// within the destination's retry budget.
	Retry Class = iota
	// RateLimited: the ERP refused for load (429, concurrency limit); the
	// account's governor backs off and the posting is retried without
	// spending its budget.
	RateLimited
	// Permanent: the ERP will never accept this as it is (validation,
	// unknown record, bad reference); it goes to the dead-letter queue.
	Permanent
	// Misconfigured: the ERP refuses tillsync itself (credentials, account,
	// permissions, an unknown record type or URL): no document can succeed
	// until an operator fixes the configuration. The destination holds
	// everything — nothing is dead-lettered — and says why.
	Misconfigured
)

func (c Class) String() string {
	switch c {
	case Retry:
		return "retry"
	case RateLimited:
		return "rate_limited"
	case Misconfigured:
		return "misconfigured"
	}
	return "permanent"
}

// Error is a classified connector failure.
type Error struct {
	Class Class
	// RetryAfter is the server's Retry-After, when it gave one.
	RetryAfter time.Duration
	// Status is the HTTP status, when there was one.
	Status int
	// Code is the ERP's own error code, when it gave one.
	Code string
	Err  error
}

func (e *Error) Error() string {
	s := e.Class.String()
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d", e.Status)
		if e.Code != "" {
			s += " " + e.Code
		}
		s += ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Classify returns the class of err: a connector's *Error decides; any
// other error (a dropped connection, a timeout) is transient.
func Classify(err error) (Class, time.Duration) {
	var e *Error
	if errors.As(err, &e) {
		return e.Class, e.RetryAfter
	}
	return Retry, 0
}

// Retryable wraps err as a transient failure.
func Retryable(err error) error { return &Error{Class: Retry, Err: err} }

// PermanentError wraps err as a permanent failure.
func PermanentError(err error) error { return &Error{Class: Permanent, Err: err} }
