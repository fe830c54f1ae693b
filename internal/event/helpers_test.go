package event_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
)

// problem is the part of an event.Problem a test asserts on.
type problem struct {
	Field, Rule string
}

func (p problem) String() string { return fmt.Sprintf("%s (%s)", p.Field, p.Rule) }

// assertProblems checks that err is a *event.ValidationError listing exactly
// want, in order; no want means err must be nil.
func assertProblems(t *testing.T, err error, want ...problem) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("Validate: %v, want no problems", err)
		}
		return
	}
	var ve *event.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate: %v, want a *ValidationError with %v", err, want)
	}
	got := make([]problem, len(ve.Problems))
	for i, p := range ve.Problems {
		got[i] = problem{p.Field, p.Rule}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("problems:\n got  %v\n want %v\n(%v)", got, want, err)
	}
}

// assertDecodeError checks that err is a *event.DecodeError for field and rule.
func assertDecodeError(t *testing.T, err error, field, rule string) {
	t.Helper()
	var de *event.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("decode: %v (%T), want a *DecodeError %s (%s)", err, err, field, rule)
	}
	if de.Field != field || de.Rule != rule {
		t.Fatalf("decode error %s (%s): %q, want %s (%s)", de.Field, de.Rule, de.Msg, field, rule)
	}
}
