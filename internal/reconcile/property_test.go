package reconcile

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// TestAnyFeedOrderMatchesEachOnce feeds the same tenders and lines in
// random order and random runs: every tender and line is matched exactly
// once, whatever the order, and nothing is left open or counted twice.
func TestAnyFeedOrderMatchesEachOnce(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7)) //nolint:gosec // G404: test data
		var ts []Tender
		var ls []Line
		for k := range 300 {
			td := tender(fmt.Sprintf("sale-%d", k), event.Amount(100+rng.IntN(5000)), fmt.Sprintf("ch_%d", k))
			td.At = day0.Add(time.Duration(rng.IntN(72)) * time.Hour)
			td.Last4, td.AuthCode = fmt.Sprintf("%04d", k), fmt.Sprintf("A%d", k)
			l := line(k+2, td.Total(), 10, td.Reference)
			l.Date = td.At.Add(time.Duration(rng.IntN(48)) * time.Hour)
			if rng.IntN(10) == 0 { // no reference: by card
				l.Refs.Payment, l.Refs.CardLastFour, l.Refs.AuthCode = "", td.Last4, td.AuthCode
			}
			ts, ls = append(ts, td), append(ls, l)
		}
		rng.Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
		rng.Shuffle(len(ls), func(i, j int) { ls[i], ls[j] = ls[j], ls[i] })
		b := setup(t)
		for len(ts)+len(ls) > 0 {
			if n := min(len(ts), rng.IntN(80)); n > 0 {
				b.e.AddTenders(append([]Tender{}, ts[:n]...)...)
				ts = ts[n:]
			}
			if n := min(len(ls), rng.IntN(80)); n > 0 {
				b.e.AddLines(append([]Line{}, ls[:n]...)...)
				ls = ls[n:]
			}
			b.run(t)
		}
		seenT, seenL := map[string]int{}, map[string]int{}
		b.e.Matches(func(m Match) bool {
			for _, td := range m.Tenders {
				seenT[td.Key()]++
			}
			for _, l := range m.Lines {
				seenL[l.Key()]++
			}
			return true
		})
		s := b.e.Summary()
		if len(seenT) != 300 || len(seenL) != 300 || s.OpenTenders != 0 || s.OpenLines != 0 || s.Matches != 300 {
			t.Fatalf("seed %d: %d tenders, %d lines matched; summary %+v", seed, len(seenT), len(seenL), s)
		}
		for k, n := range seenT {
			if n != 1 {
				t.Fatalf("seed %d: tender %s matched %d times", seed, k, n)
			}
		}
	}
}

// TestIndexesRebuiltKeepOpenItems makes the card index outgrow its open
// items so that it is rebuilt, and checks what was open still matches.
func TestIndexesRebuiltKeepOpenItems(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 6000
	var ts []Tender
	var ls, late []Line
	for k := range n {
		td := tender(fmt.Sprintf("sale-%d", k), event.Amount(100+k), "")
		td.Last4, td.AuthCode = fmt.Sprintf("%04d", k%10000), ""
		ts = append(ts, td)
		l := line(k+2, td.Total(), 0, "")
		l.Refs.CardLastFour = td.Last4
		if k%1000 == 0 {
			late = append(late, l)
			continue
		}
		ls = append(ls, l)
	}
	// An open line with a reference no tender has yet.
	early := line(n+10, 777, 0, "ch_early")
	b.e.AddTenders(ts...)
	b.e.AddLines(append(ls, early)...)
	b.run(t)
	if b.e.altIndexed >= 4096 {
		t.Fatalf("card index not rebuilt: %d entries", b.e.altIndexed)
	}
	b.e.AddLines(late...)
	b.e.AddTenders(tender("sale-early", 777, "ch_early"))
	b.run(t)
	if s := b.e.Summary(); s.OpenTenders != 0 || s.OpenLines != 0 || s.MatchedTenders != n+1 {
		t.Fatalf("after the rebuild: %+v", s)
	}
}
