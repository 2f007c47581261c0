// Package config reads Herald's settings from flags and HERALD_*
// environment variables (a flag wins over the variable), fills defaults and
// checks them. Nothing here is global: the composition root passes a Config
// to whatever needs a setting.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Config is every setting of a Herald process.
type Config struct {
	Addr        string        // HERALD_ADDR
	DataDir     string        // HERALD_DATA_DIR
	DatabaseURL string        // HERALD_DATABASE_URL
	PublicURL   string        // HERALD_PUBLIC_URL
	SecretKey   string        // HERALD_SECRET_KEY
	Demo        bool          // HERALD_DEMO
	LogLevel    string        // HERALD_LOG_LEVEL
	LogFormat   string        // HERALD_LOG_FORMAT
	Simulator   bool          // HERALD_SIMULATOR
	SimDelay    time.Duration // HERALD_SIM_DELAY
	// TrustedProxies (HERALD_TRUSTED_PROXIES) lists the reverse proxies
	// whose X-Forwarded-For names a visitor; Proxies parses it.
	TrustedProxies string
}

// Setting documents one setting; the README's table is made from these.
type Setting struct {
	Env, Flag, Default, Help string
}

// Settings lists every setting with its default. A derived default (the
// public URL) is empty here and filled in by Validate.
var Settings = []Setting{
	{"HERALD_ADDR", "addr", "127.0.0.1:8080", "address the HTTP server listens on"},
	{"HERALD_DATA_DIR", "data-dir", "herald-data", "where the SQLite database and other local files live"},
	{"HERALD_DATABASE_URL", "database-url", "", "a postgres:// URL selects PostgreSQL; empty means SQLite in the data dir"},
	{"HERALD_PUBLIC_URL", "public-url", "", "the URL carriers and browsers reach this server at, used for callbacks and signature checks (default http:// and the listen address)"},
	{"HERALD_SECRET_KEY", "secret-key", "", "key that encrypts carrier credentials at rest (default: one made and kept in the data dir)"},
	{"HERALD_DEMO", "demo", "false", "seed a demo account and print its API key"},
	{"HERALD_LOG_LEVEL", "log-level", "info", "debug, info, warn or error"},
	{"HERALD_LOG_FORMAT", "log-format", "text", "text or json"},
	{"HERALD_SIMULATOR", "simulator", "true", "serve the built-in Twilio-compatible carrier simulator under /sim/"},
	{"HERALD_SIM_DELAY", "sim-delay", "1s", "how long the simulator waits before each status callback"},
	{"HERALD_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated addresses or CIDR ranges of the reverse proxies in front of Herald; their X-Forwarded-For names the visitor for the enrollment form's rate limit and consent evidence"},
}

// Bind registers the settings as flags on fs, each defaulting to its
// environment variable when set. getenv is os.Getenv outside tests.
func Bind(fs *flag.FlagSet, getenv func(string) string) *Config {
	c := &Config{}
	texts := map[string]*string{
		"HERALD_ADDR": &c.Addr, "HERALD_DATA_DIR": &c.DataDir, "HERALD_DATABASE_URL": &c.DatabaseURL,
		"HERALD_PUBLIC_URL": &c.PublicURL, "HERALD_SECRET_KEY": &c.SecretKey,
		"HERALD_LOG_LEVEL": &c.LogLevel, "HERALD_LOG_FORMAT": &c.LogFormat,
		"HERALD_TRUSTED_PROXIES": &c.TrustedProxies,
	}
	for _, s := range Settings {
		def := s.Default
		if v := getenv(s.Env); v != "" {
			def = v
		}
		help := s.Help + " (" + s.Env + ")"
		if dst, ok := texts[s.Env]; ok {
			fs.StringVar(dst, s.Flag, def, help)
			continue
		}
		switch s.Env {
		case "HERALD_SIM_DELAY":
			d, _ := time.ParseDuration(def)
			fs.DurationVar(&c.SimDelay, s.Flag, d, help)
		case "HERALD_SIMULATOR":
			fs.BoolVar(&c.Simulator, s.Flag, def == "1" || def == "true", help)
		default:
			fs.BoolVar(&c.Demo, s.Flag, def == "1" || def == "true", help)
		}
	}
	return c
}

// Validate fills derived defaults and refuses settings that cannot work.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("HERALD_ADDR %q: want host:port: %w", c.Addr, err))
	}
	if c.PublicURL == "" {
		host := c.Addr
		if strings.HasPrefix(host, ":") || strings.HasPrefix(host, "0.0.0.0:") {
			_, port, _ := net.SplitHostPort(host)
			host = "127.0.0.1:" + port
		}
		c.PublicURL = "http://" + host
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("HERALD_PUBLIC_URL %q: want an http(s) URL", c.PublicURL))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, fmt.Errorf("HERALD_DATABASE_URL: want a postgres:// URL, or leave it empty for SQLite"))
	}
	if _, err := c.Level(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.Proxies(); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("HERALD_LOG_FORMAT %q: want text or json", c.LogFormat))
	}
	return errors.Join(errs...)
}

// Proxies are the trusted reverse proxies' address ranges, from a
// comma-separated list of addresses and CIDR ranges; a bare address is a
// range of one.
func (c *Config) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("HERALD_TRUSTED_PROXIES: %q is not an address or CIDR range", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Level is the configured log level.
func (c *Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return l, fmt.Errorf("HERALD_LOG_LEVEL %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}
