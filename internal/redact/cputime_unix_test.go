//go:build unix

package redact

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used: unlike the wall clock, it
// does not count the time a busy machine keeps the benchmark waiting.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
