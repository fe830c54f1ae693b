package mapping

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Calibration turns evidence into confidence. It counts, per evidence
// bucket (Candidate.Evidence, e.g. "fuzzy:transposition:gtin_badchk:dH"),
// how often a candidate with exactly that evidence was the right SKU on a
// labelled development set; the confidence is the posterior mean under a
// uniform prior, (correct+1)/(n+2), so a bucket seen 40 times and right
// every time earns 0.976 and a bucket seen once earns 0.67. Each prefix of
// a bucket name also has an aggregate, "prefix:*", over every bucket under
// it. Evidence seen fewer than minLeaf times in the dev set takes the
// aggregate of its nearest prefix instead, at a tenth less per level, so
// rare or unseen evidence is not applied without a human.
type Calibration struct {
	// On says what the table was measured on.
	On      string            `json:"on"`
	Buckets map[string]Bucket `json:"buckets"`
}

// Bucket is how often evidence was seen and how often it was right.
type Bucket struct {
	N       int `json:"n"`
	Correct int `json:"correct"`
}

//go:embed calibration.json
var defaultCalibration []byte

// DefaultCalibration is the table measured on testdata/mapping_dev.jsonl
// against testdata/catalog.csv (regenerate with
// `go test ./internal/mapping -run TestCalibration -update`).
func DefaultCalibration() *Calibration {
	var c Calibration
	if err := json.Unmarshal(defaultCalibration, &c); err != nil {
		return &Calibration{Buckets: map[string]Bucket{}}
	}
	return &c
}

// minLeaf is how often evidence must have been seen to be judged on its
// own rather than with its kin.
const minLeaf = 10

// Confidence of a candidate with evidence e.
func (c *Calibration) Confidence(e string) float64 {
	if b, ok := c.Buckets[e]; ok && b.N >= minLeaf {
		return b.confidence()
	}
	penalty := 0.9
	for {
		i := strings.LastIndexByte(e, ':')
		if i < 0 {
			return penalty * 0.5
		}
		e = e[:i]
		if b, ok := c.Buckets[e+":*"]; ok && b.N >= minLeaf {
			return penalty * b.confidence()
		}
		penalty *= 0.9
	}
}

func (b Bucket) confidence() float64 { return float64(b.Correct+1) / float64(b.N+2) }

// Calibrate measures a calibration table: it runs the resolver (without
// calibration) over every labelled line and counts, per evidence bucket
// and its parents, how often a candidate was the labelled SKU.
func Calibrate(r *Resolver, dev []Labelled, on string) *Calibration {
	c := &Calibration{On: on, Buckets: map[string]Bucket{}}
	for _, l := range dev {
		for _, cand := range r.candidates(l.Code, l.Description, l.Source, indexed{r}) {
			if cand.tier <= tierSourceMap || cand.tier == tierAffix {
				continue
			}
			right := cand.SKU == l.SKU
			count := func(k string) {
				b := c.Buckets[k]
				b.N++
				if right {
					b.Correct++
				}
				c.Buckets[k] = b
			}
			e := cand.Evidence
			count(e)
			for {
				i := strings.LastIndexByte(e, ':')
				if i < 0 {
					break
				}
				e = e[:i]
				count(e + ":*")
			}
		}
	}
	return c
}

// selfCalibrationSeed makes self-calibration repeatable.
const selfCalibrationSeed = 0x5eed

// CalibrateOn measures a calibration table for the resolver's own catalog:
// lines synthetic codes made from it (GenerateLabelled, 15 % of them codes
// of items not in it) with the same error kinds as the dev set.
func CalibrateOn(r *Resolver, seed uint64, lines int) *Calibration {
	set := GenerateLabelled(r.cat, seed, lines, 0.15)
	return Calibrate(r, set, fmt.Sprintf("%d synthetic codes made from the catalog itself (%d items), seed %d", len(set), r.cat.Len(), seed))
}

// MarshalIndent writes the table with sorted buckets, one per line.
func (c *Calibration) MarshalIndent() []byte {
	keys := make([]string, 0, len(c.Buckets))
	for k := range c.Buckets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	on, _ := json.Marshal(c.On)
	b.WriteString("{\n  \"on\": " + string(on) + ",\n  \"buckets\": {\n")
	for i, k := range keys {
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(c.Buckets[k])
		b.WriteString("    " + string(kb) + ": " + string(vb))
		if i < len(keys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("  }\n}\n")
	return []byte(b.String())
}
