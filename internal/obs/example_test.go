package obs_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/tillsync/tillsync/internal/obs"
	"github.com/tillsync/tillsync/internal/redact"
)

// A handler's log lines carry the request's ID, and the caller gets it
// back; a card number in a log line is removed below.
func ExampleHandler() {
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	log := slog.New(obs.NewLogHandler(redact.NewLogHandler(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))))
	api := obs.Handler(nil, log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(obs.WithEventID(r.Context(), "sale-0001"), "refund refused", "note", "card 4111 1111 1111 1111")
		w.WriteHeader(http.StatusConflict)
	}))
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/v1/refunds", nil)
	req.Header.Set("X-Request-ID", "pos-7f3a")
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	fmt.Println(rec.Header().Get("X-Request-ID"))
	// Output:
	// {"level":"INFO","msg":"refund refused","note":"card [PAN]","request_id":"pos-7f3a","event_id":"sale-0001"}
	// pos-7f3a
}
