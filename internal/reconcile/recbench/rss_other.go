//go:build !linux

package recbench

import "runtime/metrics"

// peakRSSMiB approximates the peak with the memory the Go runtime holds
// from the OS now (the maximum RSS is read on Linux only).
func peakRSSMiB() float64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	return float64(s[0].Value.Uint64()) / (1 << 20)
}

// cpuSeconds is not measured off Linux.
func cpuSeconds() float64 { return 0 }
