// Package app wires Verigate together: the store, the services, and the
// server with every surface mounted. The binary, the demo and the
// end-to-end tests all run an App.
package app

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/dashapi"
	"github.com/verigate/verigate/internal/api/embedded"
	"github.com/verigate/verigate/internal/api/external"
	"github.com/verigate/verigate/internal/api/partner"
	v1 "github.com/verigate/verigate/internal/api/v1"
	"github.com/verigate/verigate/internal/calls"
	"github.com/verigate/verigate/internal/config"
	"github.com/verigate/verigate/internal/connect"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/idempotency"
	"github.com/verigate/verigate/internal/ratelimit"
	"github.com/verigate/verigate/internal/server"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/verification"
	"github.com/verigate/verigate/internal/web/dashboard"
	"github.com/verigate/verigate/internal/web/journey"
	"github.com/verigate/verigate/internal/webhook"
)

// Version is set at build time with -ldflags "-X …/internal/app.Version=…".
var Version = "dev"

// App is a running Verigate.
type App struct {
	Config  *config.Config
	Log     *slog.Logger
	DB      *sqlstore.DB
	Access  *access.Service
	Calls   *calls.Service
	Verify  *verification.Service
	Limits  ratelimit.Store
	Connect *connect.Service
	// Idempotency keeps Idempotency-Key requests, for any surface.
	Idempotency *idempotency.Service
	// Jobs and Worker are the background work; surfaces never get them.
	Jobs   *verification.Jobs
	Worker *connect.Worker
	Server *server.Server
	// Webhooks manages webhook endpoints and their delivery log, for
	// every surface.
	Webhooks *delivery.Service
	// Deliveries is the webhook worker (RunWebhooks runs it); surfaces
	// never get it.
	Deliveries *delivery.Worker
	// Debug, when set, is the admin listener Serve serves pprof on
	// (VERIGATE_DEBUG_ADDR).
	Debug   net.Listener
	now     func() time.Time
	closers []func() error // run by Close, before the database closes
}

// Open connects to the database, applies pending migrations and builds
// the services and the server.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	db, err := sqlstore.Open(ctx, cfg.DatabaseURL, sqlstore.Options{Synchronous: cfg.SQLiteSynchronous, MaxConns: cfg.DatabaseMaxConns})
	if err != nil {
		return nil, err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("applied migrations", "count", n, "database", db.Dialect())
	}
	a, err := New(ctx, cfg, log, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// New builds the app on an open, migrated database.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, db *sqlstore.DB) (*App, error) {
	a := &App{Config: cfg, Log: log, DB: db, Access: access.New(db), Calls: calls.New(db, cfg.SecretKey), now: time.Now}
	a.Access.SessionMaxAge = cfg.SessionMaxAge
	a.Access.CacheCredentials(cfg.CredentialCacheTTL)
	a.Access.JWTKey = access.JWTKey(cfg.SecretKey)
	a.Limits = ratelimit.NewMemory()
	var broker connect.Broker = connect.NewMemoryBroker()
	if cfg.RedisURL != "" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("VERIGATE_REDIS_URL: %w", err)
		}
		client := redis.NewClient(opt)
		relay, stop := context.WithCancel(context.Background())
		a.closers = append(a.closers, func() error { stop(); return client.Close() })
		a.Limits = ratelimit.NewRedis(client, "verigate:rl:")
		broker = connect.NewRedisBroker(relay, client, "verigate:wake:")
	}
	// Connections first: the engine uses them for its connector steps, and
	// the connections worker (not the service) reports back to the
	// engine's jobs, so neither service needs the other at construction.
	a.Connect = connect.New(db, cfg.SecretKey, broker, a.Limits, log)
	a.Verify = verification.New(db, a.Connect, verification.Config{PublicURL: cfg.PublicURL, DeeplinkURL: cfg.DeeplinkURL,
		ReclaimAppID: cfg.ReclaimAppID, Attestors: cfg.ReclaimAttestors, MinSignatures: cfg.ReclaimMinSignatures,
		MaxProofAge: cfg.ReclaimMaxAge, SecretKey: cfg.SecretKey})
	a.Jobs = verification.NewJobs(a.Verify)
	a.Idempotency = idempotency.New(db, cfg.SecretKey, log)
	a.Worker = connect.NewWorker(a.Connect, a.Jobs)
	guard := webhook.Guard{AllowPrivate: cfg.WebhookAllowPrivate, AllowHTTP: cfg.WebhookAllowHTTP}
	a.Webhooks = delivery.New(db, cfg.SecretKey, guard, delivery.Options{RotationOverlap: cfg.WebhookRotationOverlap, Log: log})
	a.Verify.Webhooks = a.Webhooks // a verification's own webhookUrl, and the signed redirect back
	if err := a.Verify.SyncCatalog(ctx); err != nil {
		return nil, fmt.Errorf("sync the data-source catalog: %w", err)
	}
	if _, err := a.Access.EnsurePlatform(ctx); err != nil {
		return nil, fmt.Errorf("create the platform organization: %w", err)
	}
	a.Server = server.New(server.Options{
		Logger:         log,
		BodyLimit:      cfg.BodyLimit,
		Database:       db.Dialect(),
		Version:        Version,
		Ready:          a.ready,
		TrustedProxies: cfg.TrustedProxies,
	})
	for name, pool := range db.Pools() {
		a.Server.Registry().MustRegister(collectors.NewDBStatsCollector(pool, name))
	}
	a.newDeliveries(guard)
	now := func() time.Time { return a.now() }
	a.Server.Mount((&external.Handler{Access: a.Access, Calls: a.Calls, PublicURL: cfg.PublicURL, Log: log, Limiter: a.Limits, Now: now}).Surface(cfg.BodyLimit))
	formKey := sha256.Sum256([]byte("verigate journey form key\x00" + cfg.SecretKey))
	pages := &journey.Handler{Verification: a.Verify, Limiter: a.Limits, Log: log, FormKey: formKey[:], Now: now,
		Draining: a.Server.Draining(), Return: a.Verify.ReturnURL}
	a.Server.Mount(pages.Surface(cfg.BodyLimit))
	a.Server.Mount((&partner.Handler{Access: a.Access, Verification: a.Verify, Limiter: a.Limits, Log: log,
		Idempotency: a.Idempotency, Now: now, Browser: pages.Link}).Surface(cfg.BodyLimit))
	a.Server.Mount((&embedded.Handler{Access: a.Access, Webhooks: a.Webhooks, Log: log, Limiter: a.Limits, Now: now}).Surface(cfg.BodyLimit))
	a.Server.Mount((&v1.Handler{Access: a.Access, Connect: a.Connect, Limiter: a.Limits, Log: log, Now: now,
		Draining: a.Server.Draining(), Webhooks: a.Webhooks, Idempotency: a.Idempotency, Verification: a.Verify,
		PublicURL: cfg.PublicURL}).Surface(cfg.BodyLimit))
	a.Server.Mount((&dashapi.Handler{Access: a.Access, Connect: a.Connect, Limiter: a.Limits, Log: log, Now: now}).Surface(cfg.BodyLimit))
	dashKey := sha256.Sum256([]byte("verigate dashboard form key\x00" + cfg.SecretKey))
	a.Server.Mount((&dashboard.Handler{Access: a.Access, Verification: a.Verify, Calls: a.Calls, Connect: a.Connect,
		Webhooks: a.Webhooks, Limiter: a.Limits, Log: log, FormKey: dashKey[:], PublicURL: cfg.PublicURL, Now: now}).Surface(cfg.BodyLimit))
	return a, nil
}

