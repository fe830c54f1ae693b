package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/event"
)

// FuzzDecodeEvent feeds arbitrary bytes to the decoder. It must never panic,
// must fail only with a *DecodeError, must agree with json.Unmarshal, and an
// event that decodes and validates must survive Marshal → Unmarshal → Marshal
// byte for byte, still valid and with the same fingerprint. The seed corpus
// is in testdata/fuzz/FuzzDecodeEvent.
func FuzzDecodeEvent(f *testing.F) {
	for _, b := range fullBodies() {
		raw, err := json.Marshal(fullEvent(b))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var e event.Event
		err := e.UnmarshalJSON(in)
		if err != nil {
			var de *event.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("UnmarshalJSON error %T %v, want a *DecodeError", err, err)
			}
			return
		}
		var viaJSON event.Event
		if err := json.Unmarshal(in, &viaJSON); err != nil {
			t.Fatalf("UnmarshalJSON accepted what json.Unmarshal rejects: %v", err)
		}
		if !reflect.DeepEqual(e, viaJSON) {
			t.Fatalf("UnmarshalJSON and json.Unmarshal disagree:\n%+v\n%+v", e, viaJSON)
		}
		e.Fingerprint() // must not panic, valid or not
		e.LocalTime()
		if err := e.Validate(); err != nil {
			var ve *event.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("Validate error %T %v, want a *ValidationError with problems", err, err)
			}
			return
		}
		first, err := json.Marshal(&e)
		if err != nil {
			t.Fatalf("marshal a valid event: %v", err)
		}
		var again event.Event
		if err := json.Unmarshal(first, &again); err != nil {
			t.Fatalf("decode a marshalled valid event: %v\n%s", err, first)
		}
		if err := again.Validate(); err != nil {
			t.Fatalf("a valid event is invalid after a round trip: %v\n%s", err, first)
		}
		second, err := json.Marshal(&again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("marshal is not stable:\n%s\n%s", first, second)
		}
		if e.Fingerprint() != again.Fingerprint() {
			t.Fatalf("fingerprint changed in a round trip:\n%s", first)
		}
	})
}

// TestFuzzCorpus keeps the seed corpus honest: files named valid_* hold
// events that decode and validate, invalid_* ones events that do not.
func TestFuzzCorpus(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeEvent")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		name := ent.Name()
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		header, value, _ := strings.Cut(strings.TrimSpace(string(raw)), "\n")
		lit, ok := strings.CutPrefix(value, "[]byte(")
		lit, ok2 := strings.CutSuffix(lit, ")")
		if header != "go test fuzz v1" || !ok || !ok2 {
			t.Errorf("%s is not a one-value fuzz corpus file", name)
			continue
		}
		in, err := strconv.Unquote(lit)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var e event.Event
		err = json.Unmarshal([]byte(in), &e)
		if err == nil {
			err = e.Validate()
		}
		switch {
		case strings.HasPrefix(name, "valid_") && err != nil:
			t.Errorf("%s: %v", name, err)
		case strings.HasPrefix(name, "invalid_") && err == nil:
			t.Errorf("%s decodes and validates", name)
		}
	}
}
