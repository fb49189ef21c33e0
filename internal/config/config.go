// Package config reads Verigate's configuration from VERIGATE_*
// environment variables, with flags for the common ones. Every secret can
// instead be read from a file named by its *_FILE variable.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration.
type Config struct {
	Addr        string // listen address
	PublicURL   string // base URL put in links (default http://Addr)
	DataDir     string
	DatabaseURL string // postgres://… or an SQLite file path
	SecretKey   string // signs and encrypts; generated into DataDir when absent
	LogFormat   string // json or text
	LogLevel    slog.Level
	RedisURL    string
	BodyLimit   int64
	// DatabaseMaxConns bounds PostgreSQL's connection pool (0: the
	// store's default, sized for the cores).
	DatabaseMaxConns int
	// SQLiteSynchronous is SQLite's synchronous pragma (FULL by default).
	SQLiteSynchronous string
	ShutdownTimeout   time.Duration

	DeeplinkURL          string
	ReclaimAppID         string
	ReclaimAttestors     []string
	ReclaimMinSignatures int
	ReclaimMaxAge        time.Duration

	// SessionMaxAge caps an SSO token's or Embedded user token's life
	// after sign-in, however much it is used.
	SessionMaxAge time.Duration

	// DebugAddr, when set, serves pprof on its own listener: an operator's
	// port, never the public one.
	DebugAddr string
	// CredentialCacheTTL is how long a verified credential is reused
	// without reading the database again (0: never).
	CredentialCacheTTL time.Duration

	// Webhook delivery: whether endpoints may be plain http in live mode
	// or private addresses, how long a rotated secret still signs, and
	// how long events are kept.
	WebhookAllowHTTP, WebhookAllowPrivate bool
	WebhookRotationOverlap                time.Duration
	EventRetention                        time.Duration

	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (empty: nobody's).
	TrustedProxies []netip.Prefix

	// SecretKeyGenerated is set when Load made a new secret key.
	SecretKeyGenerated bool
}

// Variable documents one setting; Vars is the table the README shows.
type Variable struct {
	Name, Flag, Default, Description string
	Secret                           bool // also read from NAME_FILE
}

// Vars lists every setting.
var Vars = []Variable{
	{"VERIGATE_ADDR", "addr", "127.0.0.1:8080", "Address to listen on.", false},
	{"VERIGATE_PUBLIC_URL", "public-url", "http://<VERIGATE_ADDR>", "Base URL of this server as applicants and partners reach it; used in links.", false},
	{"VERIGATE_DATA_DIR", "data-dir", "./verigate-data", "Directory for the SQLite database and the generated secret key.", false},
	{"VERIGATE_DATABASE_URL", "database-url", "<data dir>/verigate.db", "An SQLite file path, or a postgres:// URL to use PostgreSQL.", true},
	{"VERIGATE_SECRET_KEY", "", "generated into <data dir>/secret.key", "At least 32 characters; derives the keys that sign and encrypt. Keep it across restarts and replicas.", true},
	{"VERIGATE_LOG_FORMAT", "log-format", "text", "Log format: text or json.", false},
	{"VERIGATE_LOG_LEVEL", "log-level", "info", "Log level: debug, info, warn or error.", false},
	{"VERIGATE_REDIS_URL", "", "(none: in-memory)", "redis:// URL for rate limits and realtime fan-out across replicas.", true},
	{"VERIGATE_BODY_LIMIT", "", "1048576", "Largest request body in bytes.", false},
	{"VERIGATE_DATABASE_MAX_CONNS", "", "4 × CPUs, at least 8", "PostgreSQL connections per process (1–1000). More than the database's cores can use only adds its context switches.", false},
	{"VERIGATE_SQLITE_SYNCHRONOUS", "", "FULL", "SQLite synchronous pragma: FULL survives power loss; NORMAL is faster and survives process crashes.", false},
	{"VERIGATE_SHUTDOWN_TIMEOUT", "", "30s", "How long SIGTERM waits for in-flight requests.", false},
	{"VERIGATE_DEEPLINK_URL", "", "<public URL>/verification-request", "Base of the deep links handed to applicants' mobile apps.", false},
	{"VERIGATE_RECLAIM_APP_ID", "", "verigate", "The Reclaim application id partners' apps request proofs with.", false},
	{"VERIGATE_RECLAIM_ATTESTORS", "", "0x244897572368eadf65bfbc5aec98d8e5443a9072", "Trusted Reclaim attestor addresses, comma-separated (test mode also trusts the sandbox attestor).", false},
	{"VERIGATE_RECLAIM_MIN_SIGNATURES", "", "1", "Trusted attestor signatures a proof needs.", false},
	{"VERIGATE_RECLAIM_MAX_AGE", "", "24h", "Oldest proof accepted (age of its timestamp).", false},
	{"VERIGATE_DEBUG_ADDR", "", "(none: off)", "Address of a separate admin listener serving /debug/pprof/ (for example 127.0.0.1:6060); never expose it.", false},
	{"VERIGATE_SESSION_MAX_AGE", "", "12h", "Longest life of an SSO token (/external) or Embedded user token (/token) after sign-in, however much it is used; between 30m and 720h.", false},
	{"VERIGATE_WEBHOOK_ALLOW_HTTP", "", "false", "Allow plain http webhook endpoints in live mode (test mode always may).", false},
	{"VERIGATE_WEBHOOK_ALLOW_PRIVATE", "", "false", "Allow webhook endpoints on loopback, private, link-local and other non-public addresses (the demo sets it for its local receiver).", false},
	{"VERIGATE_WEBHOOK_ROTATION_OVERLAP", "", "24h", "How long a rotated webhook secret still signs beside the new one (0s–720h).", false},
	{"VERIGATE_EVENT_RETENTION", "", "720h", "How long events, their webhook messages and attempts are kept (1h–8760h).", false},
	{"VERIGATE_TRUSTED_PROXIES", "", "(none)", "Comma-separated CIDRs (or addresses) of the reverse proxies in front of Verigate: only from them are X-Forwarded-For (the client address the per-address limits count) and X-Forwarded-Proto (https: Secure cookies) believed.", false},
	{"VERIGATE_CREDENTIAL_CACHE_TTL", "", "30s", "How long a verified API key or token is reused before the database is read again (0 disables; 0s–5m). Revocations and disables are honoured within 1 second on every replica whatever the TTL.", false},
}

// Error is a configuration error; the binary prints it on one line and
// exits 2.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func errorf(format string, args ...any) error { return &Error{fmt.Sprintf(format, args...)} }

// Bind registers the flags of the common settings on fs and returns the
// loader to call once fs is parsed: flags win over the environment (read
// through getenv), which wins over the defaults.
func Bind(fs *flag.FlagSet) func(getenv func(string) string) (*Config, error) {
	flags := map[string]*string{}
	for _, v := range Vars {
		if v.Flag != "" {
			flags[v.Name] = fs.String(v.Flag, "", v.Description+" ("+v.Name+")")
		}
	}
	return func(getenv func(string) string) (*Config, error) { return load(getenv, flags) }
}

// Load reads the configuration from the environment alone.
func Load(getenv func(string) string) (*Config, error) { return load(getenv, nil) }

func load(getenv func(string) string, flags map[string]*string) (*Config, error) {
	get := func(name string) (string, error) {
		if p, ok := flags[name]; ok && *p != "" {
			return *p, nil
		}
		val := getenv(name)
		if file := getenv(name + "_FILE"); file != "" {
			if val != "" {
				return "", errorf("%s and %s_FILE are both set; set one", name, name)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				return "", errorf("%s_FILE: %v", name, err)
			}
			val = strings.TrimRight(string(b), "\r\n")
		}
		return val, nil
	}
	c := &Config{}
	var err error
	str := func(name, def string) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = get(name)
		if v == "" {
			v = def
		}
		return v
	}
	c.Addr = str("VERIGATE_ADDR", "127.0.0.1:8080")
	c.DataDir = str("VERIGATE_DATA_DIR", "./verigate-data")
	c.DatabaseURL = str("VERIGATE_DATABASE_URL", "")
	c.PublicURL = str("VERIGATE_PUBLIC_URL", "")
	c.SecretKey = str("VERIGATE_SECRET_KEY", "")
	c.LogFormat = str("VERIGATE_LOG_FORMAT", "text")
	level := str("VERIGATE_LOG_LEVEL", "info")
	c.RedisURL = str("VERIGATE_REDIS_URL", "")
	bodyLimit := str("VERIGATE_BODY_LIMIT", "1048576")
	maxConns := str("VERIGATE_DATABASE_MAX_CONNS", "")
	c.SQLiteSynchronous = strings.ToUpper(str("VERIGATE_SQLITE_SYNCHRONOUS", "FULL"))
	shutdown := str("VERIGATE_SHUTDOWN_TIMEOUT", "30s")
	c.DeeplinkURL = str("VERIGATE_DEEPLINK_URL", "")
	c.ReclaimAppID = str("VERIGATE_RECLAIM_APP_ID", "verigate")
	attestors := str("VERIGATE_RECLAIM_ATTESTORS", "0x244897572368eadf65bfbc5aec98d8e5443a9072")
	minSigs := str("VERIGATE_RECLAIM_MIN_SIGNATURES", "1")
	maxAge := str("VERIGATE_RECLAIM_MAX_AGE", "24h")
	sessionMaxAge := str("VERIGATE_SESSION_MAX_AGE", "12h")
	c.DebugAddr = str("VERIGATE_DEBUG_ADDR", "")
	credentialTTL := str("VERIGATE_CREDENTIAL_CACHE_TTL", "30s")
	allowHTTP := str("VERIGATE_WEBHOOK_ALLOW_HTTP", "false")
	allowPrivate := str("VERIGATE_WEBHOOK_ALLOW_PRIVATE", "false")
	overlap := str("VERIGATE_WEBHOOK_ROTATION_OVERLAP", "24h")
	retention := str("VERIGATE_EVENT_RETENTION", "720h")
	proxies := str("VERIGATE_TRUSTED_PROXIES", "")
	if err != nil {
		return nil, err
	}
	for _, a := range strings.Split(attestors, ",") {
		a = strings.ToLower(strings.TrimSpace(a))
		if !attestorPattern.MatchString(a) {
			return nil, errorf("VERIGATE_RECLAIM_ATTESTORS: %q is not a 0x-prefixed 20-byte address", a)
		}
		c.ReclaimAttestors = append(c.ReclaimAttestors, a)
	}
	if c.ReclaimMinSignatures, err = strconv.Atoi(minSigs); err != nil || c.ReclaimMinSignatures < 1 || c.ReclaimMinSignatures > 10 {
		return nil, errorf("VERIGATE_RECLAIM_MIN_SIGNATURES %q: want 1 to 10", minSigs)
	}
	if c.ReclaimMaxAge, err = time.ParseDuration(maxAge); err != nil || c.ReclaimMaxAge <= 0 {
		return nil, errorf("VERIGATE_RECLAIM_MAX_AGE %q: want a duration such as 24h", maxAge)
	}
	if c.SessionMaxAge, err = time.ParseDuration(sessionMaxAge); err != nil || c.SessionMaxAge < 30*time.Minute || c.SessionMaxAge > 720*time.Hour {
		return nil, errorf("VERIGATE_SESSION_MAX_AGE %q: want a duration between 30m and 720h, such as 12h", sessionMaxAge)
	}
	if c.CredentialCacheTTL, err = time.ParseDuration(credentialTTL); err != nil || c.CredentialCacheTTL < 0 || c.CredentialCacheTTL > 5*time.Minute {
		return nil, errorf("VERIGATE_CREDENTIAL_CACHE_TTL %q: want a duration between 0s and 5m, such as 30s", credentialTTL)
	}
	if c.WebhookAllowHTTP, err = strconv.ParseBool(allowHTTP); err != nil {
		return nil, errorf("VERIGATE_WEBHOOK_ALLOW_HTTP %q: want true or false", allowHTTP)
	}
	if c.WebhookAllowPrivate, err = strconv.ParseBool(allowPrivate); err != nil {
		return nil, errorf("VERIGATE_WEBHOOK_ALLOW_PRIVATE %q: want true or false", allowPrivate)
	}
	if c.WebhookRotationOverlap, err = time.ParseDuration(overlap); err != nil || c.WebhookRotationOverlap < 0 || c.WebhookRotationOverlap > 720*time.Hour {
		return nil, errorf("VERIGATE_WEBHOOK_ROTATION_OVERLAP %q: want a duration between 0s and 720h, such as 24h", overlap)
	}
	if c.EventRetention, err = time.ParseDuration(retention); err != nil || c.EventRetention < time.Hour || c.EventRetention > 8760*time.Hour {
		return nil, errorf("VERIGATE_EVENT_RETENTION %q: want a duration between 1h and 8760h, such as 720h", retention)
	}
	for _, p := range strings.Split(proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, perr := netip.ParsePrefix(p)
		if perr != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, errorf("VERIGATE_TRUSTED_PROXIES: %q is not a CIDR (10.0.0.0/8) or an address", p)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}
	if c.DeeplinkURL != "" {
		if u, err := url.Parse(c.DeeplinkURL); err != nil || u.Scheme == "" {
			return nil, errorf("VERIGATE_DEEPLINK_URL %q: want an absolute URL", c.DeeplinkURL)
		}
	}

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return nil, errorf("VERIGATE_ADDR %q: want host:port", c.Addr)
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errorf("VERIGATE_PUBLIC_URL %q: want an http:// or https:// URL", c.PublicURL)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return nil, errorf("VERIGATE_LOG_FORMAT %q: want text or json", c.LogFormat)
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return nil, errorf("VERIGATE_LOG_LEVEL %q: want debug, info, warn or error", level)
	}
	if c.BodyLimit, err = strconv.ParseInt(bodyLimit, 10, 64); err != nil || c.BodyLimit < 1024 || c.BodyLimit > 1<<30 {
		return nil, errorf("VERIGATE_BODY_LIMIT %q: want a byte count between 1024 and 1073741824", bodyLimit)
	}
	if maxConns != "" {
		if c.DatabaseMaxConns, err = strconv.Atoi(maxConns); err != nil || c.DatabaseMaxConns < 1 || c.DatabaseMaxConns > 1000 {
			return nil, errorf("VERIGATE_DATABASE_MAX_CONNS %q: want a number of connections between 1 and 1000", maxConns)
		}
	}
	switch c.SQLiteSynchronous {
	case "OFF", "NORMAL", "FULL", "EXTRA":
	default:
		return nil, errorf("VERIGATE_SQLITE_SYNCHRONOUS %q: want OFF, NORMAL, FULL or EXTRA", c.SQLiteSynchronous)
	}
	if c.ShutdownTimeout, err = time.ParseDuration(shutdown); err != nil || c.ShutdownTimeout < 0 {
		return nil, errorf("VERIGATE_SHUTDOWN_TIMEOUT %q: want a duration such as 30s", shutdown)
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			return nil, errorf("VERIGATE_REDIS_URL: want a redis:// or rediss:// URL")
		}
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "verigate.db")
	} else if strings.Contains(c.DatabaseURL, "://") && !strings.HasPrefix(c.DatabaseURL, "postgres://") &&
		!strings.HasPrefix(c.DatabaseURL, "postgresql://") && !strings.HasPrefix(c.DatabaseURL, "sqlite://") {
		return nil, errorf("VERIGATE_DATABASE_URL: want a postgres:// URL or an SQLite file path")
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		return nil, errorf("VERIGATE_SECRET_KEY: must be at least 32 characters")
	}
	return c, nil
}

