package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"

	_ "time/tzdata" // stores name their IANA zone; a bare container may lack the zone database

	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/edge"
	"github.com/tillsync/tillsync/internal/hub"
	"github.com/tillsync/tillsync/internal/intake"
)

func runHub(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "path of the hub's YAML config (see examples/hub.yaml)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.LoadHub(*path)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	h, err := hub.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeLogged(log, "hub database", h.Close)
	return h.Run(ctx)
}

func runEdge(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("edge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "path of the edge's YAML config (see examples/edge.yaml)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.LoadEdge(*path)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	e, err := edge.New(ctx, cfg, log, edge.Options{})
	if err != nil {
		return err
	}
	defer closeLogged(log, "edge local log", e.Close)
	return e.Run(ctx)
}

func runToken(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	tok := "tst_" + base64.RawURLEncoding.EncodeToString(b[:])
	fmt.Fprintf(stdout, "token:        %s\ntoken_sha256: %s\n\nGive the token to the store's edge (hub.token_env); put token_sha256 in the hub's stores list.\nThe hub keeps only the hash: store the token somewhere safe now.\n", tok, intake.HashToken(tok))
	return nil
}

// closeLogged runs a deferred Close and logs its failure: at shutdown there
// is nobody left to return the error to.
func closeLogged(log *slog.Logger, what string, closeFn func() error) {
	if err := closeFn(); err != nil {
		log.Error("close "+what, "err", err)
	}
}