// SetClock makes every service read time from now (tests use a fake).
func (a *App) SetClock(now func() time.Time) {
	a.now = now
	a.Access.Now = now
	a.Calls.Now = now
	a.Verify.Now = now
	a.Connect.Now = now
	a.Idempotency.Now = now
	a.Webhooks.Now = now
}

// RunJobs runs the background work until ctx is done: expiring sessions
// past their expiry date and purging spent tokens, every interval. Every
// replica may run it; the store's optimistic locking keeps them apart.
func (a *App) RunJobs(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := a.Jobs.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("expire sessions", "err", err)
		} else if n > 0 {
			a.Log.Info("expired sessions", "count", n)
		}
		if err := a.Jobs.Purge(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("purge tokens", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ready is /readyz: the database answers and no migration is pending.
func (a *App) ready(ctx context.Context) error {
	if err := a.DB.Ping(ctx); err != nil {
		return errors.New("database unreachable")
	}
	pending, err := a.DB.Pending(ctx)
	if err != nil {
		return errors.New("migration state unreadable")
	}
	if pending {
		return errors.New("migrations pending")
	}
	return nil
}

// OnClose adds fn to what Close runs (before the database closes), for
// what the binary wraps around the app, such as its log buffer.
func (a *App) OnClose(fn func() error) { a.closers = append(a.closers, fn) }

// Close releases what the app holds: the Redis relay and client, then the
// database.
func (a *App) Close() error {
	var errs []error
	for _, c := range a.closers {
		errs = append(errs, c())
	}
	return errors.Join(append(errs, a.DB.Close())...)
}

// MaxHeaderBytes caps a request's header block; larger ones get 431.
const MaxHeaderBytes = 32 << 10

// HTTPServer returns the http.Server for this app, with timeouts set.
func (a *App) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           a.Server,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
}

// Serve serves on ln until ctx is done, then shuts down gracefully:
// /readyz turns 503, the listener closes, and in-flight requests get up
// to Config.ShutdownTimeout to finish.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := a.HTTPServer()
	jobs, stopJobs := context.WithCancel(context.Background())
	defer stopJobs()
	go a.RunJobs(jobs, 30*time.Second)
	go a.Worker.Run(jobs, time.Second)
	webhooks := make(chan struct{})
	go func() { defer close(webhooks); a.RunWebhooks(jobs) }()
	// The webhook attempts under way finish and are recorded before the
	// database closes (the sender's timeout bounds them).
	defer func() { stopJobs(); <-webhooks }()
	if a.Debug != nil {
		debug := &http.Server{Handler: server.DebugHandler(), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn)}
		go debug.Serve(a.Debug)
		defer debug.Close()
		a.Log.Info("debug listener (pprof)", "addr", a.Debug.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down", "timeout", a.Config.ShutdownTimeout)
	stopJobs()
	a.Server.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	a.Log.Info("stopped")
	return nil
}
