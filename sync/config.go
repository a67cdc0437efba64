package sync

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse/s3"
)

// Config is stackhouse's configuration file. Load it with LoadConfig or
// DefaultConfig + ParseConfig; both validate.
type Config struct {
	LogLevel  string              `yaml:"log_level"`
	LogFormat string              `yaml:"log_format"` // auto, text, json
	Warehouse WarehouseConfig     `yaml:"warehouse"`
	Publish   PublishConfig       `yaml:"publish"`
	Accounts  []AccountConfig     `yaml:"accounts"`
	Funnel    []schema.FunnelRule `yaml:"funnel"`
	Schedule  ScheduleConfig      `yaml:"schedule"`
	Server    ServerConfig        `yaml:"server"`

	// MaxDeletionShare is the largest share of an account's live
	// candidates one complete scan may mark deleted; a larger drop is held
	// back with a warning (the API may be misbehaving). 1 allows any.
	MaxDeletionShare float64 `yaml:"max_deletion_share"`

	// AccountsDir adds one account per *.yaml file in the directory (the
	// keys of an accounts[] entry); see accounts.go.
	AccountsDir string `yaml:"accounts_dir"`
	// TokensFile is a YAML map of subdomain → token: it gives accounts
	// without a token theirs, and adds an account with default settings
	// for each subdomain no other entry names.
	TokensFile string `yaml:"tokens_file"`

	withoutSecrets bool // loaded by LoadConfigForRead: no token is required
}

// WarehouseConfig says where the warehouse and its published copies live.
type WarehouseConfig struct {
	Path           string `yaml:"path"`            // the live DuckDB file, locked by its writer
	PublishedPath  string `yaml:"published_path"`  // read-only copy for BI tools ("" = none)
	ParquetDir     string `yaml:"parquet_dir"`     // hive-partitioned Parquet ("" = none)
	AttachmentsDir string `yaml:"attachments_dir"` // content-addressed file store
	// MemoryLimit caps DuckDB's memory (its own default is 80% of RAM,
	// which a daemon should not claim); "" leaves DuckDB's default.
	MemoryLimit string `yaml:"memory_limit"`
	// Threads caps DuckDB's worker threads; 0 leaves DuckDB's default (one
	// per core), at most one per warehouse.MemoryPerThread of memory_limit:
	// each thread needs its own working memory.
	Threads int `yaml:"threads"`
	// CopyInterval is the least time between two replacements of the
	// read-only copy after runs (see Syncer.CopyInterval; a copy that took
	// long keeps the next for warehouse.CopyCostRatio times as long);
	// export always replaces it when the data changed.
	CopyInterval time.Duration `yaml:"copy_interval"`
}

