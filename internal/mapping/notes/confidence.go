package notes

// The confidence of a reading is built from the evidence behind it and
// calibrated on the development set (testdata/notes_dev.jsonl, see
// `tillsync notes eval --calibration`): within each band, the share of
// readings that are right is close to the confidence reported.

// discountConfidence rates a reading that found a discount.
func discountConfidence(chosen *hit, hits []hit, c *candidate, ambiguous bool, n *note, unexplained int) float64 {
	conf := 0.0
	switch {
	case chosen == nil: // OTHER, from a discount word or marker alone
		conf = 0.5
	case chosen.weak:
		conf = 0.45
	case chosen.fuzzy:
		conf = 0.5
	default:
		conf = 0.6
	}
	switch {
	case c == nil:
		if unexplainedNumbers(n) {
			conf += 0.1
		} else {
			conf += 0.3
		}
	case c.strength >= 3:
		conf += 0.35
	case c.strength == 2:
		conf += 0.3
	case c.strength == 1:
		conf += 0.25
	default:
		conf += 0.2
	}
	if chosen != nil {
		for _, h := range hits {
			if h.negated {
				conf -= 0.15
				continue
			}
			if h.reason != chosen.reason && !h.weak && tier(h.reason) == tier(chosen.reason) {
				conf -= 0.1 // two specific reasons: the first typed may not be the one
			}
		}
	}
	if ambiguous {
		conf -= 0.2
	}
	switch {
	case chosen == nil && unexplained > 0:
		conf -= 0.15 // words the rules do not know may be the reason ("MOD approved 10% off")
	case unexplained > 0:
		conf -= min(0.12, 0.04*float64(unexplained))
	}
	return clamp(conf)
}

// noDiscountConfidence rates a reading that found no discount.
func noDiscountConfidence(hits []hit, cs []candidate) float64 {
	conf := 0.97
	for _, h := range hits {
		if h.negated {
			conf -= 0.1
		} else {
			conf -= 0.15 // a reason word without a value: a person may know better
		}
	}
	for _, c := range cs {
		if c.strength >= 1 {
			conf -= 0.2 // money no rule explains: "had it 19.99" may be a price match
		} else {
			conf -= 0.05
		}
	}
	return clamp(conf)
}

// unexplainedNumbers reports whether a note has numbers that could be money
// but did not become the value.
func unexplainedNumbers(n *note) bool {
	for i, t := range n.toks {
		if t.num && !n.excluded[i] {
			return true
		}
	}
	return false
}

func clamp(c float64) float64 {
	return max(0.05, min(0.99, c))
}
