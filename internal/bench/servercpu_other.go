//go:build !linux

package bench

import "time"

// postgresCPU is not measured on this platform.
func postgresCPU() time.Duration { return 0 }
