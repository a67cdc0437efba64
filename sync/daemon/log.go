package daemon

import (
	stdsync "sync"
	"time"
)

// logLimiter lets a message with a given key through at most once per
// every, so a misconfigured sender or a failing account cannot flood logs.
type logLimiter struct {
	every time.Duration
	mu    stdsync.Mutex
	last  map[string]time.Time
}

func (l *logLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.every {
		return false
	}
	l.last[key] = now
	return true
}
