package rebalance

import "math"

// Node is one location in a single SKU's transfer problem, counted in packs.
// Out(k) is what the k-th pack leaving costs (expected lost sales it
// causes, in money), In(k) what the k-th pack arriving costs (negative: the
// lost sales it avoids). Both must be non-decreasing in k — true of
// expected-loss curves, which are convex — for the solution to be optimal.
type Node struct {
	MaxOut, MaxIn int
	Out, In       func(k int) float64
}

// Arc allows transfers From → To at Cost per pack.
type Arc struct {
	From, To int
	Cost     float64
}

// Flow is a solved transfer of Packs packs.
type Flow struct {
	From, To int
	Packs    int
}

// eps is the smallest improvement worth a pack: it keeps rounding noise
// from moving stock back and forth.
const eps = 1e-9

// Solve finds transfers minimising the sum of node costs and arc costs:
// an exact min-cost flow by successive shortest paths, one pack at a time,
// from a super source (packs leaving a node) to a super sink (packs
// arriving), stopping when no path has negative cost. With convex node
// costs each augmentation along a shortest path keeps the residual graph
// free of negative cycles, so the result is optimal. It returns the flows
// and their total cost (negative: the saving).
func Solve(nodes []Node, arcs []Arc) ([]Flow, float64) {
	// Vertices: i is node i's giving side, n+i its receiving side, so a
	// pack can only reach the sink from a node through an arc.
	n := len(nodes)
	src, sink := 2*n, 2*n+1
	out := make([]int, n)
	in := make([]int, n)
	flow := make([]int, len(arcs))
	fwd := make([][]int, n) // arcs leaving node
	bwd := make([][]int, n) // arcs entering node
	for i, a := range arcs {
		fwd[a.From] = append(fwd[a.From], i)
		bwd[a.To] = append(bwd[a.To], i)
	}
	nv := 2*n + 2
	dist := make([]float64, nv)
	// step says how a vertex was reached. Kinds: 0 src→giver, 1 arc
	// forward, 2 arc backward, 3 receiver→sink, 4 sink→receiver (undo),
	// 5 giver→src (undo).
	type step struct{ kind, idx int }
	pred := make([]step, nv)
	inQ := make([]bool, nv)
	count := make([]int, nv)
	var total float64
	for {
		for i := range dist {
			dist[i] = math.Inf(1)
			inQ[i] = false
			count[i] = 0
		}
		dist[src] = 0
		queue := []int{src}
		inQ[src] = true
		relax := func(v int, d float64, s step) {
			if d < dist[v]-eps {
				dist[v] = d
				pred[v] = s
				if !inQ[v] {
					inQ[v] = true
					queue = append(queue, v)
				}
			}
		}
		for len(queue) > 0 {
			u := queue[0]
			queue = queue[1:]
			inQ[u] = false
			count[u]++
			if count[u] > nv { // a negative cycle: impossible with convex costs
				queue = nil
				break
			}
			du := dist[u]
			switch {
			case u == src:
				for v := range n {
					if out[v] < nodes[v].MaxOut {
						relax(v, du+nodes[v].Out(out[v]+1), step{0, v})
					}
				}
			case u == sink:
				for v := range n {
					if in[v] > 0 {
						relax(n+v, du-nodes[v].In(in[v]), step{4, v})
					}
				}
			case u < n: // giving side
				for _, ai := range fwd[u] {
					relax(n+arcs[ai].To, du+arcs[ai].Cost, step{1, ai})
				}
				if out[u] > 0 {
					relax(src, du-nodes[u].Out(out[u]), step{5, u})
				}
			default: // receiving side
				j := u - n
				for _, ai := range bwd[j] {
					if flow[ai] > 0 {
						relax(arcs[ai].From, du-arcs[ai].Cost, step{2, ai})
					}
				}
				if in[j] < nodes[j].MaxIn {
					relax(sink, du+nodes[j].In(in[j]+1), step{3, j})
				}
			}
		}
		if !(dist[sink] < -eps) {
			break
		}
		total += dist[sink]
		// Walk back from the sink, applying one pack.
		v := sink
		for guard := 0; v != src && guard <= nv+len(arcs); guard++ {
			s := pred[v]
			switch s.kind {
			case 0:
				out[s.idx]++
				v = src
			case 1:
				flow[s.idx]++
				v = arcs[s.idx].From
			case 2:
				flow[s.idx]--
				v = n + arcs[s.idx].To
			case 3:
				in[s.idx]++
				v = n + s.idx
			case 4:
				in[s.idx]--
				v = sink
			case 5:
				out[s.idx]--
				v = s.idx
			}
		}
	}
	var flows []Flow
	for i, a := range arcs {
		if flow[i] > 0 {
			flows = append(flows, Flow{From: a.From, To: a.To, Packs: flow[i]})
		}
	}
	return flows, total
}

