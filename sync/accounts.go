package sync

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/stackhouse/stackhouse/applicantstack"
)

// Many accounts. Besides the accounts list, a configuration can take
// accounts from a directory, one YAML file each (accounts_dir), and tokens
// from a single subdomain → token file (tokens_file) or one file per
// account (token_file), as Kubernetes mounts the keys of a Secret.

// loadAccounts appends the accounts of AccountsDir (sorted by file name)
// and of TokensFile to the configured ones, and gives accounts without a
// token theirs from TokensFile.
func (c *Config) loadAccounts(lookup func(string) (string, bool)) error {
	if c.AccountsDir != "" {
		files, err := accountFiles(c.AccountsDir)
		if err != nil {
			return fmt.Errorf("accounts_dir: %w", err)
		}
		for _, f := range files {
			a, err := readAccountFile(f, lookup, c.withoutSecrets)
			where := "accounts_dir/" + filepath.Base(f)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			a.where = where
			c.Accounts = append(c.Accounts, a)
		}
	}
	if c.TokensFile == "" {
		return nil
	}
	tokens, err := readTokens(c.TokensFile)
	if err != nil && c.withoutSecrets && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)) {
		// A read-only command needs no token; it runs where the secrets
		// are not mounted, or by a user who may not read them.
		return nil
	}
	if err != nil {
		return fmt.Errorf("tokens_file: %w", err)
	}
	if c.withoutSecrets {
		for s := range tokens {
			tokens[s] = ""
		}
	}
	named := map[string]bool{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		named[a.Subdomain] = true
		if t, ok := tokens[a.Subdomain]; ok && a.Token == "" && a.TokenFile == "" {
			a.Token = applicantstack.Secret(t)
		}
	}
	subs := make([]string, 0, len(tokens))
	for s := range tokens {
		subs = append(subs, s)
	}
	sort.Strings(subs)
	for _, s := range subs {
		if !named[s] {
			c.Accounts = append(c.Accounts, AccountConfig{Subdomain: s, Token: applicantstack.Secret(tokens[s]), where: "tokens_file[" + s + "]"})
		}
	}
	return nil
}

// accountFiles lists the *.yaml and *.yml files of dir, skipping hidden
// ones (Kubernetes' ..data links in a mounted ConfigMap).
func accountFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || e.IsDir() {
			continue
		}
		if ext := filepath.Ext(n); ext == ".yaml" || ext == ".yml" {
			files = append(files, filepath.Join(dir, n))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *.yaml file in %s", dir)
	}
	return files, nil
}

// readAccountFile decodes one account, strictly and with ${VAR} expanded;
// withoutSecrets drops its secrets first (dropAccountSecrets).
func readAccountFile(path string, lookup func(string) (string, bool), withoutSecrets bool) (AccountConfig, error) {
	var a AccountConfig
	data, err := os.ReadFile(path)
	if err != nil {
		return a, err
	}
	var drop func(*yaml.Node)
	if withoutSecrets {
		drop = func(root *yaml.Node) {
			if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
				dropAccountSecrets(root.Content[0])
			}
		}
	}
	if err := decodeStrict(data, lookup, drop, &a); err != nil {
		if errors.Is(err, io.EOF) {
			return a, errors.New("empty")
		}
		return a, err
	}
	return a, nil
}

// readTokens reads a YAML map of subdomain → token.
func readTokens(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tokens map[string]string
	if err := yaml.Unmarshal(data, &tokens); err != nil {
		// yaml's errors quote no values, but say so plainly.
		return nil, fmt.Errorf("%s: want lines of subdomain: token (%v)", path, err)
	}
	for s, t := range tokens {
		if strings.TrimSpace(t) == "" {
			return nil, fmt.Errorf("%s: %s: empty token", path, s)
		}
		tokens[s] = strings.TrimSpace(t)
	}
	return tokens, nil
}

// readSecretFiles reads token_file and webhook_secret_file into Token and
// WebhookSecret when those are empty. Surrounding white space (the newline
// an editor or kubectl adds) is trimmed.
func (a *AccountConfig) readSecretFiles() error {
	read := func(field, path string) (applicantstack.Secret, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", field, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%s: %s is empty", field, path)
		}
		return applicantstack.Secret(v), nil
	}
	if a.TokenFile != "" && a.Token == "" {
		t, err := read("token_file", a.TokenFile)
		if err != nil {
			return err
		}
		a.Token, a.tokenFromFile = t, true
	}
	if a.WebhookSecretFile != "" && a.WebhookSecret == "" {
		s, err := read("webhook_secret_file", a.WebhookSecretFile)
		if err != nil {
			return err
		}
		a.WebhookSecret, a.secretFromFile = s, true
	}
	return nil
}

// name is how errors name the account: accounts[i] or where it came from.
func (a *AccountConfig) name(i int) string {
	if a.where != "" {
		return a.where
	}
	return fmt.Sprintf("accounts[%d]", i)
}
