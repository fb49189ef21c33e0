// Package server is the root HTTP handler: one ServeMux on which each
// surface registers its routes, the middleware every request passes
// through, and the ops endpoints.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Readiness is what /readyz asks: nil when the server can take traffic.
type Readiness func(ctx context.Context) error

// Options configure a Server.
type Options struct {
	Logger    *slog.Logger
	BodyLimit int64 // bytes; 0 means DefaultBodyLimit
	Ready     Readiness
	Database  string // dialect, shown by /readyz
	Version   string
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (proxies.go).
	TrustedProxies []netip.Prefix
	// Registry receives the server's metrics; nil makes a new one.
	Registry *prometheus.Registry
}

// DefaultBodyLimit caps request bodies.
const DefaultBodyLimit = 1 << 20

// Server is the root handler.
type Server struct {
	opts     Options
	mux      *http.ServeMux
	routes   []string
	metrics  *metrics
	handler  http.Handler
	draining atomic.Bool
	drained  chan struct{}
}

// New returns a server with the ops endpoints registered.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), metrics: newMetrics(opts.Registry), drained: make(chan struct{})}
	s.handler = s.forwarded(s.requestID(s.observe(s.recoverPanics(s.secureHeaders(s.limitBody(s.mux))))))
	s.registerOps()
	// Outside every surface: a JSON 404 (or 405), not net/http's text.
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allowed := s.allowed(r); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "Method " + r.Method + " is not allowed here."})
			return
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not found"})
	})
	return s
}

// Handle registers a route. Every pattern must say its method
// ("GET /healthz"); the OpenAPI test walks Routes.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.routes = append(s.routes, pattern)
}

// HandleFunc registers a handler function.
func (s *Server) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	s.Handle(pattern, http.HandlerFunc(h))
}

// Surface is an API surface mounted at its prefixes: an http.Handler
// that answers everything under them in its own shape (internal/api/httpapi).
type Surface interface {
	http.Handler
	Prefixes() []string
	Routes() []string
}

// Mount serves a surface at each of its prefixes.
func (s *Server) Mount(sf Surface) {
	for _, p := range sf.Prefixes() {
		s.mux.Handle(p, sf)
	}
	s.routes = append(s.routes, sf.Routes()...)
}

// allowed lists the methods the ops routes take at r's path.
func (s *Server) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			out = append(out, m)
		}
	}
	return out
}

// Routes returns the registered patterns, sorted.
func (s *Server) Routes() []string {
	out := slices.Clone(s.routes)
	slices.Sort(out)
	return out
}

// Registry is where the server's metrics live; services may add theirs.
func (s *Server) Registry() *prometheus.Registry { return s.opts.Registry }

// Drain makes /readyz answer 503 from now on, so a load balancer stops
// sending traffic while in-flight requests finish.
func (s *Server) Drain() {
	if s.draining.CompareAndSwap(false, true) {
		close(s.drained)
	}
}

// Draining is closed once shutdown begins; long-lived responses (event
// streams) end on it so that shutdown need not wait for them.
func (s *Server) Draining() <-chan struct{} { return s.drained }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
