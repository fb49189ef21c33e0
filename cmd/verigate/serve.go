package main

import (
	"context"
	"net"

	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/config"
)

// testHooks lets the end-to-end tests add routes to a real server; nil in
// the binary.
var testHooks func(*app.App)

func serve(ctx context.Context, args []string, e *env) error {
	fs, load := flags("serve", e)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := load()
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

// start binds the listener, then opens the app; once it returns, the
// server is ready for requests (they queue on the listener until Serve).
func start(ctx context.Context, cfg *config.Config, e *env) (*app.App, net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, nil, err
	}
	if cfg.PublicURL == "http://"+cfg.Addr { // defaulted: name the port actually bound
		cfg.PublicURL = "http://" + ln.Addr().String()
	}
	a, err := app.Open(ctx, cfg, cfg.Logger(e.stderr))
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	if testHooks != nil {
		testHooks(a)
	}
	a.Log.Info("verigate ready", "version", app.Version, "addr", ln.Addr().String(), "database", a.DB.Dialect(),
		"public_url", cfg.PublicURL)
	return a, ln, nil
}
