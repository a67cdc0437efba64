package sync

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigForRead(t *testing.T) {
	write := func(body string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "stackhouse.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	none := func(string) (string, bool) { return "", false }
	withDir := func(k string) (string, bool) {
		if k == "DATA" {
			return "/srv/data", true
		}
		return "", false
	}
	cfg := write(`
warehouse:
  path: ${DATA}/wh.duckdb
accounts:
  - subdomain: acme
    token: ${ACME_TOKEN}
    webhook_secret: ${ACME_HOOK}
    timezone: America/Chicago
  - subdomain: globex
`)
	if _, err := LoadConfig(cfg, withDir); err == nil || !strings.Contains(err.Error(), "accounts[0].token: environment variable ACME_TOKEN is not set") {
		t.Errorf("LoadConfig: %v", err)
	}
	c, err := LoadConfigForRead(cfg, withDir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Warehouse.Path != "/srv/data/wh.duckdb" || c.Accounts[0].TimeZone != "America/Chicago" ||
		c.Accounts[0].Token != "" || c.Accounts[0].WebhookSecret != "" || c.Accounts[1].TimeZone != DefaultTimeZone {
		t.Errorf("config %+v", c)
	}
	// Every other field is expanded and validated as usual.
	if _, err := LoadConfigForRead(cfg, none); err == nil || !strings.Contains(err.Error(), "warehouse.path: environment variable DATA is not set") {
		t.Errorf("unset variable outside a secret: %v", err)
	}
	bad := write("accounts:\n  - subdomain: acme\n    token: ${T}\n    timezone: Mars/Olympus\n")
	if _, err := LoadConfigForRead(bad, none); err == nil || !strings.Contains(err.Error(), "accounts[0].timezone") {
		t.Errorf("bad zone: %v", err)
	}

	// Secrets in files are not read either: a token_file that does not
	// exist, an account file's token, a missing tokens_file.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "globex.yaml"), []byte("subdomain: globex\ntoken: ${GLOBEX_TOKEN}\ntimezone: Europe/Berlin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	files := write("accounts_dir: " + dir + "\ntokens_file: " + filepath.Join(dir, "missing-tokens.yaml") +
		"\naccounts:\n  - subdomain: acme\n    token_file: /nonexistent/acme-token\n    webhook_secret_file: /nonexistent/acme-hook\n")
	if _, err := LoadConfig(files, none); err == nil {
		t.Error("LoadConfig with missing secret files: no error")
	}
	c, err = LoadConfigForRead(files, none)
	if err != nil {
		t.Fatalf("LoadConfigForRead with missing secret files: %v", err)
	}
	if len(c.Accounts) != 2 || c.Accounts[0].Subdomain != "acme" || c.Accounts[0].Token != "" ||
		c.Accounts[1].Subdomain != "globex" || c.Accounts[1].Token != "" || c.Accounts[1].TimeZone != "Europe/Berlin" {
		t.Errorf("accounts %+v", c.Accounts)
	}
	// A tokens_file that exists adds its accounts, without their tokens.
	tokens := filepath.Join(dir, "tokens.yaml")
	if err := os.WriteFile(tokens, []byte("initech: secret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = LoadConfigForRead(write("tokens_file: "+tokens+"\n"), none)
	if err != nil || len(c.Accounts) != 1 || c.Accounts[0].Subdomain != "initech" || c.Accounts[0].Token != "" {
		t.Errorf("tokens_file for read: %+v %v", c, err)
	}
}
