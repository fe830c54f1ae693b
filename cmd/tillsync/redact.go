package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tillsync/tillsync/internal/redact"
)

// maxRedactInput bounds what `tillsync redact` reads from stdin.
const maxRedactInput = 1 << 30

// scanFoundExit is the exit status of `tillsync scan` when it finds card
// data: distinct from 1 (the scan failed) and 2 (usage), so scripts and CI
// can tell "dirty" from "broken".
const scanFoundExit = 3

// runRedact: tillsync redact [--mask [--bin8]] [--pii-key KEYID=SECRET]...
// reads JSON, JSON lines or text on stdin and writes it redacted to stdout,
// with a summary of the findings on stderr.
func runRedact(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("redact", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: tillsync redact [--mask [--bin8]] [--pii-key KEYID=SECRET]... < input > output

Removes card numbers, track data, CVVs and PINs from JSON, JSON lines or text
on stdin and writes the rest to stdout unchanged; with --pii-key, replaces
e-mail addresses, phone numbers and personal fields with keyed tokens.
A summary of what was found (counts only) goes to stderr.

`)
		fs.PrintDefaults()
	}
	mask := fs.Bool("mask", false, "keep the BIN and last four digits of card numbers (411111******1111) instead of removing them")
	bin8 := fs.Bool("bin8", false, "with --mask, keep eight BIN digits on PANs of 16 or more digits (only where your brands allow it: PCI SSC FAQ 1091)")
	var keys multiFlag
	fs.Var(&keys, "pii-key", "KEYID=SECRET: tokenize personal data with HMAC-SHA256 under this key; SECRET is hex:…, base64:… or text of at least 16 bytes; repeatable, the last one makes new tokens")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitCode(2)
	}
	if *bin8 && !*mask {
		return errors.New("redact: --bin8 needs --mask")
	}
	cfg := redact.Config{Mask: *mask, MaskBIN8: *bin8}
	if len(keys) > 0 {
		secrets := map[string][]byte{}
		current := ""
		for _, k := range keys {
			id, secret, err := redact.ParseKey(k)
			if err != nil {
				return fmt.Errorf("redact: --pii-key: %w", err)
			}
			secrets[id], current = secret, id
		}
		tok, err := redact.NewTokenizer(current, secrets)
		if err != nil {
			return fmt.Errorf("redact: --pii-key: %w", err)
		}
		cfg.Tokenizer = tok
	}
	r, err := redact.New(cfg)
	if err != nil {
		return err
	}
	in, err := io.ReadAll(io.LimitReader(stdin, maxRedactInput+1))
	if err != nil {
		return fmt.Errorf("redact: read stdin: %w", err)
	}
	if len(in) > maxRedactInput {
		return fmt.Errorf("redact: input is over %d bytes; split it", maxRedactInput)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	out, found := r.Bytes(in)
	if _, err := stdout.Write(out); err != nil {
		return fmt.Errorf("redact: write stdout: %w", err)
	}
	if found.Total() == 0 {
		fmt.Fprintln(stderr, "redact: no card or personal data found")
		return nil
	}
	fmt.Fprintf(stderr, "redact: found %s (card data %d, of it sensitive authentication data %d; personal data tokenized %d)\n",
		found, found.PCI(), found.SAD(), found.PII())
	return nil
}

// runScan: tillsync scan PATH... looks for card data in files, directories
// and SQLite databases. It prints every hit (masked) and exits with status
// 3 when anything was found.
func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: tillsync scan PATH...

Looks for card numbers, track data, CVVs and PINs in files and directories:
SQLite databases (every cell of every table, opened read-only) and text
files such as logs and exports; other binary files are skipped. Hits are
printed with their place and the masked value. Exits with status %d when
anything is found, 0 when nothing is.
`, scanFoundExit)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitCode(2)
	}
	r, err := redact.New(redact.Config{})
	if err != nil {
		return err
	}
	var hits, files, dbs, binary int
	for _, path := range fs.Args() {
		rep, err := r.ScanPath(ctx, path)
		for _, h := range rep.Hits {
			fmt.Fprintln(stdout, h)
		}
		hits += len(rep.Hits)
		files += rep.Files
		dbs += rep.Databases
		binary += len(rep.Binary)
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "scan: %d hits in %d text files and %d databases (%d binary files skipped)\n", hits, files, dbs, binary)
	if hits > 0 {
		return exitCode(scanFoundExit)
	}
	return nil
}
