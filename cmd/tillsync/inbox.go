package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/store"
)

const inboxUsage = `usage:
  tillsync inbox --config hub.yaml list [--state open|acknowledged|resolved|auto_resolved|active] [--kind K]
                 [--severity S] [--store ID] [--assignee NAME] [--limit N] [--after ID] [--json]
  tillsync inbox --config hub.yaml show ID [--json]
  tillsync inbox --config hub.yaml act ID ACTION [--note TEXT] [--assignee NAME] [--suggestion SID]
ACTION is acknowledge, resolve, assign, reopen, comment, or one the exception offers (replay, …).`

// runInbox: tillsync inbox --config hub.yaml list|show|act …
func runInbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, inboxUsage) }
	path := fs.String("config", "", "the hub's YAML config")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, inboxUsage)
		return exitCode(2)
	}
	sub, rest := fs.Arg(0), fs.Args()[1:]
	sf := flag.NewFlagSet("inbox "+sub, flag.ContinueOnError)
	sf.SetOutput(stderr)
	sf.Usage = func() { fmt.Fprintln(stderr, inboxUsage) }
	sf.StringVar(path, "config", *path, "the hub's YAML config")
	asJSON := sf.Bool("json", false, "JSON output")
	var f inbox.Filter
	var a inbox.Action
	var limit int
	var after int64
	switch sub {
	case "list":
		sf.StringVar(&f.State, "state", "", "open, acknowledged, resolved, auto_resolved, or active (open and acknowledged); empty for all")
		sf.StringVar(&f.Kind, "kind", "", "only this kind (dead_letter, oversell, …)")
		sf.StringVar(&f.Severity, "severity", "", "only this severity (info, warning, error, critical)")
		sf.StringVar(&f.Location, "store", "", "only this store")
		sf.StringVar(&f.Assignee, "assignee", "", "only exceptions assigned to this person")
		sf.IntVar(&limit, "limit", inbox.DefaultLimit, "page size (at most 1000)")
		sf.Int64Var(&after, "after", 0, "the last ID of the previous page")
	case "show":
	case "act":
		sf.StringVar(&a.Note, "note", "", "a note for the trail")
		sf.StringVar(&a.Assignee, "assignee", "", "who the exception goes to (assign)")
		sf.StringVar(&a.Suggestion, "suggestion", "", "the suggestion acted upon")
	default:
		return fmt.Errorf("inbox: unknown subcommand %q\n%s", sub, inboxUsage)
	}
	pos, err := parseInterleaved(sf, rest)
	if err != nil {
		return err
	}
	want := map[string]int{"list": 0, "show": 1, "act": 2}[sub]
	if len(pos) != want {
		return fmt.Errorf("inbox %s: want %d argument(s), got %d (%s)\n%s", sub, want, len(pos), strings.Join(pos, " "), inboxUsage)
	}
	var id int64
	if want > 0 {
		if id, err = strconv.ParseInt(pos[0], 10, 64); err != nil || id <= 0 {
			return fmt.Errorf("inbox %s: exception ID must be a positive integer, not %q", sub, pos[0])
		}
	}
	cfg, st, err := openHubStore(ctx, *path)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	zones := cfg.Zones()
	in := inbox.Standard(st, inbox.Options{Zones: zones})
	switch sub {
	case "list":
		f.Limit, f.After = limit, after
		page, err := in.List(ctx, f)
		if err != nil {
			return err
		}
		return printInboxList(stdout, page, *asJSON)
	case "show":
		x, err := in.Get(ctx, id)
		if err != nil {
			return err
		}
		return printException(stdout, x, *asJSON)
	}
	a.Name, a.Actor = pos[1], cliActor()
	x, err := in.Act(ctx, id, a)
	result := "allowed"
	if err != nil {
		result = "failed"
	}
	auditInbox(ctx, st, a.Name, id, result)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exception %d is %s", x.ID, x.State)
	if x.Assignee != "" {
		fmt.Fprintf(stdout, ", assigned to %s", x.Assignee)
	}
	fmt.Fprintln(stdout)
	return nil
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments, and returns the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func cliActor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

