package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/tillsync/tillsync/internal/sim/erpsim"
	erpnextsim "github.com/tillsync/tillsync/internal/sim/erpsim/erpnext"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
	odoosim "github.com/tillsync/tillsync/internal/sim/erpsim/odoo"
	sapsim "github.com/tillsync/tillsync/internal/sim/erpsim/sap"
	whsim "github.com/tillsync/tillsync/internal/sim/erpsim/webhook"
)

// runERPSim: tillsync erpsim --kind netsuite|sap|odoo|erpnext|webhook --listen ADDR
func runERPSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("erpsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", "netsuite", "netsuite, sap, odoo, erpnext or webhook")
	listen := fs.String("listen", "127.0.0.1:9090", "address to serve on")
	var opt erpsim.Options
	fs.DurationVar(&opt.Latency, "latency", 50*time.Millisecond, "latency added to every request")
	fs.DurationVar(&opt.Jitter, "jitter", 0, "random extra latency, up to this")
	fs.IntVar(&opt.Concurrency, "concurrency", 0, "requests served at once; beyond it the vendor's refusal (NetSuite: 429); 0 unlimited")
	fs.Float64Var(&opt.RatePerSecond, "rate", 0, "requests per second before refusing; 0 unlimited")
	fs.Float64Var(&opt.FaultRate, "faults", 0, "share of requests failing with a 5xx, a stall or a reset")
	fs.Float64Var(&opt.DropRate, "drop", 0, "share of writes committed whose answer is lost (the connection closes)")
	fs.DurationVar(&opt.Stall, "stall", 30*time.Second, "how long a stall fault holds the request")
	seed := fs.Uint64("seed", 1, "random seed for faults and jitter")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opt.Seed = *seed
	var h http.Handler
	var creds string
	switch *kind {
	case "netsuite":
		c := nssim.DefaultCredentials()
		h = nssim.New(opt, c)
		creds = fmt.Sprintf("account_id: %s\nconsumer_key: %s\nconsumer_secret: %s\ntoken_id: %s\ntoken_secret: %s\ncustomer: \"1\"\nsubsidiary: \"1\"",
			c.AccountID, c.ConsumerKey, c.ConsumerSecret, c.TokenID, c.TokenSecret)
	case "sap":
		c := sapsim.DefaultCredentials()
		h = sapsim.New(opt, c)
		creds = fmt.Sprintf("user: %s\npassword: %s", c.User, c.Password)
	case "odoo":
		c := odoosim.DefaultCredentials()
		h = odoosim.New(opt, c)
		creds = fmt.Sprintf("api_key: %s\ndatabase: %s", c.APIKey, c.Database)
	case "erpnext":
		c := erpnextsim.DefaultCredentials()
		h = erpnextsim.New(opt, c)
		creds = fmt.Sprintf("api_key: %s\napi_secret: %s", c.APIKey, c.APISecret)
	case "webhook":
		c := whsim.DefaultCredentials()
		h = whsim.New(opt, c)
		creds = fmt.Sprintf("secret: %s", c.Secret)
	default:
		return fmt.Errorf("erpsim: --kind %q: use netsuite, sap, odoo, erpnext or webhook", *kind)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("erpsim: listen on %s: %w", *listen, err)
	}
	fmt.Fprintf(stdout, "simulated %s at http://%s (stats: GET /_sim/stats)\nits credentials (put secrets in environment variables, NAME_env):\n%s\n", *kind, ln.Addr(), creds)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
