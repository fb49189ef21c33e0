package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/verigate/verigate"
)

// EMETHOD is the error code of a request whose path exists but not with
// its method; surfaces answer it with 405 and an Allow header.
const EMETHOD = "method_not_allowed"

// StatusClientClosed is recorded (in logs and metrics, never seen by
// anyone) for a request whose client went away before the answer:
// nginx's 499, so that a client abort is not counted as a server error.
const StatusClientClosed = 499

// ErrorRenderer writes err in a surface's error shape.
type ErrorRenderer func(w http.ResponseWriter, r *http.Request, err error)

// Surface is one API surface as an http.Handler: its own routes on its
// own mux, mounted by the server at its prefixes, with every answer that
// is not a route's own — 404, 405, 413, bad bytes, a panic — rendered in
// the surface's error shape. Route handlers authenticate themselves (each
// surface wraps its routes in its auth chain) and report errors through
// Fail.
type Surface struct {
	mux       *http.ServeMux
	render    ErrorRenderer
	log       *slog.Logger
	bodyLimit int64
	prefixes  []string
	routes    []string
}

// NewSurface returns a surface owning prefixes: each is a path ("/token")
// or a subtree ("/partner/", which claims "/partner" too). render writes its errors; requests declaring
// a body over bodyLimit bytes (0: no check) are refused before any route
// runs.
func NewSurface(render ErrorRenderer, log *slog.Logger, bodyLimit int64, prefixes ...string) *Surface {
	if log == nil {
		log = slog.Default()
	}
	s := &Surface{mux: http.NewServeMux(), render: render, log: log, bodyLimit: bodyLimit}
	for _, p := range prefixes {
		// A subtree claims its bare path too ("/partner" beside
		// "/partner/"): net/http would redirect it to the subtree, where
		// nothing answers.
		for _, q := range []string{p, strings.TrimSuffix(p, "/")} {
			if q != "" && !slices.Contains(s.prefixes, q) {
				s.prefixes = append(s.prefixes, q)
				s.mux.HandleFunc(q, s.unmatched)
			}
		}
	}
	return s
}

// Handle registers a route; every pattern names its method.
func (s *Surface) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.routes = append(s.routes, pattern)
}

// Routes are the registered patterns.
func (s *Surface) Routes() []string { return slices.Clone(s.routes) }

// Prefixes are where the server mounts the surface.
func (s *Surface) Prefixes() []string { return slices.Clone(s.prefixes) }

// ServeHTTP checks what every route would refuse alike, then dispatches.
// It passes r itself to the mux, so the matched pattern lands on the
// request the server's metrics read.
func (s *Surface) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic", "request_id", verigate.RequestIDFrom(r.Context()), "panic", v, "stack", string(debug.Stack()))
			s.render(w, r, verigate.Errorf(verigate.EINTERNAL, "Internal server error."))
		}
	}()
	if s.bodyLimit > 0 && r.ContentLength > s.bodyLimit {
		// Declared too big: answer now rather than wait for a body we
		// would refuse anyway.
		s.Fail(w, r, verigate.Errorf(verigate.ETOOLARGE, "Request body is larger than %d bytes.", s.bodyLimit))
		return
	}
	if err := CheckURL(r.URL); err != nil {
		s.Fail(w, r, err)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Fail answers err in the surface's shape. An internal error is logged
// with its cause (its text is never shown); a request whose client has
// gone is recorded as a client abort, not answered.
func (s *Surface) Fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		s.log.Debug("client closed the request", "request_id", verigate.RequestIDFrom(r.Context()), "path", r.URL.Path)
		w.WriteHeader(StatusClientClosed)
		return
	}
	if verigate.ErrorCode(err) == verigate.EINTERNAL {
		LogInternal(s.log, r, err)
	}
	s.render(w, r, err)
}

// unmatched answers a path under the surface that no route takes: 405
// with Allow when another method would match, 404 otherwise.
func (s *Surface) unmatched(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && !slices.Contains(s.prefixes, pattern) {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.Fail(w, r, verigate.Errorf(EMETHOD, "Method %s is not allowed here.", r.Method))
		return
	}
	s.Fail(w, r, verigate.Errorf(verigate.ENOTFOUND, "Not found"))
}

// CheckURL refuses a path or query that holds a NUL byte or is not UTF-8
// once decoded, and a query that does not parse: such bytes never reach
// a handler (PostgreSQL refuses them in text, and no identifier or search
// of ours contains them).
func CheckURL(u *url.URL) error {
	if !CleanText(u.Path) {
		return verigate.Errorf(verigate.EINVALID, "The request path holds a NUL byte or bytes that are not UTF-8.")
	}
	if u.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return verigate.Errorf(verigate.EINVALID, "The query string is malformed.")
	}
	for k, vs := range q {
		if !CleanText(k) {
			return verigate.Errorf(verigate.EINVALID, "A query parameter name holds a NUL byte or bytes that are not UTF-8.")
		}
		for _, v := range vs {
			if !CleanText(v) {
				return verigate.FieldError(k, "holds a NUL byte or bytes that are not UTF-8")
			}
		}
	}
	return nil
}

// CleanText reports whether s is UTF-8 without NUL bytes.
func CleanText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// Header returns the one value of credential header name ("" when
// absent). A header sent twice is refused — which of two credentials is
// meant cannot be guessed — and so is one that is not clean text, both as
// EUNAUTHENTICATED.
func Header(r *http.Request, name string) (string, error) {
	return header(r, name, verigate.EUNAUTHENTICATED)
}

// DataHeader is Header for a header that carries data rather than a
// credential (Idempotency-Key, Last-Event-ID, a webhook's signature
// headers): its refusals are EINVALID.
func DataHeader(r *http.Request, name string) (string, error) {
	return header(r, name, verigate.EINVALID)
}

func header(r *http.Request, name, code string) (string, error) {
	vs := r.Header.Values(name)
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", verigate.Errorf(code, "The %s header was sent more than once.", name)
	case !CleanText(vs[0]):
		return "", verigate.Errorf(code, "The %s header holds bytes that are not UTF-8 text.", name)
	}
	return strings.TrimSpace(vs[0]), nil
}

// KeyLimitKey is the rate-limit bucket of an API key: one budget per key,
// whichever surface it calls.
func KeyLimitKey(keyID string) string { return "key:" + keyID }
