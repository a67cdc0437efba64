package sync

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name → content under dir and returns dir.
func writeFiles(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestParseConfig_manyAccounts(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{
		"accounts.d/acme.yaml":    "subdomain: acme\ntoken_file: SECRETS/acme\ntimezone: America/Chicago\nwebhook_secret: ${ACME_SECRET}\n",
		"accounts.d/beta.yml":     "subdomain: beta\nrequests_per_second: 2\n",
		"accounts.d/.hidden.yaml": "not: an account\n",
		"accounts.d/README.txt":   "ignored",
		"secrets/acme":            "tok-acme-from-file\n",
		"tokens.yaml":             "beta: tok-beta\ngamma: \"tok-gamma\"\n",
	})
	fix := func(s string) string { return strings.ReplaceAll(s, "SECRETS", filepath.Join(dir, "secrets")) }
	// token_file paths inside the account files point into dir.
	acme := filepath.Join(dir, "accounts.d", "acme.yaml")
	b, _ := os.ReadFile(acme)
	os.WriteFile(acme, []byte(fix(string(b))), 0o600)

	cfg, err := ParseConfig(strings.NewReader(
		"accounts_dir: "+filepath.Join(dir, "accounts.d")+"\ntokens_file: "+filepath.Join(dir, "tokens.yaml")+"\n"), lookup)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]AccountConfig{}
	var order []string
	for _, a := range cfg.Accounts {
		got[a.Subdomain] = a
		order = append(order, a.Subdomain)
	}
	if strings.Join(order, ",") != "acme,beta,gamma" {
		t.Fatalf("accounts %v, want acme, beta (the directory, by file name), then gamma (tokens_file only)", order)
	}
	if a := got["acme"]; a.Token.Reveal() != "tok-acme-from-file" || a.TimeZone != "America/Chicago" || a.WebhookSecret.Reveal() != "hook-secret-456" {
		t.Errorf("acme: token %q, zone %s", a.Token.Reveal(), a.TimeZone)
	}
	if a := got["beta"]; a.Token.Reveal() != "tok-beta" || a.RequestsPerSecond != 2 {
		t.Errorf("beta: token %q, rps %v", a.Token.Reveal(), a.RequestsPerSecond)
	}
	if a := got["gamma"]; a.Token.Reveal() != "tok-gamma" || a.TimeZone != DefaultTimeZone || a.Concurrency == 0 {
		t.Errorf("gamma: %+v", a)
	}

	bad := func(name, config string, files map[string]string, want string) {
		t.Run(name, func(t *testing.T) {
			d := writeFiles(t, t.TempDir(), files)
			_, err := ParseConfig(strings.NewReader(strings.ReplaceAll(config, "DIR", d)), lookup)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want %q", err, want)
			}
			for _, secret := range []string{"tok-secret-value", "hook-value"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
		})
	}
	bad("unknown key in a file", "accounts_dir: DIR/a", map[string]string{"a/x.yaml": "subdomain: x\ntokne: tok-secret-value\n"},
		"accounts_dir/x.yaml: yaml: unmarshal errors:\n  line 2: field tokne not found")
	bad("a value of the wrong type in a file", "accounts_dir: DIR/a", map[string]string{"a/x.yaml": "subdomain: x\ntoken: tok-secret-value\nburst: lots\n"},
		`accounts_dir/x.yaml: burst (line 3): "lots" is not a whole number`)
	bad("no token in a file", "accounts_dir: DIR/a", map[string]string{"a/x.yaml": "subdomain: x\n"},
		"accounts_dir/x.yaml.token: required")
	bad("empty directory", "accounts_dir: DIR/a", map[string]string{"a/notes.txt": ""}, "accounts_dir: no *.yaml file in")
	bad("missing directory", "accounts_dir: DIR/nope", nil, "accounts_dir: open")
	bad("repeated subdomain", "accounts: [{subdomain: x, token: t}]\naccounts_dir: DIR/a",
		map[string]string{"a/x.yaml": "subdomain: x\ntoken: t\n"}, `accounts_dir/x.yaml.subdomain: "x" repeats accounts[0]`)
	bad("token and token_file", "accounts: [{subdomain: x, token: tok-secret-value, token_file: DIR/t}]",
		map[string]string{"t": "tok"}, "accounts[0].token_file: set token or token_file, not both")
	bad("missing token_file", "accounts: [{subdomain: x, token_file: DIR/none}]", nil, "accounts[0].token_file: open ")
	bad("empty token_file", "accounts: [{subdomain: x, token_file: DIR/t}]", map[string]string{"t": "\n"}, "accounts[0].token_file: ")
	bad("empty webhook_secret_file", "accounts: [{subdomain: x, token: t, webhook_secret_file: DIR/s}]", map[string]string{"s": " "},
		"accounts[0].webhook_secret_file: ")
	bad("tokens_file not a map", "tokens_file: DIR/t.yaml", map[string]string{"t.yaml": "- tok-secret-value\n"},
		"tokens_file: ")
	bad("tokens_file bad subdomain", "tokens_file: DIR/t.yaml", map[string]string{"t.yaml": "Not_A_Subdomain: tok-secret-value\n"},
		`tokens_file[Not_A_Subdomain].subdomain: "Not_A_Subdomain" is not a subdomain`)
	bad("tokens_file empty token", "tokens_file: DIR/t.yaml", map[string]string{"t.yaml": "x: \"\"\n"}, "x: empty token")
}
