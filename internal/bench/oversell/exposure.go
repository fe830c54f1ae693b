package oversell

import "time"

// exposure integrates phantom stock: the time each level spends with the
// channel showing at least one unit while no unit is really available.
// Changes after the end of the day are not counted.
type exposure struct {
	end   time.Duration
	since []time.Duration // start of the current phantom span, or -1
	total time.Duration
}

func newExposure(levels int, end time.Duration) *exposure {
	e := &exposure{end: end, since: make([]time.Duration, levels)}
	for i := range e.since {
		e.since[i] = -1
	}
	return e
}

// set records whether level is phantom from now on.
func (e *exposure) set(level int, now time.Duration, phantom bool) {
	now = min(now, e.end)
	switch s := e.since[level]; {
	case phantom && s < 0:
		e.since[level] = now
	case !phantom && s >= 0:
		e.total += now - s
		e.since[level] = -1
	}
}

// close ends every open span at the end of the day and returns the total.
func (e *exposure) close() time.Duration {
	for i, s := range e.since {
		if s >= 0 {
			e.total += e.end - s
			e.since[i] = -1
		}
	}
	return e.total
}