func printInboxList(w io.Writer, p inbox.Page, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSEVERITY\tKIND\tSTORE\tASSIGNEE\tSEEN\tLAST SEEN (UTC)\tTITLE")
	for _, x := range p.Exceptions {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", x.ID, x.State, x.Severity, x.Kind, dash(x.Location), dash(x.Assignee),
			x.Occurrences, x.LastSeen.Format(time.DateTime), oneLine(x.Title, 90))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d exception(s)", len(p.Exceptions))
	if p.NextAfter != 0 {
		fmt.Fprintf(w, "; more with --after %d", p.NextAfter)
	}
	fmt.Fprintln(w)
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// storeTime shows a UTC time with the store's local time alongside.
func storeTime(t time.Time, zone string) string {
	s := t.UTC().Format(time.RFC3339)
	if loc, err := time.LoadLocation(zone); err == nil && zone != "" {
		s += " (" + t.In(loc).Format("2006-01-02 15:04:05") + " " + zone + ")"
	}
	return s
}

func printException(w io.Writer, x inbox.Exception, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(x)
	}
	fmt.Fprintf(w, "exception %d  %s  %s  %s\n", x.ID, x.Kind, x.Severity, x.State)
	fmt.Fprintf(w, "  %s\n", x.Title)
	fmt.Fprintf(w, "  key:         %s\n", x.Key)
	if x.Location != "" {
		fmt.Fprintf(w, "  store:       %s\n", x.Location)
	}
	if x.Subject != "" {
		fmt.Fprintf(w, "  subject:     %s\n", x.Subject)
	}
	fmt.Fprintf(w, "  assignee:    %s\n", dash(x.Assignee))
	fmt.Fprintf(w, "  seen:        %d time(s), first %s, last %s\n", x.Occurrences, storeTime(x.FirstSeen, x.Zone), storeTime(x.LastSeen, x.Zone))
	if x.ResolvedAt != nil {
		fmt.Fprintf(w, "  resolved:    %s\n", storeTime(*x.ResolvedAt, x.Zone))
	}
	fmt.Fprintf(w, "  actions:     %s\n", strings.Join(x.Actions, ", "))
	var ev any
	if err := json.Unmarshal(x.Evidence, &ev); err == nil {
		b, _ := json.MarshalIndent(ev, "  ", "  ")
		fmt.Fprintf(w, "  evidence:\n  %s\n", b)
	}
	if len(x.Suggestions) > 0 {
		fmt.Fprintln(w, "  suggestions:")
		for _, s := range x.Suggestions {
			act := ""
			if s.Action != "" {
				act = fmt.Sprintf("  [act %d %s --suggestion %s]", x.ID, s.Action, s.ID)
			}
			fmt.Fprintf(w, "    %s. %s (confidence %.0f%%)%s\n", s.ID, s.Label, s.Confidence*100, act)
		}
	}
	fmt.Fprintln(w, "  trail:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range x.Trail {
		move := string(e.ToState)
		if e.FromState != "" && e.FromState != e.ToState {
			move = string(e.FromState) + " → " + string(e.ToState)
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", e.At.Format(time.DateTime), e.Actor, e.Action, move, oneLine(e.Note, 100))
	}
	return tw.Flush()
}

// auditInbox records a CLI action on an exception in the hub's audit
// trail, as the API does for its callers.
func auditInbox(ctx context.Context, st *store.Store, action string, id int64, result string) {
	host, _ := os.Hostname()
	if err := st.AppendAudit(context.WithoutCancel(ctx), store.AuditEntry{At: time.Now().UTC(), Actor: cliActor(), Role: "operator",
		Action: "act on inbox exception: " + action, Target: "/v1/inbox/" + strconv.FormatInt(id, 10), Remote: "local:" + host,
		Result: result}); err != nil {
		fmt.Fprintf(os.Stderr, "tillsync: WARNING: the inbox action was applied but could not be written to the audit trail: %v\n", err)
	}
}
