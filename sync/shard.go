package sync

import (
	"fmt"
	"strconv"
	"strings"
)

// ResolveShard reads a -shard value: "i/n", or "auto/n" (or "auto" with
// n from shardsEnv) where i is this replica's index — ordinalEnv when set
// (Kubernetes puts the pod index label there through the downward API),
// else the ordinal that ends a StatefulSet pod's host name
// (stackhouse-2 → 2).
func ResolveShard(spec, hostname, ordinalEnv, shardsEnv string) (i, n int, err error) {
	rest, ok := strings.CutPrefix(spec, "auto")
	if !ok {
		return ParseShard(spec)
	}
	switch {
	case rest == "" && shardsEnv != "":
		rest = shardsEnv
	case strings.HasPrefix(rest, "/"):
		rest = rest[1:]
	default:
		return 0, 0, fmt.Errorf("shard %q: want auto/n, like auto/4 (or auto with STACKHOUSE_SHARDS=n)", spec)
	}
	n, err = strconv.Atoi(rest)
	if err != nil || n < 1 {
		return 0, 0, fmt.Errorf("shard %q: the shard count %q is not a positive number", spec, rest)
	}
	ord, from := ordinalEnv, "STACKHOUSE_SHARD_INDEX"
	if ord == "" {
		cut := strings.LastIndexByte(hostname, '-')
		ord, from = hostname[cut+1:], "the host name "+strconv.Quote(hostname)
	}
	i, err = strconv.Atoi(ord)
	if err != nil || i < 0 {
		return 0, 0, fmt.Errorf("shard %q: no replica index in %s (a StatefulSet pod is named <name>-<index>)", spec, from)
	}
	if i >= n {
		return 0, 0, fmt.Errorf("shard %q: replica %d of %d shards: the StatefulSet has more replicas than shards", spec, i, n)
	}
	return i, n, nil
}
