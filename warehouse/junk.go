package warehouse

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// What a publish leaves while it works, and a kill can leave behind: the
// read-only copy's temporary file (and its WAL) next to the copy, and a
// staging directory under ParquetDir/_staging. Their names carry the
// writer's host and process id (owner), so the next start can tell a dead
// writer's leftovers from a live one's: on this host, a name whose process
// is gone is junk at once; another host's (a shared Parquet tree) is junk
// once older than StaleStagingAge.

// owner is this process's mark in the temporary names it makes.
func owner() string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '/' || r == ' ' {
			return '_'
		}
		return r
	}, host)
	if host == "" {
		host = "host"
	}
	return fmt.Sprintf("%s-%d-", host, os.Getpid())
}

// abandoned reports whether the temporary name (after its prefix) was made
// by a process that is gone: a process of this host that no longer runs, or
// any writer when the entry is older than StaleStagingAge. A name from
// before owners were recorded counts as another host's.
func abandoned(rest string, mod, now time.Time, inUse func(pid int) bool) bool {
	if now.Sub(mod) > StaleStagingAge {
		return true
	}
	me := owner()
	host := me[:strings.IndexByte(me, '-')+1]
	if !strings.HasPrefix(rest, host) {
		return false
	}
	f := strings.SplitN(rest[len(host):], "-", 2)
	if len(f) < 2 {
		return false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return false
	}
	return !inUse(pid)
}

// CleanJunk removes what killed publishes left next to the read-only copy
// at copyPath and under parquetDir/_staging (either may be ""), and
// returns the paths removed. A process calls it at start and each Publish
// calls it, holding the process's publish lock, so none of this process's
// own temporary files are in use.
func CleanJunk(copyPath, parquetDir string) []string {
	now := time.Now()
	self := os.Getpid()
	inUse := func(pid int) bool { return pid != self && processAlive(pid) }
	var removed []string
	if copyPath != "" {
		dir, base := filepath.Split(copyPath)
		if dir == "" {
			dir = "."
		}
		entries, _ := os.ReadDir(dir)
		prefix := "." + base + "."
		for _, e := range entries {
			name := e.Name()
			if !strings.HasPrefix(name, prefix) || !(strings.HasSuffix(name, ".tmp") || strings.HasSuffix(name, ".tmp.wal")) {
				continue
			}
			info, err := e.Info()
			if err != nil || !abandoned(strings.TrimPrefix(name, prefix), info.ModTime(), now, inUse) {
				continue
			}
			p := filepath.Join(dir, name)
			if os.Remove(p) == nil {
				removed = append(removed, p)
			}
		}
	}
	if parquetDir != "" {
		staging := filepath.Join(parquetDir, "_staging")
		entries, _ := os.ReadDir(staging)
		for _, e := range entries {
			info, err := e.Info()
			if err != nil || !abandoned(strings.TrimPrefix(e.Name(), "publish-"), info.ModTime(), now, inUse) {
				continue
			}
			p := filepath.Join(staging, e.Name())
			if os.RemoveAll(p) == nil {
				removed = append(removed, p)
			}
		}
	}
	return removed
}
