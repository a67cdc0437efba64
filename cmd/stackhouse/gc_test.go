package main

import "testing"

func TestGCPercent(t *testing.T) {
	const mb = 1 << 20
	for _, tt := range []struct {
		live uint64
		want int
	}{
		{0, 100},           // no collection yet: Go's default
		{8 * mb, 800},      // 8 MB live grows by 64 MB
		{16 * mb, 400},     // 16 MB by 64 MB
		{64 * mb, 100},     // 64 MB by its size, as by default
		{500 * mb, 100},    // a large heap keeps the default
		{1, 64 * mb * 100}, // a tiny heap still stops at 64 MB of growth
	} {
		p := gcPercent(tt.live, 64*mb)
		if p != tt.want {
			t.Errorf("gcPercent(%d MB) = %d, want %d", tt.live/mb, p, tt.want)
		}
		// The heap may grow by max(live, 64 MB) before the next collection.
		if grow := tt.live * uint64(p) / 100; tt.live > 0 && grow != max(tt.live, 64*mb) {
			t.Errorf("live %d bytes may grow by %d, want %d", tt.live, grow, max(tt.live, 64*mb))
		}
	}
}
