//go:build unix

package queries

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system, all threads) this process has
// used. Benchmarks report it beside wall time because it barely moves when
// other processes compete for the cores.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
