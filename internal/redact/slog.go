package redact

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
)

// NewLogHandler wraps a slog.Handler so that card data cannot reach a log
// even by mistake (PCI DSS Req. 3.5.1 counts audit and troubleshooting logs
// as storage): PANs, track data, CVVs and PINs are removed from the message
// and from every attribute, including attributes in groups, attributes
// given to WithAttrs, values that resolve through slog.LogValuer, errors and
// fmt.Stringers, and numbers that are PANs. An attribute's key names its
// field, as in JSON: {"cvv": "123"} is removed, {"order_id": …} keeps its
// ID. Personal data is left to the intake's redactor. Values without card
// data are passed on unchanged.
func NewLogHandler(next slog.Handler) slog.Handler {
	return &logHandler{next: next, r: backstop}
}

type logHandler struct {
	next slog.Handler
	r    *Redactor
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *logHandler) Handle(ctx context.Context, rec slog.Record) error {
	msg, _ := h.r.Text(rec.Message)
	out := slog.NewRecord(rec.Time, rec.Level, msg, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a, ""))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a, "")
	}
	return &logHandler{next: h.next.WithAttrs(red), r: h.r}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name), r: h.r}
}

// attr redacts one attribute, the member of a group called parent.
func (h *logHandler) attr(a slog.Attr, parent string) slog.Attr {
	v := a.Value.Resolve()
	key, _ := h.r.Text(a.Key)
	var kb, pb [maxFieldName]byte
	cls := h.r.fields.classify(snake(kb[:0], []byte(a.Key)), snake(pb[:0], []byte(parent)))
	switch v.Kind() {
	case slog.KindGroup:
		g := v.Group()
		red := make([]slog.Attr, len(g))
		for i, m := range g {
			red[i] = h.attr(m, a.Key)
		}
		return slog.Attr{Key: key, Value: slog.GroupValue(red...)}
	case slog.KindString:
		if s, f := h.r.field(v.String(), cls, false); f.Total() > 0 {
			return slog.String(key, s)
		}
	case slog.KindInt64:
		return h.number(key, strconv.FormatInt(v.Int64(), 10), cls, v)
	case slog.KindUint64:
		return h.number(key, strconv.FormatUint(v.Uint64(), 10), cls, v)
	case slog.KindFloat64:
		return h.number(key, strconv.FormatFloat(v.Float64(), 'f', -1, 64), cls, v)
	case slog.KindAny:
		var s string
		switch x := v.Any().(type) {
		case error:
			s = x.Error()
		case fmt.Stringer:
			s = x.String()
		case []byte:
			s = string(x)
		default:
			s = fmt.Sprintf("%+v", x)
		}
		if rs, f := h.r.field(s, cls, false); f.Total() > 0 {
			return slog.String(key, rs)
		}
	}
	return slog.Attr{Key: key, Value: v}
}

// number redacts a numeric attribute: a PAN logged as a number, or a CVV
// or PIN under a key that names one.
func (h *logHandler) number(key, digits string, cls fieldClass, v slog.Value) slog.Attr {
	if cls&fieldSAD != 0 {
		if k, ok := sadValue(digits, cls); ok {
			return slog.String(key, marker(k))
		}
	}
	if len(digits) >= 12 {
		if s, f := h.r.field(digits, cls&^(fieldSAD|fieldPII), false); f.Total() > 0 {
			return slog.String(key, s)
		}
	}
	return slog.Attr{Key: key, Value: v}
}
