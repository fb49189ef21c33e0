package main

import (
	"context"
	"fmt"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/config"
)

// testHooks lets the end-to-end tests add routes to a real server; nil in
// the binary.
var testHooks func(*app.App)

func serve(ctx context.Context, args []string, e *env) error {
	c := newCmdline("serve", "[flags]", "Runs the server until SIGTERM or SIGINT.", e)
	if err := c.parse(args); err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	a, ln, err := start(ctx, cfg, e)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx, ln)
}

// start binds the listener first, so a port in use fails before anything
// is written; then it prepares the data directory and opens the app. Once
// it returns, the server is ready for requests (they queue on the listener
// until Serve).
func start(ctx context.Context, cfg *config.Config, e *env) (*app.App, net.Listener, error) {
	tuneGC(e.getenv)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, nil, err
	}
	var debug net.Listener
	if cfg.DebugAddr != "" {
		if debug, err = net.Listen("tcp", cfg.DebugAddr); err != nil {
			ln.Close()
			return nil, nil, fmt.Errorf("VERIGATE_DEBUG_ADDR: %w", err)
		}
	}
	closeAll := func() {
		ln.Close()
		if debug != nil {
			debug.Close()
		}
	}
	if err := cfg.Prepare(e.stderr); err != nil {
		closeAll()
		return nil, nil, err
	}
	if cfg.PublicURL == "http://"+cfg.Addr { // defaulted: name the port actually bound
		cfg.PublicURL = "http://" + ln.Addr().String()
	}
	logs := newLogBuffer(e.stderr, logFlushEvery)
	a, err := app.Open(ctx, cfg, cfg.Logger(logs))
	if err != nil {
		logs.Close()
		closeAll()
		return nil, nil, err
	}
	a.OnClose(logs.Close) // after the last line: "stopped"
	a.Debug = debug
	if testHooks != nil {
		testHooks(a)
	}
	if strings.HasPrefix(cfg.PublicURL, "https://") && len(cfg.TrustedProxies) == 0 {
		// Verigate serves plain HTTP: HTTPS ends at a proxy, whose
		// X-Forwarded-Proto is believed only when it is trusted.
		a.Log.Warn("VERIGATE_PUBLIC_URL is https but VERIGATE_TRUSTED_PROXIES is empty: the dashboard's cookie will not be Secure, and per-address limits count the proxy's address; set it to your proxy's address")
	}
	a.Log.Info("verigate ready", "version", app.Version, "addr", ln.Addr().String(), "database", a.DB.Dialect(),
		"public_url", cfg.PublicURL)
	return a, ln, nil
}

// logFlushEvery bounds how long a log line waits in the buffer.
const logFlushEvery = 50 * time.Millisecond

// gcPercent is the server's GOGC unless the environment sets one: its live
// heap is small (tens of MB), so the default 100 collects very often under
// load; 300 cut GC's share enough to raise the embedded-token read 15 %
// and the status read 3 % in make bench, for a few MB more under load.
const gcPercent = 300

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
