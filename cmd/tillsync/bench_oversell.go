package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/bench/oversell"
	"github.com/tillsync/tillsync/internal/channel/shopify/shopifybench"
)

func runBenchOversell(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench oversell", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage+"\nFlags of bench oversell:\n")
		fs.PrintDefaults()
	}
	asJSON := fs.Bool("json", false, "also print the report as one JSON object, the last line of output")
	stores := fs.Int("stores", 50, "stores selling at tills")
	skus := fs.Int("skus", 1000, "scarce SKUs in the catalogue")
	perSKU := fs.Int("stores-per-sku", 3, "stores stocking each SKU")
	units := fs.String("units", "1-5", "units of a SKU at a store when the day opens, `MIN-MAX`")
	hours := fs.Float64("hours", 10, "simulated trading hours")
	seed := fs.Uint64("seed", 0, "seed of the demand stream (the same for every strategy)")
	storeRate := fs.Float64("store-rate", 15, "till customers per store per hour at the base rate")
	onlineRate := fs.Float64("online-rate", 400, "online customers per hour at the base rate")
	peak := fs.Float64("peak", 4, "demand at the afternoon peak, as a multiple of the base rate")
	intervals := fs.String("intervals", "15m,60s", "batch sync intervals to compare, comma-separated; the slowest is the phantom baseline")
	shopDuration := fs.Duration("shopify-duration", 20*time.Second, "how long the tills sell during the Shopify backlog measurement (real time)")
	propagation := fs.String("propagation", "", "skip the Shopify measurement and land tillsync's pushes after this sale-to-Shopify latency, `P50,P95,P99,MAX` (e.g. 100ms,400ms,800ms,1.5s)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitCode(2)
	}
	bad := func(flag, format string, a ...any) error {
		fmt.Fprintf(stderr, "tillsync bench oversell: --%s: %s\n", flag, fmt.Sprintf(format, a...))
		return exitCode(2)
	}
	opt := oversell.Options{Progress: stderr, Shopify: shopifybench.Config{Duration: *shopDuration},
		Day: oversell.Config{Stores: *stores, SKUs: *skus, StoresPerSKU: *perSKU, Hours: *hours, Seed: *seed,
			StoreRate: *storeRate, OnlineRate: *onlineRate, Peak: *peak}}
	lo, hi, ok := strings.Cut(*units, "-")
	minU, err1 := strconv.Atoi(lo)
	maxU, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || minU < 1 || maxU < minU {
		return bad("units", "%q is not MIN-MAX with 1 ≤ MIN ≤ MAX, e.g. 1-5", *units)
	}
	opt.Day.MinUnits, opt.Day.MaxUnits = minU, maxU
	for _, s := range strings.Split(*intervals, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d < time.Second {
			return bad("intervals", "%q is not a duration of at least 1s, e.g. 15m", s)
		}
		opt.Day.Intervals = append(opt.Day.Intervals, d)
	}
	if *propagation != "" {
		parts := strings.Split(*propagation, ",")
		var ds []time.Duration
		for _, p := range parts {
			d, err := time.ParseDuration(strings.TrimSpace(p))
			if err != nil || d <= 0 {
				return bad("propagation", "%q is not a positive duration", p)
			}
			ds = append(ds, d)
		}
		if len(ds) != 4 {
			return bad("propagation", "want four latencies P50,P95,P99,MAX, got %d", len(ds))
		}
		opt.SkipShopify = true
		opt.Day.Propagation = oversell.Propagation{P50: ds[0], P95: ds[1], P99: ds[2], Max: ds[3], Source: "given (--propagation)"}
	}
	for _, c := range []struct {
		name string
		v    float64
	}{{"stores", float64(*stores)}, {"skus", float64(*skus)}, {"stores-per-sku", float64(*perSKU)}, {"hours", *hours},
		{"store-rate", *storeRate}, {"online-rate", *onlineRate}, {"peak", *peak}} {
		if c.v <= 0 {
			return bad(c.name, "%g: want a positive number", c.v)
		}
	}
	if *peak < 1 {
		return bad("peak", "%g: want at least 1 (the base rate)", *peak)
	}
	rep, err := oversell.Run(ctx, opt)
	if rep == nil {
		return err
	}
	if werr := oversell.WriteTable(stdout, rep); werr != nil && err == nil {
		err = werr
	}
	if *asJSON {
		if jerr := jsonLine(stdout, rep); jerr != nil && err == nil {
			err = jerr
		}
	}
	return err
}