var attestorPattern = regexp.MustCompile(`^0x[0-9a-f]{40}$`)

// Postgres reports whether the database is PostgreSQL.
func (c *Config) Postgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

// Prepare creates the data directory (for SQLite) and, when no secret key
// was given, reads or generates DataDir/secret.key.
func (c *Config) Prepare(log io.Writer) error {
	if !c.Postgres() || c.SecretKey == "" {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return errorf("VERIGATE_DATA_DIR: %v", err)
		}
	}
	if c.SecretKey != "" {
		return nil
	}
	path := filepath.Join(c.DataDir, "secret.key")
	b, err := os.ReadFile(path)
	if err == nil {
		c.SecretKey = strings.TrimSpace(string(b))
		if len(c.SecretKey) < 32 {
			return errorf("%s: the secret key must be at least 32 characters", path)
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return errorf("%s: %v", path, err)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	c.SecretKey = base64.RawURLEncoding.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process made it first
			c.SecretKey = ""
			return c.Prepare(log)
		}
		return errorf("%s: %v", path, err)
	}
	if _, err := f.WriteString(c.SecretKey + "\n"); err != nil {
		f.Close()
		return errorf("%s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		return errorf("%s: %v", path, err)
	}
	c.SecretKeyGenerated = true
	fmt.Fprintf(log, "warning: VERIGATE_SECRET_KEY is not set; generated one into %s. Back it up, and set VERIGATE_SECRET_KEY (or VERIGATE_SECRET_KEY_FILE) on every replica.\n", path)
	return nil
}

// Logger returns the logger the configuration asks for, writing to w.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
