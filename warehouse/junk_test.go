package warehouse

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCleanJunk_deadPublisher: what a killed publish leaves (the copy's
// temporary file and WAL, a Parquet staging directory) is removed by the
// next Publish when its process is gone; a live process's is kept.
func TestCleanJunk_deadPublisher(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	dead := strings.Replace(owner(), "-"+itoa(os.Getpid())+"-", "-"+itoa(cmd.Process.Pid)+"-", 1)
	live := strings.Replace(owner(), "-"+itoa(os.Getpid())+"-", "-"+itoa(os.Getppid())+"-", 1)

	dir := t.TempDir()
	copyPath := filepath.Join(dir, "published.duckdb")
	root := filepath.Join(dir, "parquet")
	touch := func(p string, isDir bool) string {
		t.Helper()
		if isDir {
			if err := os.MkdirAll(filepath.Join(p, "candidates"), 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	junk := []string{
		touch(filepath.Join(dir, ".published.duckdb."+dead+"123.tmp"), false),
		touch(filepath.Join(dir, ".published.duckdb."+dead+"123.tmp.wal"), false),
		touch(filepath.Join(root, "_staging", "publish-"+dead+"456"), true),
	}
	kept := []string{
		touch(filepath.Join(dir, ".published.duckdb."+live+"789.tmp"), false),
		touch(filepath.Join(root, "_staging", "publish-"+live+"012"), true),
		touch(filepath.Join(dir, "other.tmp"), false),
	}

	db := openTest(t)
	seed(t, db, "acme", 0, 3, t0)
	if _, err := db.Publish(context.Background(), PublishOptions{ReadOnlyPath: copyPath, ParquetDir: root}); err != nil {
		t.Fatal(err)
	}
	for _, p := range junk {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("junk of a dead publisher kept: %s", filepath.Base(p))
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a live process's file removed: %s", filepath.Base(p))
		}
	}
	// Publish's own temporary names carry this process's mark.
	if !strings.Contains(owner(), "-"+itoa(os.Getpid())+"-") {
		t.Errorf("owner() = %q lacks the pid", owner())
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
