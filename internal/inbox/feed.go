package inbox

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/store"
)

// Feed brings one source of problems into the inbox: each Sync raises
// what is new and auto-resolves what later data settled. Sync must be
// safe to repeat.
type Feed interface {
	Name() string
	Sync(ctx context.Context) error
}

// Feeds returns the feeds the hub runs: dead letters and oversells.
func Feeds(in *Inbox) []Feed {
	return []Feed{&DeadLetterFeed{Inbox: in}, &OversellFeed{Inbox: in}}
}

// Run syncs the feeds every interval until ctx ends. A feed that fails
// is logged and tried again next time: the inbox lags, nothing is lost,
// since every feed reads what is already committed.
func Run(ctx context.Context, log *slog.Logger, interval time.Duration, feeds ...Feed) error {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, f := range feeds {
			if err := f.Sync(ctx); err != nil && ctx.Err() == nil {
				log.Warn("inbox feed failed; will retry", "feed", f.Name(), "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// settled is an exception a feed found settled by later data.
type settled struct {
	key, note string
	detail    any
}

// resolveSettled pages through the active exceptions of kind, asks check
// which of each page later data settled, and auto-resolves those in one
// transaction per page.
func (in *Inbox) resolveSettled(ctx context.Context, kind Kind, check func(ctx context.Context, page []Exception) ([]settled, error)) error {
	after := int64(0)
	for {
		page, err := in.List(ctx, Filter{State: StateActive, Kind: string(kind), After: after, Limit: MaxLimit})
		if err != nil {
			return err
		}
		done, err := check(ctx, page.Exceptions)
		if err != nil {
			return err
		}
		if len(done) > 0 {
			err := in.store.Inbox(ctx, func(tx *store.InboxTx) error {
				for _, d := range done {
					if _, err := in.AutoResolveTx(ctx, tx, d.key, d.note, d.detail); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if page.NextAfter == 0 {
			return nil
		}
		after = page.NextAfter
	}
}
