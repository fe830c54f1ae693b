package hub

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/connectors"
	"github.com/tillsync/tillsync/internal/event"
)

// account is one ERP login: its connector and the governor every
// destination through it shares.
type account struct {
	cfg  config.ERPAccount
	conn erp.Connector
	gov  *destination.Governor
}

// buildERP makes connectors, governors and destinations from config. A
// connector that cannot be built (unknown kind, missing field) stops the
// hub at start with the field named; an ERP that cannot be reached does
// not — intake must go on — and shows in the destination's status.
func (h *Hub) buildERP(dm *destination.Metrics) error {
	h.accounts = map[string]*account{}
	for i, a := range h.cfg.ERPAccounts {
		// Each account gets its own connection pool, sized to keep a
		// connection (a TLS handshake, against a real ERP) per slot.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = max(a.Concurrency, 1) * 2
		deps := erp.Deps{HTTP: &http.Client{Transport: h.trace.Transport(tr)}, Log: h.log, Clock: time.Now}
		spec, err := connectors.Lookup(a.Kind)
		if err != nil {
			return fmt.Errorf("hub config: erp_accounts[%d].kind: %w", i, err)
		}
		settings := a.Resolve()
		for _, k := range []string{"base_url", "url"} {
			if err := checkOutbound(context.Background(), fmt.Sprintf("erp_accounts[%d].settings.%s", i, k), settings[k], h.cfg.AllowPrivateDestinations); err != nil {
				return err
			}
		}
		for _, f := range spec.Fields {
			if settings[f.Name] == "" && f.Default != "" {
				settings[f.Name] = f.Default
			}
		}
		if missing := connectors.Missing(spec, settings); len(missing) > 0 {
			return fmt.Errorf("hub config: erp_accounts[%d] (%s): settings %v are required for %s (a secret given as NAME_env must name a set environment variable)",
				i, a.Name, missing, a.Kind)
		}
		conn, err := spec.New(settings, deps)
		if err != nil {
			return fmt.Errorf("hub config: erp_accounts[%d] (%s): %w", i, a.Name, err)
		}
		conc := a.Concurrency
		if conc == 0 {
			conc = 1
		}
		h.accounts[a.Name] = &account{cfg: a, conn: conn,
			gov: destination.NewGovernor(destination.GovernorConfig{Name: a.Name, Concurrency: conc, RatePerSecond: a.RatePerSecond})}
	}
	for _, d := range h.cfg.Destinations {
		acc := h.accounts[d.Account]
		cfg := destination.ERPConfig{
			Name: d.Name, Connector: acc.conn, Governor: acc.gov, Mode: destination.Mode(d.Mode),
			Interval: d.Interval, Grace: d.Grace, Timeout: d.Timeout, HoldMax: d.HoldMax,
			Retry: destination.RetryPolicy{Attempts: d.Retry.Attempts, MaxAge: d.Retry.MaxAge,
				Backoff: destination.Backoff{Min: d.Retry.BackoffMin, Max: d.Retry.BackoffMax}},
		}
		fields, err := erp.ParseFields(d.Fields)
		if err != nil {
			return fmt.Errorf("destination %s: %w", d.Name, err)
		}
		cfg.Fields = fields
		if cfg.Retry.Backoff.Max < cfg.Retry.Backoff.Min {
			cfg.Retry.Backoff.Max = cfg.Retry.Backoff.Min
		}
		if len(d.Types) > 0 {
			cfg.Types = map[event.Type]bool{}
			for _, t := range d.Types {
				cfg.Types[event.Type(t)] = true
			}
		}
		if len(d.Locations) > 0 {
			cfg.Locations = map[string]bool{}
			for _, l := range d.Locations {
				cfg.Locations[l] = true
			}
		}
		h.erps = append(h.erps, destination.NewERPDestination(cfg, h.store, h.notify, dm, h.log))
	}
	return nil
}

// startERP checks each account in the background (limits, credentials)
// and sets new destinations that start at the end of the log.
func (h *Hub) startERP(ctx context.Context) error {
	for _, d := range h.cfg.Destinations {
		if d.Start != "end" {
			continue
		}
		has, err := h.store.HasCursor(ctx, d.Name)
		if err != nil {
			return err
		}
		if !has {
			head, err := h.store.Head(ctx)
			if err != nil {
				return err
			}
			if err := h.store.SetCursor(ctx, d.Name, head); err != nil {
				return err
			}
			h.log.Info("new destination starts at the end of the log; feed history with `tillsync replay --from 0`", "destination", d.Name, "cursor", head)
		}
	}
	for _, a := range h.accounts {
		go h.checkAccount(ctx, a)
	}
	return nil
}

func (h *Hub) checkAccount(ctx context.Context, a *account) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if lr, ok := a.conn.(erp.LimitReader); ok && a.cfg.ReadLimits {
		lim, err := lr.ReadLimits(ctx)
		switch {
		case err != nil:
			h.log.Warn("could not read the ERP's limits; using the configured concurrency", "account", a.cfg.Name, "err", err)
		case lim.Concurrency > 0:
			n := lim.Concurrency
			if a.cfg.Concurrency > 0 {
				n = min(n, a.cfg.Concurrency)
			}
			a.gov.SetCeiling(n)
			h.log.Info("ERP concurrency limit read", "account", a.cfg.Name, "erp_limit", lim.Concurrency, "using", n)
		}
	}
	if c, ok := a.conn.(erp.Checker); ok {
		if err := c.Check(ctx); err != nil {
			h.log.Error("ERP account check failed: postings will be held or retried until it is fixed", "account", a.cfg.Name, "kind", a.cfg.Kind, "err", err)
			for i, d := range h.cfg.Destinations {
				if d.Account == a.cfg.Name {
					h.erps[i].NoteCheck(err)
				}
			}
			return
		}
		h.log.Info("ERP account reachable and credentials accepted", "account", a.cfg.Name, "kind", a.cfg.Kind)
	}
}
