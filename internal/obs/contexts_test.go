package obs

import (
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestContextsForgetTheOldest(t *testing.T) {
	c := newContexts(2)
	sc := func(b byte) trace.SpanContext {
		return trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{b}, SpanID: trace.SpanID{b}})
	}
	c.put("a", sc(1))
	c.put("b", sc(2))
	c.put("a", sc(3)) // an update keeps its place
	c.put("c", sc(4))
	if _, ok := c.get("a"); ok {
		t.Error("the oldest entry was kept past the bound")
	}
	for id, want := range map[string]byte{"b": 2, "c": 4} {
		if got, ok := c.get(id); !ok || got.TraceID()[0] != want {
			t.Errorf("%s: %v %v", id, got, ok)
		}
	}
	if len(c.m) != 2 {
		t.Errorf("%d entries, bound 2", len(c.m))
	}
}
