package notes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// ReadLabels reads a labelled set: one JSON object per line in the form
// `tillsync notes parse` writes, with the right answer. Blank lines are
// skipped; a bad line is an error naming its number.
func ReadLabels(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var l Result
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if l.Kind != "" && !l.Kind.Valid() {
			return nil, fmt.Errorf("line %d: kind %q: want percent, amount or fixed_price", line, l.Kind)
		}
		if l.ReasonCode == "" && (l.Kind != "" || l.Value != "") {
			return nil, fmt.Errorf("line %d: kind or value without a reason_code", line)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Exact reports whether got agrees with want on reason_code, kind and
// value (values compared as numbers: "5" is "5.00").
func Exact(got, want Result) bool {
	return got.ReasonCode == want.ReasonCode && got.Kind == want.Kind && SameValue(got.Value, want.Value)
}

// Report is what an evaluation over a labelled set found.
type Report struct {
	Notes      int     `json:"notes"`
	Discounts  int     `json:"discounts"`   // notes labelled with a discount
	NoDiscount int     `json:"no_discount"` // notes labelled without one
	Threshold  float64 `json:"threshold"`
	Exact      int     `json:"exact"`    // reason_code+kind+value right
	Accuracy   float64 `json:"accuracy"` // Exact / Notes
	Reason     float64 `json:"reason_accuracy"`
	Auto       int     `json:"auto_applied"` // confidence at or above the threshold
	AutoRight  int     `json:"auto_applied_right"`
	Precision  float64 `json:"precision"` // of the auto-applied answers
	Recall     float64 `json:"recall"`    // discounts auto-applied right / labelled discounts
	Resolved   float64 `json:"resolved"`  // share of notes resolved automatically
	Invented   int     `json:"invented_discounts"`
	Missed     int     `json:"missed_discounts"`
	// Field agreement on the notes that name them.
	CouponCodes Agreement `json:"coupon_codes"`
	Competitors Agreement `json:"competitors"`
	Approvers   Agreement `json:"approvers"`
	Currencies  Agreement `json:"currencies"`
	Calibration []Band    `json:"calibration"`
	Misses      []Miss    `json:"misses,omitempty"`
}

// Agreement counts a field's labels and how many were read right.
type Agreement struct {
	Labelled int `json:"labelled"`
	Right    int `json:"right"`
}

// Band is one confidence band of the calibration table.
type Band struct {
	From, To   float64 `json:"-"`
	Label      string  `json:"band"`
	Count      int     `json:"count"`
	Right      int     `json:"right"`
	MeanConf   float64 `json:"mean_confidence"`
	ShareRight float64 `json:"share_right"`
}

// Miss is a note read wrong.
type Miss struct {
	Want Result `json:"want"`
	Got  Result `json:"got"`
}

// Evaluate parses every labelled note and compares.
func Evaluate(p *Parser, labels []Result) Report {
	rep := Report{Notes: len(labels), Threshold: p.Threshold()}
	bands := []Band{{From: 0, To: 0.5}, {From: 0.5, To: 0.7}, {From: 0.7, To: 0.8}, {From: 0.8, To: 0.9}, {From: 0.9, To: 1.01}}
	reasonRight, autoRightDiscounts := 0, 0
	for _, want := range labels {
		got := p.Parse(want.Note)
		right := Exact(got, want)
		auto := got.Confidence >= p.Threshold()
		if want.Discount() {
			rep.Discounts++
			if !got.Discount() {
				rep.Missed++
			}
		} else {
			rep.NoDiscount++
			if got.Discount() {
				rep.Invented++
			}
		}
		if got.ReasonCode == want.ReasonCode {
			reasonRight++
		}
		if right {
			rep.Exact++
		} else {
			rep.Misses = append(rep.Misses, Miss{Want: want, Got: got})
		}
		if auto {
			rep.Auto++
			if right {
				rep.AutoRight++
			}
		}
		if auto && right && want.Discount() {
			autoRightDiscounts++
		}
		agree(&rep.CouponCodes, want.CouponCode, got.CouponCode)
		agree(&rep.Competitors, want.Competitor, got.Competitor)
		agree(&rep.Approvers, want.ApprovedBy, got.ApprovedBy)
		agree(&rep.Currencies, want.Currency, got.Currency)
		for i := range bands {
			b := &bands[i]
			if got.Confidence >= b.From && got.Confidence < b.To {
				b.Count++
				b.MeanConf += got.Confidence
				if right {
					b.Right++
				}
			}
		}
	}
	rep.Accuracy = ratio(rep.Exact, rep.Notes)
	rep.Reason = ratio(reasonRight, rep.Notes)
	rep.Precision = ratio(rep.AutoRight, rep.Auto)
	rep.Recall = ratio(autoRightDiscounts, rep.Discounts)
	rep.Resolved = ratio(rep.Auto, rep.Notes)
	for _, b := range bands {
		b.Label = fmt.Sprintf("%.1f-%.1f", b.From, math.Min(b.To, 1))
		if b.Count > 0 {
			b.MeanConf = round3(b.MeanConf / float64(b.Count))
			b.ShareRight = ratio(b.Right, b.Count)
		}
		rep.Calibration = append(rep.Calibration, b)
	}
	return rep
}

func agree(a *Agreement, want, got string) {
	if want == "" {
		return
	}
	a.Labelled++
	if want == got {
		a.Right++
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return round3(float64(a) / float64(b))
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
