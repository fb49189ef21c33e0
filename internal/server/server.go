// Package server is the root HTTP handler: one ServeMux on which each
// surface registers its routes, the middleware every request passes
// through, and the ops endpoints.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verigate/verigate"
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
	// Registry receives the server's metrics; nil makes a new one.
	Registry *prometheus.Registry
}

// DefaultBodyLimit caps request bodies.
const DefaultBodyLimit = 1 << 20

// Server is the root handler.
type Server struct {
	opts      Options
	mux       *http.ServeMux
	routes    []string
	metrics   *metrics
	handler   http.Handler
	draining  atomic.Bool
	drained   chan struct{}
	renderers []surface
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
	s.handler = s.requestID(s.observe(s.recoverPanics(s.secureHeaders(s.limitBody(s.mux)))))
	s.registerOps()
	// Outside every surface: a JSON 404 (or 405), not net/http's text.
	s.Surface("/", func(w http.ResponseWriter, r *http.Request, err error) {
		status := http.StatusNotFound
		if verigate.ErrorCode(err) == EMETHOD {
			status = http.StatusMethodNotAllowed
		} else if verigate.ErrorCode(err) == verigate.EINTERNAL {
			status = http.StatusInternalServerError
		}
		writeJSON(w, status, map[string]string{"error": verigate.ErrorMessage(err)})
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

// ErrorRenderer writes err in a surface's error shape.
type ErrorRenderer func(w http.ResponseWriter, r *http.Request, err error)

// Surface claims a path prefix (ending in /) for a surface whose errors
// render makes: a request under it that no route matches gets a 404 (or a
// 405 with Allow, when another method would match), and a panic under it
// a 500, all in the surface's shape.
func (s *Server) Surface(prefix string, render ErrorRenderer) {
	s.renderers = append(s.renderers, surface{prefix, render})
	s.mux.HandleFunc(prefix, func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != prefix {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			render(w, r, verigate.Errorf(EMETHOD, "Method %s is not allowed here.", r.Method))
			return
		}
		render(w, r, verigate.Errorf(verigate.ENOTFOUND, "Not found"))
	})
}

// EMETHOD is the error code of a request whose path exists but not with
// its method; surfaces answer it with 405.
const EMETHOD = "method_not_allowed"

type surface struct {
	prefix string
	render ErrorRenderer
}

// renderer returns the error renderer of the surface that owns path: the
// one with the longest matching prefix.
func (s *Server) renderer(path string) ErrorRenderer {
	var best *surface
	for i, sf := range s.renderers {
		if strings.HasPrefix(path, sf.prefix) && (best == nil || len(sf.prefix) > len(best.prefix)) {
			best = &s.renderers[i]
		}
	}
	if best == nil {
		return nil
	}
	return best.render
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
