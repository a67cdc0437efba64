package main

import (
	"errors"
	"flag"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/stackhouse/stackhouse/sync"
)

// defaultConfigPath is used when neither -config nor STACKHOUSE_CONFIG is set.
const defaultConfigPath = "stackhouse.yaml"

func configFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("STACKHOUSE_CONFIG")
	if def == "" {
		def = defaultConfigPath
	}
	return fs.String("config", def, "config file (env STACKHOUSE_CONFIG)")
}

// loadConfig reads the config file, expanding ${VAR} from the environment.
func loadConfig(path string) (*sync.Config, error) {
	cfg, err := sync.LoadConfig(path, os.LookupEnv)
	return cfg, configHint(path, err)
}

// loadConfigForRead reads the config file for a command that only reads the
// warehouse (query, report, status, export): account tokens and webhook
// secrets, and the environment variables they name, are not needed.
func loadConfigForRead(path string) (*sync.Config, error) {
	cfg, err := sync.LoadConfigForRead(path, os.LookupEnv)
	return cfg, configHint(path, err)
}

// configHint adds a hint to the error of a missing config file.
func configHint(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return withHint(err, "copy config.example.yaml to "+path+" and fill in your account, or pass -config FILE; 'stackhouse demo' needs no config")
	}
	return err
}

// newLogger returns a text logger on a terminal and a JSON logger otherwise
// (daemons, pipes), at the configured level; LOG_LEVEL overrides it.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	if env := os.Getenv("LOG_LEVEL"); env != "" {
		level = env
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: durationSeconds}
	if format == "json" || (format != "text" && !isTerminal(w)) {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// durationSeconds writes a duration attribute as seconds under its key with
// "_s" appended ("took_s": 0.089), so JSON logs do not carry integer
// nanoseconds and text logs read the same.
func durationSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindDuration {
		return a
	}
	return slog.Float64(a.Key+"_s", math.Round(a.Value.Duration().Seconds()*1000)/1000)
}
