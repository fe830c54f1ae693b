package redact

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

type cardValuer struct{}

func (cardValuer) LogValue() slog.Value { return slog.StringValue("valuer 4111 1111 1111 1111") }

type cardStringer struct{}

func (cardStringer) String() string { return "stringer 5555555555554444" }

type payment struct {
	Card string
	CVV  int
}

func TestLogHandler(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		var h slog.Handler = slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
		if format == "text" {
			h = slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
		}
		log := slog.New(NewLogHandler(h)).With("preset", "card 6011111111111117").WithGroup("req")
		log.Info("charge failed for 4111111111111111 cvv 123",
			"pan", "4111111111111111",
			"number", int64(4012888888881881),
			"float", 4.111111111111111e15,
			"cvv", 123,
			"card", slog.GroupValue(slog.String("cvc", "123"), slog.String("pin_block", "1234ABCD5678EF90")),
			"valuer", cardValuer{},
			"err", errors.New("gateway: card 3782 822463 10005 declined"),
			"stringer", cardStringer{},
			"struct", payment{Card: "4222222222222", CVV: 123},
			"bytes", []byte(";4111111111111111=28121010000000000000?"),
			"order_id", shopifyOrderID,
			"qty", 123,
			"sku", "TR-42",
		)
		out := buf.String()
		for _, leak := range []string{
			"4111111111111111", "4111 1111 1111 1111", "6011111111111117", "4012888888881881", "5555555555554444",
			"3782 822463 10005", "4222222222222", "1234ABCD5678EF90", "cvv 123", `"cvc":"123"`, "cvc=123",
		} {
			if strings.Contains(out, leak) {
				t.Errorf("%s: %q reached the log:\n%s", format, leak, out)
			}
		}
		for _, keep := range []string{shopifyOrderID, "TR-42", "qty", "[PAN]", "[CVV]", "[PIN]", "[TRACK]"} {
			if !strings.Contains(out, keep) {
				t.Errorf("%s: %q is missing from the log:\n%s", format, keep, out)
			}
		}
	}
}

func TestLogHandlerEnabled(t *testing.T) {
	t.Parallel()
	h := NewLogHandler(slog.NewJSONHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelError) {
		t.Error("Enabled does not follow the wrapped handler")
	}
}
