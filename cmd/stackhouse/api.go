package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/stackhouse/stackhouse/applicantstack"
)

const apiUsage = `api [-config F] [-account A] [-data JSON] METHOD PATH

Sends one request to the account's API (token, publisher, rate limit and retries as in a sync)
and prints the JSON it returns, like 'gh api'. SSN, DOB and form data are removed from the output.

Examples:
  stackhouse api GET /api/jobs/1
  stackhouse api -account acme GET /api/candidate/a4dm0x1cbzrh`

func apiFlags(fs *flag.FlagSet) action {
	cfgPath := configFlag(fs)
	account := fs.String("account", "", "account subdomain or name (default: the only account)")
	data := fs.String("data", "", "request body for POST/PUT (JSON); @file reads a file")
	raw := fs.Bool("raw", false, "print the body as sent, without indenting")
	return func(ctx context.Context, in *invocation) error {
		stdout := in.stdout
		method, path := "GET", ""
		switch len(in.args) {
		case 1:
			path = in.args[0]
		case 2:
			method, path = strings.ToUpper(in.args[0]), in.args[1]
		default:
			return &usageError{msg: "api wants METHOD PATH", hint: "stackhouse api GET /api/jobs/1"}
		}
		if !strings.HasPrefix(path, "/") {
			return &usageError{msg: fmt.Sprintf("path %q must start with /", path), hint: "stackhouse api GET /api/jobs/1"}
		}
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		acct := &cfg.Accounts[0]
		if *account != "" {
			if acct, err = cfg.Account(*account); err != nil {
				return err
			}
		} else if len(cfg.Accounts) > 1 {
			return &usageError{msg: "the config has several accounts", hint: "pick one with -account " + cfg.Accounts[0].Subdomain}
		}
		var body []byte
		if *data != "" {
			body = []byte(*data)
			if name, ok := strings.CutPrefix(*data, "@"); ok {
				if body, err = os.ReadFile(name); err != nil {
					return err
				}
			}
		}
		c := acct.Client()
		c.MaxRetries = 2
		status, resp, err := c.Do(ctx, method, path, body)
		if err != nil {
			return err
		}
		resource := applicantstack.ResourceCandidate // keeps screening questionnaires
		if strings.HasPrefix(strings.TrimLeft(path, "/"), "o/") {
			resource = applicantstack.ResourceHire
		}
		clean := applicantstack.Sanitize(resource, resp)
		if clean == nil && len(bytes.TrimSpace(resp)) > 0 {
			clean = []byte("null") // not JSON: nothing in it can be shown safely
		}
		resp = clean
		if !*raw {
			var buf bytes.Buffer
			if json.Indent(&buf, resp, "", "  ") == nil {
				resp = buf.Bytes()
			}
		}
		stdout.Write(resp)
		if len(resp) > 0 && resp[len(resp)-1] != '\n' {
			fmt.Fprintln(stdout)
		}
		if status < 200 || status > 299 {
			return fmt.Errorf("%s %s: %d %s", method, path, status, http.StatusText(status))
		}
		return nil
	}
}
