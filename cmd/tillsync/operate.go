package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/erp/connectors"
	"github.com/tillsync/tillsync/internal/store"
)

// openHubStore opens the database named by a hub config, for the
// operator commands: they write requests the running hub picks up within
// a second.
func openHubStore(ctx context.Context, path string) (*config.Hub, *store.Store, error) {
	if path == "" {
		return nil, nil, errors.New("--config is required: the hub's YAML config (its database is where requests go)")
	}
	cfg, err := config.LoadHub(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, nil, err
	}
	return &cfg, st, nil
}

func knownDestination(cfg *config.Hub, name string) error {
	var names []string
	for _, d := range cfg.Destinations {
		if d.Name == name {
			return nil
		}
		names = append(names, d.Name)
	}
	return fmt.Errorf("no destination %q in the config (have: %s)", name, strings.Join(names, ", "))
}

// runReplay: tillsync replay --config hub.yaml --destination NAME (--dead-letters [--id ID]... | --from SEQ)
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the hub's YAML config")
	dest := fs.String("destination", "", "the destination to replay into")
	dead := fs.Bool("dead-letters", false, "re-deliver the destination's parked dead letters")
	from := fs.Int64("from", -1, "re-deliver every event after this log position (0: the whole log, e.g. into a new ERP)")
	var ids multiFlag
	fs.Var(&ids, "id", "re-deliver only this dead letter (external ID); repeatable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dest == "" {
		return errors.New("replay: --destination is required")
	}
	if (*from >= 0) == (*dead || len(ids) > 0) {
		return errors.New("replay: give either --dead-letters (optionally with --id) or --from SEQ")
	}
	cfg, st, err := openHubStore(ctx, *path)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	if err := knownDestination(cfg, *dest); err != nil {
		return err
	}
	if *from >= 0 {
		if err := st.RequestRewind(ctx, *dest, *from); err != nil {
			return err
		}
		auditCLI(ctx, st, "replay destination from "+strconv.FormatInt(*from, 10), *dest)
		fmt.Fprintf(stdout, "destination %s will re-deliver every event after log position %d (the ERP's external IDs make repeats harmless)\n", *dest, *from)
		return nil
	}
	n, err := st.RequestReplay(ctx, *dest, ids)
	if err != nil {
		return err
	}
	auditCLI(ctx, st, "replay dead letters", *dest)
	fmt.Fprintf(stdout, "%d dead letter(s) of %s queued for re-delivery\n", n, *dest)
	return nil
}

// runDeadLetters: tillsync deadletters --config hub.yaml [--destination NAME] [--state parked] [--json]
func runDeadLetters(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("deadletters", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the hub's YAML config")
	dest := fs.String("destination", "", "only this destination")
	state := fs.String("state", store.DeadParked, "parked, replay, resolved, or empty for all")
	asJSON := fs.Bool("json", false, "one JSON object per dead letter")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, st, err := openHubStore(ctx, *path)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	rows, err := st.DeadLetters(ctx, *dest, *state, 100000)
	if err != nil {
		return err
	}
	auditCLI(ctx, st, "read dead letters", *dest)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DESTINATION\tEXTERNAL ID\tKIND\tSEQ\tATTEMPTS\tCLASS\tSTATE\tERROR")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.Destination, r.ExternalID, r.Kind, r.Seq, r.Attempts, r.Class, r.State, oneLine(r.Error, 100))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d dead letter(s)\n", len(rows))
	return nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

// runDestination: tillsync destination --config hub.yaml pause|resume NAME
func runDestination(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("destination", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the hub's YAML config")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 || (fs.Arg(0) != "pause" && fs.Arg(0) != "resume") {
		return errors.New("usage: tillsync destination --config hub.yaml pause|resume NAME")
	}
	cfg, st, err := openHubStore(ctx, *path)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	name := fs.Arg(1)
	if err := knownDestination(cfg, name); err != nil {
		return err
	}
	paused := fs.Arg(0) == "pause"
	if err := st.SetPaused(ctx, name, paused); err != nil {
		return err
	}
	auditCLI(ctx, st, fs.Arg(0)+" destination", name)
	fmt.Fprintf(stdout, "destination %s %sd (the running hub applies it within a second)\n", name, fs.Arg(0))
	return nil
}

// runERPKinds: tillsync erp kinds — the connectors and their fields,
// generated from their specs so the docs cannot drift.
func runERPKinds(stdout io.Writer) error {
	for _, s := range connectors.All() {
		fmt.Fprintf(stdout, "%s — %s\n", s.Kind, s.Doc)
		for _, f := range s.Fields {
			name := f.Name
			if f.Secret {
				name += "_env"
			}
			var notes []string
			if f.Required {
				notes = append(notes, "required")
			}
			if f.Secret {
				notes = append(notes, "secret: names an environment variable")
			}
			if f.Default != "" {
				notes = append(notes, "default "+f.Default)
			}
			fmt.Fprintf(stdout, "    %-22s %s", name, f.Doc)
			if len(notes) > 0 {
				fmt.Fprintf(stdout, " (%s)", strings.Join(notes, "; "))
			}
			fmt.Fprintln(stdout)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// auditCLI records an operator's command in the audit trail: the CLI runs
// on the hub's machine, as an operating-system user.
func auditCLI(ctx context.Context, st *store.Store, action, target string) {
	who := "cli"
	if u, err := user.Current(); err == nil {
		who = "cli:" + u.Username
	}
	host, _ := os.Hostname()
	if err := st.AppendAudit(ctx, store.AuditEntry{At: time.Now().UTC(), Actor: who, Role: "operator", Action: action,
		Target: target, Remote: "local:" + host, Result: "allowed"}); err != nil {
		fmt.Fprintf(os.Stderr, "tillsync: WARNING: the action was applied but could not be written to the audit trail: %v\n", err)
	}
}
