package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/store"
)

// The CLI lists, shows and acts on the exceptions of the hub named by a
// config, and its actions land in both trails.
func TestInboxCLI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "hub.db")
	cfg := filepath.Join(dir, "hub.yaml")
	yaml := "listen: \"127.0.0.1:0\"\ninsecure_plaintext: true\ndatabase: \"sqlite:" + db + "\"\n" +
		"stores:\n  - id: s1\n    zone: Europe/Berlin\n    token_sha256: \"" + strings.Repeat("ab", 32) + "\"\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	in := inbox.New(st, inbox.Options{Zones: map[string]string{"s1": "Europe/Berlin"}})
	for _, k := range []string{"a", "b"} {
		if _, _, err := in.Raise(ctx, inbox.Problem{Key: "cash/" + k, Kind: inbox.CashVariance, Severity: inbox.SeverityWarning,
			Location: "s1", Title: "till " + k + " is short", Evidence: map[string]int{"short_minor": 1240}}); err != nil {
			t.Fatal(err)
		}
	}
	_ = st.Close()

	cli := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, append([]string{"inbox", "--config", cfg}, args...), &out, &errb)
		return out.String() + errb.String(), err
	}
	out, err := cli("act", "1", "assign", "--assignee", "bob", "--note", "yours")
	if err != nil || !strings.Contains(out, "exception 1 is open, assigned to bob") {
		t.Fatalf("act assign: %v\n%s", err, out)
	}
	if out, err = cli("act", "2", "reopen"); err == nil || !strings.Contains(err.Error(), "cannot reopen an exception that is open") {
		t.Fatalf("reopen an open exception: %v\n%s", err, out)
	}
	out, err = cli("list", "--assignee", "bob")
	if err != nil || !strings.Contains(out, "till a is short") || strings.Contains(out, "till b") || !strings.Contains(out, "1 exception(s)") {
		t.Fatalf("list --assignee bob: %v\n%s", err, out)
	}
	out, err = cli("list", "--state", "open", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var page inbox.Page
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Exceptions) != 2 {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	out, err = cli("show", "1")
	if err != nil || !strings.Contains(out, "Europe/Berlin") || !strings.Contains(out, "short_minor") || !strings.Contains(out, "assign") ||
		!strings.Contains(out, "yours") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if _, err := cli("list", "--state", "closed"); err == nil || !strings.Contains(err.Error(), `state "closed" is unknown`) {
		t.Fatalf("bad state: %v", err)
	}
	if _, err := cli("show", "x"); err == nil || !strings.Contains(err.Error(), "positive integer") {
		t.Fatalf("bad id: %v", err)
	}
	st, err = store.Open(ctx, "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	audit, err := st.AuditLog(ctx, 0, "", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, a := range audit {
		acts = append(acts, a.Action+" "+a.Result)
	}
	if want := "act on inbox exception: assign allowed,act on inbox exception: reopen failed"; strings.Join(acts, ",") != want {
		t.Errorf("audit trail %q, want %q", strings.Join(acts, ","), want)
	}
}
