// Package dashapi is the dashboard's JSON API (/api, Reconbanker's
// dashboard API of seed 002): a person signs in with email and password
// for a short-lived JWT (Authorization: Bearer …) and manages their own
// API keys and their accounts' one-time codes. An API key is never
// accepted here, and the JWT is accepted nowhere else. Errors are
// {"error":"message"}.
package dashapi

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/authz"
	"github.com/verigate/verigate/internal/connect"
	"github.com/verigate/verigate/internal/ratelimit"
)

// Handler serves /api.
type Handler struct {
	Access  *access.Service
	Connect *connect.Service
	Limiter ratelimit.Store // sign-in attempts per address
	Log     *slog.Logger
	Now     func() time.Time
}

// Surface returns the surface, to be mounted at /api/. Requests declaring
// a body over bodyLimit bytes are refused before any route.
func (h *Handler) Surface(bodyLimit int64) *httpapi.Surface {
	s := httpapi.NewSurface(h.writeError, h.Log, bodyLimit, "/api/")
	route := func(pattern string, fn func(http.ResponseWriter, *http.Request) error) {
		s.Handle(pattern, h.wrap(s, fn))
	}
	s.Handle("POST /api/auth/login", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.login(w, r); err != nil {
			s.Fail(w, r, err)
		}
	}))
	route("GET /api/me/api-keys", h.listKeys)
	route("POST /api/me/api-keys", h.createKey)
	route("DELETE /api/me/api-keys/{id}", h.revokeKey)
	route("GET /api/accounts/{accountId}/status", h.status)
	route("POST /api/accounts/{accountId}/otp", h.submitOTP)
	return s
}

var (
	errNoToken = verigate.Errorf(verigate.EUNAUTHENTICATED, "An Authorization: Bearer header with a token from POST /api/auth/login is required.")
	errAPIKey  = verigate.Errorf(verigate.EUNAUTHENTICATED, "API keys are not accepted on /api; sign in with POST /api/auth/login and send the token as Authorization: Bearer.")
)

// bearer reads the JWT from Authorization: Bearer. An API key, in any
// header it is sent in, is refused rather than ignored, so that a client
// sending one learns why.
func bearer(r *http.Request) (string, error) {
	auth, err := httpapi.Header(r, "Authorization")
	if err != nil {
		return "", err
	}
	xkey, err := httpapi.Header(r, "x-api-key")
	if err != nil {
		return "", err
	}
	scheme, rest, _ := strings.Cut(auth, " ")
	rest = strings.TrimSpace(rest)
	switch {
	case xkey != "" || strings.EqualFold(scheme, "Api-Key"):
		return "", errAPIKey
	case !strings.EqualFold(scheme, "Bearer") || rest == "":
		return "", errNoToken
	}
	if _, ok := access.ParseAPIKey(rest); ok {
		return "", errAPIKey
	}
	return rest, nil
}

func (h *Handler) wrap(s *httpapi.Surface, fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := bearer(r)
		if err == nil {
			var p *verigate.Principal
			if p, err = h.Access.VerifyJWT(r.Context(), tok); err == nil {
				if err = authz.Check(r.Pattern, p); err == nil {
					err = fn(w, r.WithContext(verigate.WithPrincipal(r.Context(), p)))
				}
			}
		}
		if err != nil {
			s.Fail(w, r, err)
		}
	})
}

// errorBody is Reconbanker's dashboard error shape.
type errorBody struct {
	Error string `json:"error"`
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := verigate.ErrorCode(err)
	status, msg := httpapi.Status(code), verigate.ErrorMessage(err)
	if status >= 500 && code != verigate.EUNAVAILABLE {
		status, msg = http.StatusInternalServerError, "Internal error."
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="verigate"`)
	}
	httpapi.SetRetryAfter(w, err)
	httpapi.WriteJSON(w, status, errorBody{Error: msg})
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func formatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatTime(*t)
	return &s
}
