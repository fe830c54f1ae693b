package rebalance

import "math"

// Dist is the demand over a window: negative binomial with mean Mean and
// variance Phi × Mean (Poisson when Phi ≤ 1). Daily retail demand is
// over-dispersed; Phi is estimated from the forecast's own errors.
type Dist struct {
	Mean float64
	Phi  float64
}

// maxSupport bounds the tail arrays; beyond it a normal approximation
// takes over (means of thousands of units per window).
const maxSupport = 1 << 17

// Tail returns P(D > t) for t = 0 … n-1.
func (d Dist) Tail(n int) []float64 {
	out := make([]float64, n)
	d.fillTail(out)
	return out
}

func (d Dist) fillTail(out []float64) {
	mu := d.Mean
	if mu <= 0 {
		for i := range out {
			out[i] = 0
		}
		return
	}
	if mu > 400 { // normal approximation, continuity corrected
		sd := math.Sqrt(mu * math.Max(d.Phi, 1))
		for t := range out {
			out[t] = 0.5 * math.Erfc((float64(t)+0.5-mu)/(sd*math.Sqrt2))
		}
		return
	}
	// P(D = k) by recurrence from P(D = 0); 1 − CDF gives the tail.
	var pk, mul, add float64 // P(k+1) = P(k) × (k·mul + add) / (k+1)
	if d.Phi <= 1.0001 {
		pk, mul, add = math.Exp(-mu), 0, mu
	} else {
		p := 1 / d.Phi
		r := mu * p / (1 - p)
		pk, mul, add = math.Exp(r*math.Log(p)), 1-p, r*(1-p)
	}
	cdf := 0.0
	for t := range out {
		cdf += pk
		out[t] = max(1-cdf, 0)
		pk *= (float64(t)*mul + add) / float64(t+1)
	}
}

// StockoutProb is P(D > s): demand over the window exceeds stock s.
func (d Dist) StockoutProb(s int64) float64 {
	if s < 0 {
		return 1
	}
	if s >= maxSupport {
		return 0
	}
	return d.Tail(int(s) + 1)[s]
}

// curve is a distribution's expected-loss function L(s) = E[(D − s)+] on
// integer stock levels, computed lazily as far as it is asked.
type curve struct {
	d    Dist
	tail []float64 // P(D > t)
	loss []float64 // L(t) for t = 0 … len(tail)
	buf  []float64 // backing of tail and loss, kept across resets
	// done: the tail computed so far has fallen below negligible, so
	// beyond it tail and loss are zero and need no computing.
	done bool
}

func newCurve(d Dist) *curve { return &curve{d: d} }

// reset makes the curve that of d, keeping its memory.
func (c *curve) reset(d Dist) {
	c.d, c.tail, c.loss, c.done = d, nil, nil, false
}

// negligible is a probability (and an expected loss) treated as zero.
const negligible = 1e-12

func (c *curve) grow(n int) {
	if n <= len(c.tail) || c.done {
		return
	}
	if n < 2*len(c.tail) {
		n = 2 * len(c.tail)
	}
	// Far enough into the tail that most curves are computed once.
	if first := int(c.d.Mean+9*math.Sqrt(c.d.Mean*math.Max(c.d.Phi, 1))) + 12; n < first {
		n = first
	}
	if n > maxSupport {
		n = maxSupport
	}
	if n <= len(c.tail) {
		return
	}
	if cap(c.buf) < 2*n+1 {
		c.buf = make([]float64, 2*n+1)
	}
	buf := c.buf[:2*n+1]
	c.tail, c.loss = buf[:n:n], buf[n:]
	c.d.fillTail(c.tail)
	c.loss[0] = c.d.Mean
	for t := range n {
		c.loss[t+1] = c.loss[t] - c.tail[t]
		if c.loss[t+1] < 0 {
			c.loss[t+1] = 0
		}
	}
	c.done = c.tail[n-1] < negligible && c.loss[n] < negligible
}

// Loss is E[(D − s)+], the expected unmet demand with stock s; below zero
// (stock short of a display minimum) every unit of shortfall adds one.
func (c *curve) Loss(s int64) float64 {
	if s <= 0 {
		return c.d.Mean - float64(s)
	}
	if s >= maxSupport {
		return 0
	}
	c.grow(int(s) + 1)
	if s >= int64(len(c.tail)) {
		return 0 // past a negligible tail
	}
	return c.loss[s]
}

// Risk is P(D > s).
func (c *curve) Risk(s int64) float64 {
	if s < 0 {
		return 1
	}
	if s >= maxSupport {
		return 0
	}
	c.grow(int(s) + 1)
	if s >= int64(len(c.tail)) {
		return 0
	}
	return c.tail[s]
}
