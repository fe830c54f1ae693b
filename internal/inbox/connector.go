package inbox

import (
	"context"
)

// ConnectorState is what a destination reports about its ERP connection:
// Blocked is why the ERP refuses tillsync itself (wrong credentials, a
// missing permission, an unknown record type), empty when it accepts
// postings.
type ConnectorState struct {
	Destination string `json:"destination"`
	Blocked     string `json:"error"`
}

// ConnectorKey is the dedup key of a destination's connector_error.
func ConnectorKey(destination string) string { return "connector_error/" + destination }

// ConnectorFeed raises a connector_error exception while a destination is
// blocked by its ERP, so a misconfiguration is never a silent stall, and
// auto-resolves it when the destination's periodic probe finds the ERP
// accepting postings again (after someone fixed the credentials).
type ConnectorFeed struct {
	Inbox *Inbox
	// States returns every ERP destination's current state.
	States func() []ConnectorState
}

// Name implements Feed.
func (f *ConnectorFeed) Name() string { return "connector_errors" }

// Sync implements Feed.
func (f *ConnectorFeed) Sync(ctx context.Context) error {
	for _, s := range f.States() {
		key := ConnectorKey(s.Destination)
		if s.Blocked == "" {
			if _, err := f.Inbox.AutoResolve(ctx, key, "the ERP accepts postings again", nil); err != nil {
				return err
			}
			continue
		}
		_, _, err := f.Inbox.Raise(ctx, Problem{
			Key: key, Kind: ConnectorError, Severity: SeverityCritical, Subject: s.Destination,
			Title:       "ERP destination " + s.Destination + " is blocked: " + oneLine(s.Blocked, 160),
			Evidence:    s,
			Observation: s.Blocked,
		})
		if err != nil {
			return err
		}
	}
	return nil
}
