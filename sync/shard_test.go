package sync

import (
	"strings"
	"testing"
)

func TestResolveShard(t *testing.T) {
	for _, tc := range []struct {
		spec, host, ordEnv, nEnv string
		i, n                     int
		err                      string
	}{
		{spec: "1/4", i: 1, n: 4},
		{spec: "auto/3", host: "stackhouse-2", i: 2, n: 3},
		{spec: "auto/3", host: "stackhouse-sharded-0", i: 0, n: 3},
		{spec: "auto", host: "stackhouse-1", nEnv: "2", i: 1, n: 2},
		{spec: "auto/3", host: "whatever", ordEnv: "1", i: 1, n: 3},
		{spec: "auto/3", host: "stackhouse-3", err: "more replicas than shards"},
		{spec: "auto/3", host: "laptop", err: `no replica index in the host name "laptop"`},
		{spec: "auto/3", host: "x", ordEnv: "one", err: "no replica index in STACKHOUSE_SHARD_INDEX"},
		{spec: "auto", host: "stackhouse-0", err: "want auto/n"},
		{spec: "auto/0", host: "stackhouse-0", err: "not a positive number"},
		{spec: "automatic", err: "want auto/n"},
		{spec: "4/4", err: "want i/n"},
	} {
		t.Run(tc.spec+"@"+tc.host, func(t *testing.T) {
			i, n, err := ResolveShard(tc.spec, tc.host, tc.ordEnv, tc.nEnv)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || i != tc.i || n != tc.n {
				t.Fatalf("= %d/%d, %v; want %d/%d", i, n, err, tc.i, tc.n)
			}
		})
	}
}
