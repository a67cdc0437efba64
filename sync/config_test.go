package sync

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stackhouse/stackhouse/warehouse"
)

var testEnv = map[string]string{"ACME_TOKEN": "tok-secret-123", "ACME_SECRET": "hook-secret-456", "RPS": "2.5"}

func lookup(k string) (string, bool) { v, ok := testEnv[k]; return v, ok }

func TestParseConfig_corpus(t *testing.T) {
	good, _ := filepath.Glob("testdata/config/good/*.yaml")
	bad, _ := filepath.Glob("testdata/config/bad/*.yaml")
	if len(good) == 0 || len(bad) == 0 {
		t.Fatal("config corpus missing")
	}
	for _, f := range good {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := LoadConfig(f, lookup); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, f := range bad {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, _ := os.ReadFile(f)
			line, _, _ := bufio.NewReader(bytes.NewReader(b)).ReadLine()
			want, ok := strings.CutPrefix(string(line), "# error: ")
			if !ok {
				t.Fatalf("%s: first line must be '# error: <expected>'", f)
			}
			_, err := LoadConfig(f, lookup)
			if err == nil {
				t.Fatalf("no error, want %q", want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not contain %q", err, want)
			}
		})
	}
}

func TestParseConfig_values(t *testing.T) {
	cfg, err := LoadConfig("testdata/config/good/full.yaml", lookup)
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Accounts[0]
	if a.Token.Reveal() != "tok-${literal}" || a.WebhookSecret.Reveal() != "hook-secret-456" || a.RequestsPerSecond != 2.5 {
		t.Errorf("expansion: token=%q secret=%q rps=%v", a.Token.Reveal(), a.WebhookSecret.Reveal(), a.RequestsPerSecond)
	}
	if a.HiresEnabled() || a.AttachmentsEnabled() || a.Concurrency != 8 || a.Location().String() != "America/Chicago" {
		t.Errorf("account = %+v", a)
	}
	b := cfg.Accounts[1]
	if b.Name != "beta-care" || b.TimeZone != DefaultTimeZone || !b.HiresEnabled() || b.BaseURL == "" || b.Concurrency == 0 {
		t.Errorf("defaults not applied: %+v", b)
	}
	if cfg.Server.ShutdownTimeout != 5*time.Second || cfg.Schedule.Sync != "@hourly" {
		t.Errorf("server/schedule = %+v %+v", cfg.Server, cfg.Schedule)
	}
	rules := cfg.FunnelRules(&cfg.Accounts[0])
	if f, _ := rules.Map("Phone Call", ""); f != "screened" {
		t.Errorf("account rule: Phone Call → %q", f)
	}
	if f, _ := rules.Map("Whatever", "Do Not Pursue"); f != "rejected" {
		t.Errorf("global stage_type rule → %q", f)
	}
	if a, err := cfg.Account("Acme Health"); err != nil || a.Subdomain != "acme" {
		t.Errorf("Account by name = %v, %v", a, err)
	}
	if _, err := cfg.Account("nope"); err == nil || !strings.Contains(err.Error(), "acme, beta-care") {
		t.Errorf("unknown account error = %v", err)
	}
}

func TestConfig_secretsNeverPrinted(t *testing.T) {
	cfg, err := LoadConfig("testdata/config/good/full.yaml", lookup)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%v %+v %#v", cfg, cfg.Accounts, cfg.Accounts[0])
	j, _ := json.Marshal(cfg)
	y, _ := yaml.Marshal(cfg)
	buf.Write(j)
	buf.Write(y)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("cfg", "cfg", cfg, "account", cfg.Accounts[0])
	for _, s := range []string{"hook-secret-456", "tok-${literal}"} {
		if strings.Contains(buf.String(), s) {
			t.Fatalf("secret %q printed: %s", s, buf.String())
		}
	}
	if !strings.Contains(buf.String(), "<redacted>") {
		t.Error("no <redacted> marker in output")
	}
}

func TestConfigExample(t *testing.T) {
	env := func(k string) (string, bool) { return "x-" + strings.ToLower(k), true }
	cfg, err := LoadConfig("../config.example.yaml", env)
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	if len(cfg.Accounts) == 0 || cfg.Accounts[0].Subdomain != "acme" {
		t.Errorf("accounts = %+v", cfg.Accounts)
	}
}

func TestParseShard(t *testing.T) {
	for _, s := range []string{"0/1", "3/4"} {
		if _, _, err := ParseShard(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"", "4/4", "-1/2", "a/b", "1", "0/0"} {
		if _, _, err := ParseShard(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	// Every account lands in exactly one shard, and the split is stable.
	counts := make([]int, 4)
	for i := 0; i < 1000; i++ {
		acct := fmt.Sprintf("acct-%d", i)
		n := 0
		for s := 0; s < 4; s++ {
			if InShard(acct, s, 4) {
				n++
				counts[s]++
			}
		}
		if n != 1 {
			t.Fatalf("%s in %d shards", acct, n)
		}
	}
	for s, c := range counts {
		if c < 150 {
			t.Errorf("shard %d got only %d of 1000 accounts", s, c)
		}
	}
}

// TestWarehouseConfig_DSN: the settings fields join those the path carries
// (a second "?" made DuckDB refuse to open); the path's own win.
func TestWarehouseConfig_DSN(t *testing.T) {
	for _, tc := range []struct {
		w    WarehouseConfig
		want string
	}{
		{WarehouseConfig{Path: "wh.duckdb"}, "wh.duckdb"},
		{WarehouseConfig{Path: "wh.duckdb", MemoryLimit: "512MB", Threads: 2}, "wh.duckdb?memory_limit=512MB&threads=2"},
		{WarehouseConfig{Path: "wh.duckdb?checkpoint_threshold=64MB", MemoryLimit: "512MB"}, "wh.duckdb?checkpoint_threshold=64MB&memory_limit=512MB"},
		{WarehouseConfig{Path: "wh.duckdb?memory_limit=1GB", MemoryLimit: "512MB"}, "wh.duckdb?memory_limit=1GB"},
	} {
		if got := tc.w.DSN(); got != tc.want {
			t.Errorf("%+v.DSN() = %q, want %q", tc.w, got, tc.want)
		}
	}
	// And DuckDB opens it.
	w := WarehouseConfig{Path: filepath.Join(t.TempDir(), "wh.duckdb") + "?checkpoint_threshold=64MB", MemoryLimit: "256MB"}
	db, err := warehouse.Open(context.Background(), w.DSN())
	if err != nil {
		t.Fatalf("open %s: %v", w.DSN(), err)
	}
	db.Close()
}
