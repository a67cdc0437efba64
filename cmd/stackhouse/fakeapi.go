package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
)

const fakeAPIUsage = `fake-api [-addr HOST:PORT] [-jobs N] [-candidates N] [-seed S] [-token T] [-subdomain S]
          [-webhook-url U -webhook-secret S] [-no-onboarding] [-custom-fields]
          [-rate-limit N -burst B] [-error-rate F] [-latency D] [-truncate-rate F]
          [-failure-rate F] [-malformed-rate F]

Serves a fake ApplicantStack account with generated, deterministic data (same seed,
same records) on the ApplicantStack API routes (/api/jobs, /api/candidates/{page},
/api/candidate/{serial}, /o/api/hires, /x/attachment/{serial}), until interrupted.
Fault flags make it misbehave the way real APIs do. Loopback clients can also drive it
through the admin API under /_fake/ (stage moves, new candidates, clock, faults, stats).`

// fakeAPIFlags is fake-api: it serves the fake ApplicantStack (package fake)
// until ctx is cancelled: one tenant, optional faults, the /_fake/ admin
// API on loopback. Its clock follows the wall clock from start-up (or from
// -now).
func fakeAPIFlags(fs *flag.FlagSet) action {
	addr := fs.String("addr", "127.0.0.1:8089", "listen address (host:port; port 0 picks one)")
	jobs := fs.Int("jobs", fake.DefaultJobs, "jobs in the account")
	candidates := fs.Int("candidates", fake.DefaultCandidates, "candidates (applications) in the account")
	seed := fs.Int64("seed", 1, "seed of the generated data")
	token := fs.String("token", "demo-token", "API access token clients must send in the Token header")
	subdomain := fs.String("subdomain", "demo", "account subdomain (also reachable as http://SUBDOMAIN.localhost:PORT)")
	timeZone := fs.String("tz", fake.DefaultTimeZone, "account time zone of display dates")
	webhookURL := fs.String("webhook-url", "", "POST stage-change notifications to this URL")
	webhookSecret := fs.String("webhook-secret", "", `shared secret sent as "Secret" in notifications`)
	noOnboarding := fs.Bool("no-onboarding", false, "disable the hires module (/o/api answers 404)")
	customFields := fs.Bool("custom-fields", false, "add tenant-defined custom fields to candidates")
	now := fs.String("now", "", "fixed start time of the fake clock, RFC 3339 (default: the wall clock)")
	rateLimit := fs.Float64("rate-limit", 0, "enforce N requests per second, answering 429 with Retry-After (0: off)")
	burst := fs.Int("burst", 0, "token bucket size for -rate-limit (0: the rate, at least 1)")
	errorRate := fs.Float64("error-rate", 0, "share of requests answered 500, 502 or 503 (0..1)")
	latency := fs.Duration("latency", 0, "delay added to every answer, e.g. 50ms")
	truncateRate := fs.Float64("truncate-rate", 0, "share of JSON answers cut off mid-body (0..1)")
	failureRate := fs.Float64("failure-rate", 0, `share of answers that are HTTP 200 with "Method Result":"Failure" (0..1)`)
	malformedRate := fs.Float64("malformed-rate", 0, "share of list rows served without a serial or with a bad timestamp (0..1)")
	return func(ctx context.Context, in *invocation) error {
		stdout := in.stdout
		srv := fake.NewServer()
		srv.Epoch = time.Now().UTC().Truncate(time.Second)
		srv.WallClock = true
		if *now != "" {
			t, err := time.Parse(time.RFC3339, *now)
			if err != nil {
				return &usageError{msg: fmt.Sprintf("fake-api: -now %q: want RFC 3339, e.g. 2026-03-16T14:30:00Z", *now)}
			}
			srv.Epoch, srv.WallClock = t, false
		}
		tenant := fake.NewTenant(*subdomain)
		tenant.Token, tenant.Seed, tenant.TimeZone = *token, *seed, *timeZone
		tenant.Jobs, tenant.Candidates = *jobs, *candidates
		tenant.WebhookURL, tenant.WebhookSecret = *webhookURL, *webhookSecret
		tenant.Onboarding, tenant.CustomFields = !*noOnboarding, *customFields
		if err := srv.AddTenant(tenant); err != nil {
			return &usageError{msg: err.Error()}
		}
		faults := fake.Faults{
			RateLimit: *rateLimit, Burst: *burst, ErrorRate: *errorRate, Latency: *latency,
			TruncateRate: *truncateRate, FailureRate: *failureRate, MalformedRate: *malformedRate,
		}
		if err := srv.SetFaults(tenant.Subdomain, faults); err != nil {
			return &usageError{msg: err.Error()}
		}
		base, err := srv.Start(*addr)
		if err != nil {
			srv.Close()
			return withHint(err, "is another fake-api running? pick a free port with -addr 127.0.0.1:0")
		}

		hires, _ := srv.Serials(tenant.Subdomain, fake.ListHires)
		fmt.Fprintf(stdout, "fake ApplicantStack %q serving at %s\n", tenant.Subdomain, base)
		fmt.Fprintf(stdout, "  token:      %s (fake; send it as the Token header)\n", tenant.Token)
		fmt.Fprintf(stdout, "  data:       %d jobs, %d candidates, %d hires (seed %d)\n", tenant.Jobs, tenant.Candidates, len(hires), tenant.Seed)
		var set []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "rate-limit", "burst", "error-rate", "latency", "truncate-rate", "failure-rate", "malformed-rate":
				set = append(set, "-"+f.Name+"="+f.Value.String())
			}
		})
		if len(set) > 0 {
			fmt.Fprintf(stdout, "  faults:     %s\n", strings.Join(set, " "))
		}
		fmt.Fprintf(stdout, "  admin API:  %s/_fake/tenants/%s (loopback only)\n", base, tenant.Subdomain)
		fmt.Fprintf(stdout, "try:\n  curl -H 'Token: %s' %s/api/candidates/1\n", tenant.Token, base)
		fmt.Fprintln(stdout, "stop with Ctrl-C")

		<-ctx.Done()
		fmt.Fprintln(stdout, "fake-api: shutting down")
		return srv.Close()
	}
}
