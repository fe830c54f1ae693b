package mapping

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Labelled is one line of an evaluation set: a code as a till sent it, and
// the SKU it really is ("" when the item is not in the catalog, which must
// never be auto-applied).
type Labelled struct {
	Code        string `json:"code"`
	Description string `json:"description,omitempty"`
	Source      string `json:"source,omitempty"`
	SKU         string `json:"sku"`
	// Error names what went wrong with the code (how the set was made);
	// the resolver never sees it, the report breaks figures down by it.
	Error string `json:"error,omitempty"`
}

// ReadLabelled reads a labelled set, one JSON object per line. Errors name
// the line.
func ReadLabelled(r io.Reader) ([]Labelled, error) {
	var out []Labelled
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l Labelled
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if l.Code == "" && l.Description == "" {
			return nil, fmt.Errorf("line %d: neither code nor description", line)
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

// LoadLabelled reads a labelled set from a file.
func LoadLabelled(path string) ([]Labelled, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	ls, err := ReadLabelled(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ls, nil
}

// Report is how a resolver did on a labelled set.
//
//   - Precision: of the auto-applied answers, the share that were right.
//   - Recall: of the resolvable lines (the SKU is in the catalog), the share
//     whose first candidate is right, applied or not.
//   - AutoShare: of the resolvable lines, the share repaired automatically
//     and rightly.
//   - InCandidates: of the resolvable lines, the share with the right SKU
//     among the candidates (what a human sees in the inbox).
type Report struct {
	Lines        int     `json:"lines"`
	Resolvable   int     `json:"resolvable"`
	Unresolvable int     `json:"unresolvable"`
	AutoApplied  int     `json:"auto_applied"`
	AutoCorrect  int     `json:"auto_correct"`
	AutoWrong    int     `json:"auto_wrong"`
	UnknownAuto  int     `json:"unknown_auto_applied"`
	Precision    float64 `json:"precision"`
	Recall       float64 `json:"recall"`
	AutoShare    float64 `json:"auto_share"`
	InCandidates float64 `json:"in_candidates"`
	Threshold    float64 `json:"threshold"`
	// ByError breaks the figures down by the kind of error in the code.
	ByError []ErrorFigures `json:"by_error"`
	// Reliability compares confidence with how often the first candidate
	// was right, by confidence band: calibrated means they agree.
	Reliability []Band `json:"reliability"`
}

// ErrorFigures are the figures for one kind of error.
type ErrorFigures struct {
	Error       string `json:"error"`
	Lines       int    `json:"lines"`
	AutoApplied int    `json:"auto_applied"`
	AutoCorrect int    `json:"auto_correct"`
	Top1Correct int    `json:"top1_correct"`
}

// Band is one confidence band of first candidates.
type Band struct {
	From           float64 `json:"from"`
	To             float64 `json:"to"`
	N              int     `json:"n"`
	MeanConfidence float64 `json:"mean_confidence"`
	Accuracy       float64 `json:"accuracy"`
}

// Evaluate runs the resolver over a labelled set.
func Evaluate(r *Resolver, set []Labelled) Report {
	rep := Report{Lines: len(set), Threshold: r.threshold}
	byErr := map[string]*ErrorFigures{}
	edges := []float64{0, 0.5, 0.8, 0.9, 0.95, 0.97, 0.99, 1.0001}
	bands := make([]Band, len(edges)-1)
	sums := make([]float64, len(bands))
	hits := make([]int, len(bands))
	inCands := 0
	for _, l := range set {
		s := r.Suggest(l.Code, l.Description, l.Source)
		f := byErr[l.Error]
		if f == nil {
			f = &ErrorFigures{Error: l.Error}
			byErr[l.Error] = f
		}
		f.Lines++
		best, ok := s.Best()
		right := ok && l.SKU != "" && best.SKU == l.SKU
		if l.SKU == "" {
			rep.Unresolvable++
		} else {
			rep.Resolvable++
			if right {
				f.Top1Correct++
			}
			for _, c := range s.Candidates {
				if c.SKU == l.SKU {
					inCands++
					break
				}
			}
		}
		if s.AutoApply {
			rep.AutoApplied++
			f.AutoApplied++
			switch {
			case right:
				rep.AutoCorrect++
				f.AutoCorrect++
			case l.SKU == "":
				rep.UnknownAuto++
				rep.AutoWrong++
			default:
				rep.AutoWrong++
			}
		}
		if ok {
			for i := range bands {
				if best.Confidence >= edges[i] && best.Confidence < edges[i+1] {
					bands[i].N++
					sums[i] += best.Confidence
					if right {
						hits[i]++
					}
				}
			}
		}
	}
	if rep.AutoApplied > 0 {
		rep.Precision = float64(rep.AutoCorrect) / float64(rep.AutoApplied)
	}
	if rep.Resolvable > 0 {
		top1 := 0
		for _, f := range byErr {
			top1 += f.Top1Correct
		}
		rep.Recall = float64(top1) / float64(rep.Resolvable)
		rep.AutoShare = float64(rep.AutoCorrect) / float64(rep.Resolvable)
		rep.InCandidates = float64(inCands) / float64(rep.Resolvable)
	}
	for _, f := range byErr {
		rep.ByError = append(rep.ByError, *f)
	}
	sort.Slice(rep.ByError, func(i, j int) bool { return rep.ByError[i].Error < rep.ByError[j].Error })
	for i := range bands {
		bands[i].From, bands[i].To = edges[i], min(edges[i+1], 1)
		if bands[i].N > 0 {
			bands[i].MeanConfidence = sums[i] / float64(bands[i].N)
			bands[i].Accuracy = float64(hits[i]) / float64(bands[i].N)
		}
	}
	rep.Reliability = bands
	return rep
}