// SolveGreedy is the fast path for SKUs with many candidate locations: it
// repeatedly gives one pack to the destination whose best lane currently
// saves the most (arrival gain less the donor's loss and the lane's cost),
// re-evaluating lazily, until no pack saves anything. Node costs only grow
// as packs are assigned, so a stale heap entry is an upper bound and the
// lazy check is sound. It is not always optimal (it never reroutes a pack
// already assigned), which the exact Solve is; plan uses it only above
// Settings.ExactUpTo candidates.
func SolveGreedy(nodes []Node, arcs []Arc) ([]Flow, float64) {
	n := len(nodes)
	out := make([]int, n)
	in := make([]int, n)
	into := make([][]int, n)
	for i, a := range arcs {
		into[a.To] = append(into[a.To], i)
	}
	flow := make([]int, len(arcs))
	// best returns sink j's best arc and the saving of one more pack.
	best := func(j int) (int, float64) {
		if in[j] >= nodes[j].MaxIn || len(into[j]) == 0 {
			return -1, 0
		}
		gain := -nodes[j].In(in[j] + 1)
		bi, bv := -1, 0.0
		for _, ai := range into[j] {
			a := arcs[ai]
			if out[a.From] >= nodes[a.From].MaxOut {
				continue
			}
			if v := gain - a.Cost - nodes[a.From].Out(out[a.From]+1); v > bv {
				bi, bv = ai, v
			}
		}
		return bi, bv
	}
	h := &gainHeap{}
	for j := range n {
		if _, v := best(j); v > eps {
			h.push(gainItem{j, v})
		}
	}
	var total float64
	for h.len() > 0 {
		top := h.pop()
		ai, v := best(top.node)
		if ai < 0 || v <= eps {
			continue
		}
		if h.len() > 0 && v < h.peek().v-eps {
			h.push(gainItem{top.node, v})
			continue
		}
		a := arcs[ai]
		out[a.From]++
		in[a.To]++
		flow[ai]++
		total -= v
		h.push(gainItem{top.node, v})
	}
	var flows []Flow
	for i, a := range arcs {
		if flow[i] > 0 {
			flows = append(flows, Flow{From: a.From, To: a.To, Packs: flow[i]})
		}
	}
	return flows, total
}

type gainItem struct {
	node int
	v    float64
}

// gainHeap is a max-heap of savings.
type gainHeap struct{ xs []gainItem }

func (h *gainHeap) len() int       { return len(h.xs) }
func (h *gainHeap) peek() gainItem { return h.xs[0] }
func (h *gainHeap) push(x gainItem) {
	h.xs = append(h.xs, x)
	i := len(h.xs) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h.xs[p].v >= h.xs[i].v {
			break
		}
		h.xs[p], h.xs[i] = h.xs[i], h.xs[p]
		i = p
	}
}

func (h *gainHeap) pop() gainItem {
	top := h.xs[0]
	last := len(h.xs) - 1
	h.xs[0] = h.xs[last]
	h.xs = h.xs[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h.xs) && h.xs[l].v > h.xs[m].v {
			m = l
		}
		if r < len(h.xs) && h.xs[r].v > h.xs[m].v {
			m = r
		}
		if m == i {
			return top
		}
		h.xs[i], h.xs[m] = h.xs[m], h.xs[i]
		i = m
	}
}