// DSN is the DuckDB data source name of the live warehouse: its path with
// the configured settings. Settings the path already carries as a query
// string ("wh.duckdb?threads=1") are kept, and win over the fields.
func (w WarehouseConfig) DSN() string {
	path, query, _ := strings.Cut(w.Path, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return w.Path // DuckDB names the bad setting when it opens
	}
	if w.MemoryLimit != "" && !q.Has("memory_limit") {
		q.Set("memory_limit", w.MemoryLimit)
	}
	if w.Threads > 0 && !q.Has("threads") {
		q.Set("threads", strconv.Itoa(w.Threads))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// PublishConfig is the object store the Parquet tree is uploaded to after
// every publish. Credentials are never part of it: they come from the
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE and
// the shared files, a Kubernetes service account's web identity, the
// instance role).
type PublishConfig struct {
	URL       string `yaml:"url"`        // s3://bucket/prefix; "" = local only
	Endpoint  string `yaml:"endpoint"`   // an S3-compatible store (MinIO, R2, GCS); "" = AWS
	Region    string `yaml:"region"`     // "" = AWS_REGION or the shared config's, else us-east-1
	PathStyle bool   `yaml:"path_style"` // bucket in the path, not the host name (MinIO)
}

// AccountConfig is one ApplicantStack account.
type AccountConfig struct {
	Name              string                `yaml:"name"`      // display name; defaults to the subdomain
	Subdomain         string                `yaml:"subdomain"` // the account_id in every table
	Token             applicantstack.Secret `yaml:"token"`
	TokenFile         string                `yaml:"token_file"` // the token is this file's content (a mounted Secret)
	BaseURL           string                `yaml:"base_url"`
	TimeZone          string                `yaml:"timezone"`
	RequestsPerSecond float64               `yaml:"requests_per_second"`
	Burst             int                   `yaml:"burst"`
	Concurrency       int                   `yaml:"concurrency"`
	WebhookSecret     applicantstack.Secret `yaml:"webhook_secret"`
	WebhookSecretFile string                `yaml:"webhook_secret_file"`
	Hires             *bool                 `yaml:"hires"`
	Attachments       *bool                 `yaml:"attachments"`
	Funnel            []schema.FunnelRule   `yaml:"funnel"` // checked before the global rules
	// InitialStage is the stage an application enters when it arrives (the
	// "Application received" note); default "New".
	InitialStage string `yaml:"initial_stage"`

	// where names the entry in errors: accounts[1], accounts_dir/acme.yaml
	// or tokens_file[acme]; "" means accounts[i].
	where string
	// fromFile records which secrets were read from their _file, so that
	// validation can tell them from ones also set inline.
	tokenFromFile, secretFromFile bool
}

// ScheduleConfig drives `stackhouse serve`: standard cron expressions or
// "@every 5m".
type ScheduleConfig struct {
	Tail   string        `yaml:"tail"`   // cheap pass over the last pages and pending webhook refreshes
	Sync   string        `yaml:"sync"`   // incremental sync
	Full   string        `yaml:"full"`   // full scan, the only kind that marks deletions
	Jitter time.Duration `yaml:"jitter"` // random per-account delay before each run
}

// ServerConfig is the HTTP listener of `stackhouse serve` (webhooks, health,
// metrics) and its shutdown.
type ServerConfig struct {
	Listen          string        `yaml:"listen"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Defaults for fields left empty.
const (
	DefaultWarehousePath = "data/stackhouse.duckdb"
	DefaultListen        = "127.0.0.1:8080"
	DefaultTimeZone      = "America/New_York"
	DefaultInitialStage  = "New"
	DefaultMemoryLimit   = "256MB"
	DefaultCopyInterval  = 30 * time.Second
	// DefaultMaxDeletionShare is Config.MaxDeletionShare's default.
	DefaultMaxDeletionShare = 0.2
)

// DefaultConfig returns a configuration with every default filled in and
// no accounts.
func DefaultConfig() *Config {
	return &Config{
		LogLevel:  "info",
		LogFormat: "auto",
		Warehouse: WarehouseConfig{
			Path:           DefaultWarehousePath,
			PublishedPath:  "data/stackhouse-published.duckdb",
			ParquetDir:     "data/parquet",
			AttachmentsDir: "data/attachments",
			MemoryLimit:    DefaultMemoryLimit,
			CopyInterval:   DefaultCopyInterval,
		},
		Schedule: ScheduleConfig{Tail: "@every 5m", Sync: "@every 1h", Full: "30 2 * * *", Jitter: 10 * time.Second},
		Server:   ServerConfig{Listen: DefaultListen, ShutdownTimeout: 30 * time.Second},

		MaxDeletionShare: DefaultMaxDeletionShare,
	}
}

// withDefaults fills an account's empty fields.
func (a *AccountConfig) withDefaults() {
	if a.Name == "" {
		a.Name = a.Subdomain
	}
	if a.BaseURL == "" {
		a.BaseURL = applicantstack.DefaultBaseURL
	}
	if a.TimeZone == "" {
		a.TimeZone = DefaultTimeZone
	}
	if a.RequestsPerSecond == 0 {
		a.RequestsPerSecond = applicantstack.DefaultRequestsPerSecond
	}
	if a.Burst == 0 {
		a.Burst = applicantstack.DefaultBurst
	}
	if a.Concurrency == 0 {
		a.Concurrency = applicantstack.DefaultConcurrency
	}
	if a.InitialStage == "" {
		a.InitialStage = DefaultInitialStage
	}
	if a.Hires == nil {
		a.Hires = ptr(true)
	}
	if a.Attachments == nil {
		a.Attachments = ptr(true)
	}
}

func ptr[T any](v T) *T { return &v }

// HiresEnabled reports whether hires are synced for the account.
func (a *AccountConfig) HiresEnabled() bool { return a.Hires == nil || *a.Hires }

// AttachmentsEnabled reports whether files are downloaded for the account.
func (a *AccountConfig) AttachmentsEnabled() bool { return a.Attachments == nil || *a.Attachments }

// Location returns the account's time zone (validated at load).
func (a *AccountConfig) Location() *time.Location {
	loc, err := time.LoadLocation(a.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Client returns an API client for the account.
func (a *AccountConfig) Client() *applicantstack.Client {
	c := applicantstack.NewClient(a.Subdomain, a.Token)
	c.BaseURL = a.BaseURL
	c.RequestsPerSecond = a.RequestsPerSecond
	c.Burst = a.Burst
	c.Concurrency = a.Concurrency
	return c
}

// FunnelRules returns the account's rules followed by the global ones and
// then the defaults.
func (c *Config) FunnelRules(a *AccountConfig) schema.FunnelRules {
	rules := append([]schema.FunnelRule{}, a.Funnel...)
	rules = append(rules, c.Funnel...)
	return append(schema.FunnelRules(rules), schema.DefaultFunnelRules()...)
}

// Account returns the account with the given subdomain or name.
func (c *Config) Account(name string) (*AccountConfig, error) {
	var names []string
	for i := range c.Accounts {
		a := &c.Accounts[i]
		if a.Subdomain == name || a.Name == name {
			return a, nil
		}
		names = append(names, a.Subdomain)
	}
	return nil, fmt.Errorf("no account %q in the config (have: %s)", name, strings.Join(names, ", "))
}

// LoadConfig reads, expands and validates a configuration file. lookup
// resolves ${VAR} references (os.LookupEnv in main).
func LoadConfig(path string, lookup func(string) (string, bool)) (*Config, error) {
	return loadConfig(path, lookup, false)
}

// LoadConfigForRead is LoadConfig for commands that only read the
// warehouse (query, report, status, export, lake): it ignores the accounts'
// token, webhook_secret, token_file and webhook_secret_file (in the file
// and in accounts_dir), so neither they, the environment variables they
// name nor the files they name need to be set or exist; tokens_file only
// adds its subdomains as accounts, and is skipped when it is missing or
// unreadable. The accounts it returns carry no secrets and cannot sync.
func LoadConfigForRead(path string, lookup func(string) (string, bool)) (*Config, error) {
	return loadConfig(path, lookup, true)
}

func loadConfig(path string, lookup func(string) (string, bool), forRead bool) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, err := parseConfig(f, lookup, forRead)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes a YAML configuration strictly (unknown keys are
// errors) over DefaultConfig, expands ${VAR} references in string values
// with lookup, fills account defaults, and validates.
func ParseConfig(r io.Reader, lookup func(string) (string, bool)) (*Config, error) {
	return parseConfig(r, lookup, false)
}

// decodeStrict decodes the YAML document data into v strictly (an unknown
// key is an error naming its field), with ${VAR} references in string
// values expanded by lookup; drop, when set, first removes nodes (secrets)
// from the document. An empty document is io.EOF.
func decodeStrict(data []byte, lookup func(string) (string, bool), drop func(*yaml.Node), v any) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return err
	}
	if drop != nil {
		drop(&root)
	}
	if err := expandNode(&root, "", lookup); err != nil {
		return err
	}
	blockStyle(&root) // one value a line, so that a decoding error's line names one field
	expanded, err := yaml.Marshal(&root)
	if err != nil {
		return fmt.Errorf("yaml: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return err
		}
		return fieldErrors(err, expanded, &root)
	}
	return nil
}

func parseConfig(r io.Reader, lookup func(string) (string, bool), forRead bool) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	var drop func(*yaml.Node)
	if forRead {
		drop = dropSecrets
	}
	cfg := DefaultConfig()
	cfg.withoutSecrets = forRead
	if err := decodeStrict(data, lookup, drop, cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := cfg.loadAccounts(lookup); err != nil {
		return nil, err
	}
	if err := FinishConfig(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// FinishConfig reads the accounts' token_file and webhook_secret_file,
// fills account defaults and validates a configuration built in code
// (ParseConfig does this itself).
func FinishConfig(cfg *Config) error {
	for i := range cfg.Accounts {
		if err := cfg.Accounts[i].readSecretFiles(); err != nil {
			return fmt.Errorf("%s.%w", cfg.Accounts[i].name(i), err)
		}
		cfg.Accounts[i].withDefaults()
	}
	return cfg.Validate()
}

// dropSecrets removes every account's secrets (token, webhook_secret,
// token_file and webhook_secret_file) from a parsed configuration, before
// ${VAR} expansion.
func dropSecrets(doc *yaml.Node) {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return
	}
	top := doc.Content[0].Content
	for i := 0; i+1 < len(top); i += 2 {
		if top[i].Value != "accounts" || top[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for _, acc := range top[i+1].Content {
			dropAccountSecrets(acc)
		}
	}
}

// secretKeys are the keys of an account entry that hold or name a secret.
var secretKeys = []string{"token", "webhook_secret", "token_file", "webhook_secret_file"}

// dropAccountSecrets removes the secretKeys from one account's mapping.
func dropAccountSecrets(acc *yaml.Node) {
	if acc.Kind != yaml.MappingNode {
		return
	}
	var kept []*yaml.Node
	for j := 0; j+1 < len(acc.Content); j += 2 {
		if !slices.Contains(secretKeys, acc.Content[j].Value) {
			kept = append(kept, acc.Content[j], acc.Content[j+1])
		}
	}
	acc.Content = kept
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandNode replaces ${VAR} in scalar values (not keys), naming the field
// when a variable is unset. "$${" escapes a literal "${".
func expandNode(n *yaml.Node, path string, lookup func(string) (string, bool)) error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := expandNode(c, path, lookup); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			p := key
			if path != "" {
				p = path + "." + key
			}
			if err := expandNode(n.Content[i+1], p, lookup); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := expandNode(c, fmt.Sprintf("%s[%d]", path, i), lookup); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return nil
		}
		var missing string
		v := strings.ReplaceAll(n.Value, "$${", "\x00")
		v = envRef.ReplaceAllStringFunc(v, func(m string) string {
			name := envRef.FindStringSubmatch(m)[1]
			val, ok := lookup(name)
			if !ok && missing == "" {
				missing = name
			}
			return val
		})
		if missing != "" {
			return fmt.Errorf("%s: environment variable %s is not set", path, missing)
		}
		n.Value = strings.ReplaceAll(v, "\x00", "${")
		n.Tag = "!!str" // a secret with ": " or "#" in it stays one string
		if n.Style == 0 && looksScalar(n.Value) {
			n.Tag = "" // a plain number or bool from the environment decodes as one
		}
	}
	return nil
}

func looksScalar(v string) bool {
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return true
	}
	_, err := strconv.ParseBool(v)
	return err == nil
}

var memoryRE = regexp.MustCompile(`^(?i)\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$`)

var subdomainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Validate checks the configuration and returns an error naming the first
// bad field, e.g. "accounts[1].token: required".
func (c *Config) Validate() error {
	if _, err := ParseLogLevel(c.LogLevel); err != nil {
		return fmt.Errorf("log_level: %w", err)
	}
	switch c.LogFormat {
	case "auto", "text", "json":
	default:
		return fmt.Errorf("log_format: %q is not auto, text or json", c.LogFormat)
	}
	if c.Warehouse.Path == "" {
		return errors.New("warehouse.path: required")
	}
	if m := c.Warehouse.MemoryLimit; m != "" && !validMemory(m) {
		return fmt.Errorf("warehouse.memory_limit: %q is not a size like 512MB or 2GB", m)
	}
	if c.Warehouse.CopyInterval < 0 {
		return fmt.Errorf("warehouse.copy_interval: %v is negative", c.Warehouse.CopyInterval)
	}
	if c.Warehouse.Threads < 0 {
		return fmt.Errorf("warehouse.threads: %d is negative (0 means one per core)", c.Warehouse.Threads)
	}
	if c.Warehouse.PublishedPath != "" && c.Warehouse.PublishedPath == c.Warehouse.Path {
		return errors.New("warehouse.published_path: must differ from warehouse.path")
	}
	if err := c.Publish.validate(c.Warehouse); err != nil {
		return err
	}
	if d := c.MaxDeletionShare; !(d > 0 && d <= 1) {
		return fmt.Errorf("max_deletion_share: %v is not in (0, 1] (0.2 holds back a scan that would delete over 20%% of an account)", d)
	}
	if len(c.Accounts) == 0 {
		return errors.New("accounts: at least one account is required (accounts, accounts_dir or tokens_file)")
	}
	seen := map[string]int{}
	for i := range c.Accounts {
		if err := c.Accounts[i].validate(!c.withoutSecrets); err != nil {
			return fmt.Errorf("%s.%w", c.Accounts[i].name(i), err)
		}
		s := c.Accounts[i].Subdomain
		if j, dup := seen[s]; dup {
			return fmt.Errorf("%s.subdomain: %q repeats %s", c.Accounts[i].name(i), s, c.Accounts[j].name(j))
		}
		seen[s] = i
	}
	if err := schema.FunnelRules(c.Funnel).Validate(); err != nil {
		return fmt.Errorf("funnel: %w", err)
	}
	for _, s := range []struct{ name, expr string }{{"tail", c.Schedule.Tail}, {"sync", c.Schedule.Sync}, {"full", c.Schedule.Full}} {
		if s.expr == "" {
			continue
		}
		if err := checkSchedule(s.expr); err != nil {
			return fmt.Errorf("schedule.%s: %q: %v", s.name, s.expr, err)
		}
	}
	if c.Schedule.Jitter < 0 {
		return errors.New("schedule.jitter: must not be negative")
	}
	if _, port, err := net.SplitHostPort(c.Server.Listen); err != nil || !validPort(port) {
		return fmt.Errorf("server.listen: %q is not host:port (like 127.0.0.1:8080 or :8080)", c.Server.Listen)
	}
	if c.Server.ShutdownTimeout <= 0 {
		return errors.New("server.shutdown_timeout: must be positive")
	}
	return nil
}

// ParseLogLevel reads a log level: debug, info, warn or error, in any case.
func ParseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
}

// checkSchedule parses a cron expression as the daemon will. cron runs an
// "@every" interval under a second, zero or negative every second, and
// drops its fraction of a second: each is refused rather than silently
// turned into another schedule.
func checkSchedule(expr string) error {
	if rest, ok := strings.CutPrefix(expr, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		switch {
		case err != nil:
			return errors.New("the interval is not a duration (like @every 5m or @every 1h30m)")
		case d < time.Second:
			return errors.New("the interval must be at least 1s (like @every 5m)")
		case d%time.Second != 0:
			return errors.New("the interval must be whole seconds")
		}
	}
	_, err := cron.ParseStandard(expr)
	return err
}

// validMemory reports whether m is a size DuckDB accepts as memory_limit,
// above zero (DuckDB could do nothing within 0MB).
func validMemory(m string) bool {
	if !memoryRE.MatchString(m) {
		return false
	}
	n, err := strconv.ParseFloat(strings.TrimRight(m, "BKMGTiBbkmgti \t"), 64)
	return err == nil && n > 0
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

func (p PublishConfig) validate(w WarehouseConfig) error {
	if p.URL == "" {
		if p.Endpoint != "" || p.Region != "" || p.PathStyle {
			return errors.New("publish.url: required with publish.endpoint, region or path_style")
		}
		return nil
	}
	if _, err := s3.NewBucket(p.URL); err != nil {
		return fmt.Errorf("publish.url: %w", err)
	}
	if w.ParquetDir == "" {
		return errors.New("publish.url: needs warehouse.parquet_dir, the local tree it uploads")
	}
	if p.Endpoint != "" {
		u, err := url.Parse(p.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return errors.New("publish.endpoint: not an http(s) URL without credentials (like https://minio.example:9000)")
		}
	}
	return nil
}

func (a *AccountConfig) validate(needToken bool) error {
	switch {
	case a.Subdomain == "":
		return errors.New("subdomain: required")
	case !subdomainRE.MatchString(a.Subdomain):
		return fmt.Errorf("subdomain: %q is not a subdomain (lowercase letters, digits, dashes)", a.Subdomain)
	case a.TokenFile != "" && !a.tokenFromFile:
		return errors.New("token_file: set token or token_file, not both")
	case a.WebhookSecretFile != "" && !a.secretFromFile:
		return errors.New("webhook_secret_file: set webhook_secret or webhook_secret_file, not both")
	case a.Token == "" && needToken:
		return errors.New("token: required (from the environment, token: ${ACME_TOKEN}, or a file, token_file: /run/secrets/acme)")
	}
	u, err := url.Parse(strings.ReplaceAll(a.BaseURL, "{subdomain}", a.Subdomain))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base_url: %q is not an http(s) URL", a.BaseURL)
	}
	if _, err := time.LoadLocation(a.TimeZone); err != nil {
		return fmt.Errorf("timezone: %q is not an IANA time zone (like America/Chicago)", a.TimeZone)
	}
	for _, s := range []struct {
		name  string
		value applicantstack.Secret
	}{{"token", a.Token}, {"webhook_secret", a.WebhookSecret}} {
		// Never quote the value: it is a secret.
		v := s.value.Reveal()
		switch {
		case v != strings.TrimSpace(v):
			return fmt.Errorf("%s: has white space at its start or end; remove it (ApplicantStack compares it exactly)", s.name)
		case strings.IndexFunc(v, unicode.IsControl) >= 0:
			return fmt.Errorf("%s: holds control characters", s.name)
		}
	}
	switch {
	case a.RequestsPerSecond < 0 || math.IsNaN(a.RequestsPerSecond) || math.IsInf(a.RequestsPerSecond, 0):
		return errors.New("requests_per_second: must be a positive number (like 5)")
	case a.Burst < 1:
		return errors.New("burst: must be at least 1")
	case a.Concurrency < 1 || a.Concurrency > 64:
		return errors.New("concurrency: must be between 1 and 64")
	}
	if err := schema.FunnelRules(a.Funnel).Validate(); err != nil {
		return fmt.Errorf("funnel: %w", err)
	}
	return nil
}

// ParseShard reads "i/n" (0 ≤ i < n).
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		i, err = strconv.Atoi(a)
		if err == nil {
			n, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("shard %q: want i/n with 0 ≤ i < n, like 0/4", s)
	}
	return i, n, nil
}
