package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// series is one line of a chart.
type series struct {
	Name   string
	Points []float64 // -1: no value at that sample
}

var palette = []string{"#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"}

// chart draws series as an inline SVG line chart, newest sample on the
// right, scaled to the largest value. It is computed on the server; the
// live stream replaces it whole.
func chart(title, unit string, ss []series) template.HTML {
	n := History
	const w, h, top, bottom, left = 480.0, 150.0, 22.0, 18.0, 4.0
	maxV := 0.0
	last := make([]float64, len(ss))
	for i, s := range ss {
		last[i] = -1
		for _, v := range s.Points {
			if v > maxV {
				maxV = v
			}
		}
		for j := len(s.Points) - 1; j >= 0; j-- {
			if s.Points[j] >= 0 {
				last[i] = s.Points[j]
				break
			}
		}
	}
	scale := niceCeil(maxV)
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart"><svg viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="14" class="title">%s</text>`, left, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="14" class="scale" text-anchor="end">max %s %s</text>`, w-4, num(scale), html.EscapeString(unit))
	for _, y := range []float64{top, top + (h-top-bottom)/2, h - bottom} {
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" class="grid"/>`, left, w-4, y, y)
	}
	step := (w - 4 - left) / float64(n-1)
	for i, s := range ss {
		var pts []string
		off := n - len(s.Points)
		for j, v := range s.Points {
			if v < 0 {
				continue
			}
			x := left + float64(off+j)*step
			y := h - bottom - (v/scale)*(h-top-bottom)
			pts = append(pts, strconv.FormatFloat(x, 'f', 1, 64)+","+strconv.FormatFloat(y, 'f', 1, 64))
		}
		if len(pts) == 1 {
			pts = append(pts, pts[0])
		}
		if len(pts) > 0 {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, palette[i%len(palette)], strings.Join(pts, " "))
		}
	}
	b.WriteString(`</svg><figcaption>`)
	for i, s := range ss {
		v := "–"
		if last[i] >= 0 {
			v = num(last[i]) + " " + unit
		}
		// An SVG swatch: the page's CSP allows no inline style attributes.
		fmt.Fprintf(&b, `<span class="key"><svg class="swatch" width="12" height="4" aria-hidden="true"><rect width="12" height="4" fill="%s"/></svg>%s <b>%s</b></span> `, palette[i%len(palette)],
			html.EscapeString(s.Name), html.EscapeString(v))
	}
	if len(ss) == 0 {
		b.WriteString(`<span class="muted">nothing to show</span>`)
	}
	b.WriteString(`</figcaption></figure>`)
	return template.HTML(b.String()) //nolint:gosec // G203: built here from numbers and escaped names only
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten (1 at least).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func num(v float64) string {
	switch {
	case v >= 100 || v == math.Trunc(v):
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// overviewCharts draws the overview's charts from the samples.
func overviewCharts(samples []sample) []template.HTML {
	pick := func(f func(s sample) float64) []float64 {
		out := make([]float64, len(samples))
		for i, s := range samples {
			out[i] = f(s)
		}
		return out
	}
	names := map[string]bool{}
	for _, s := range samples {
		for n := range s.Lag {
			names[n] = true
		}
	}
	dests := make([]string, 0, len(names))
	for n := range names {
		dests = append(dests, n)
	}
	sort.Strings(dests)
	per := func(f func(s sample) map[string]float64) []series {
		out := make([]series, 0, len(dests))
		for _, d := range dests {
			out = append(out, series{Name: d, Points: pick(func(s sample) float64 {
				if v, ok := f(s)[d]; ok {
					return v
				}
				return -1
			})})
		}
		return out
	}
	return []template.HTML{
		chart("Events per second", "ev/s", []series{{Name: "intake", Points: pick(func(s sample) float64 { return s.EventsPerSecond })}}),
		chart("Sale-to-availability latency", "ms", []series{
			{Name: "median", Points: pick(func(s sample) float64 { return s.LatencyP50 })},
			{Name: "max", Points: pick(func(s sample) float64 { return s.LatencyMax })}}),
		chart("Destination lag", "events", per(func(s sample) map[string]float64 { return s.Lag })),
		chart("Governor utilisation", "%", per(func(s sample) map[string]float64 { return s.Utilisation })),
		chart("ERP 429s", "per sample", []series{{Name: "throttled", Points: pick(func(s sample) float64 { return s.Throttles })}}),
		chart("Dead letters", "parked", []series{{Name: "parked", Points: pick(func(s sample) float64 { return s.DeadLetters })}}),
	}
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"qty":   func(q event.Qty) string { return q.String() },
	"money": func(a event.Amount, cur string) string { return event.Money{Amount: a, Currency: cur}.String() },
	"utc": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"local": func(t time.Time, zone string) string {
		if t.IsZero() || zone == "" {
			return ""
		}
		loc, err := event.LoadZone(zone)
		if err != nil {
			return ""
		}
		return t.In(loc).Format("15:04:05 MST")
	},
	"age": func(d time.Duration) string {
		if d <= 0 {
			return "–"
		}
		return d.Round(time.Second).String()
	},
	"pct":  func(f float64) string { return strconv.FormatFloat(f*100, 'f', 0, 64) + "%" },
	"conf": func(f float64) string { return strconv.FormatFloat(f*100, 'f', 0, 64) + "%" },
	"has": func(xs []string, x string) bool {
		for _, v := range xs {
			if v == x {
				return true
			}
		}
		return false
	},
}
