// Package external is the Reseller API (/external, Confirm's seed 000): a
// reseller's service account signs in with its onboarding access token,
// gets an SSO token, and acts on the institutions it owns. Every body
// carries "success"; errors are {"success":false,"error":"…"}.
package external

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/authz"
	"github.com/verigate/verigate/internal/calls"
	"github.com/verigate/verigate/internal/ratelimit"
)

// Handler serves /external.
type Handler struct {
	Access    *access.Service
	Calls     *calls.Service
	PublicURL string
	Log       *slog.Logger
	Limiter   ratelimit.Store // sign-in attempts per address
	Now       func() time.Time
}

// auth is how a route authenticates (the seed's three modes, plus the
// signed ingestion endpoint).
type auth int

const (
	authAccessToken    auth = iota // accessToken header; the handler checks it with the credentials
	authReseller                   // SsoToken
	authServiceAccount             // SsoToken + InstitutionKey + RequestedBy
	authSigned                     // Standard Webhooks signature; the handler verifies it
)

// Surface returns the surface, to be mounted at /external/. Requests
// declaring a body over bodyLimit bytes are refused before any route.
func (h *Handler) Surface(bodyLimit int64) *httpapi.Surface {
	s := httpapi.NewSurface(h.writeError, h.Log, bodyLimit, "/external/")
	route := func(pattern string, a auth, fn func(http.ResponseWriter, *http.Request) error) {
		s.Handle(pattern, h.wrap(s, a, fn))
	}
	route("POST /external/token/request", authAccessToken, h.tokenRequest)
	route("POST /external/token/revoke", authReseller, h.tokenRevoke)
	route("POST /external/token/request/user", authServiceAccount, h.userToken)
	route("GET /external/institutions", authReseller, h.listInstitutions)
	route("POST /external/institutions", authReseller, h.addInstitution)
	route("GET /external/institutions/{key}", authReseller, h.getInstitution)
	route("PUT /external/institutions/{key}", authReseller, h.updateInstitution)
	route("POST /external/institutions/{key}/login", authReseller, h.loginInstitution)
	route("GET /external/calls/queue", authServiceAccount, h.queue)
	route("POST /external/calls/assign", authServiceAccount, h.assign)
	route("GET /external/calls/{voiceId}/details", authServiceAccount, h.details)
	route("POST /external/calls/{voiceId}/enroll", authServiceAccount, h.enroll)
	route("POST /external/calls/{voiceId}/reject-voice", authServiceAccount, h.rejectVoice)
	route("POST /external/voice/{institutionKey}/calls", authSigned, h.ingest)
	return s
}

type ctxKey int

const sessionKey ctxKey = iota

// session is who a request acts as.
type session struct {
	sso         *access.SSOSession
	institution *verigate.Organization // service-account mode
}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey).(*session)
	return s
}

// wrap authenticates a request as route a says, runs fn, renders its
// error, and slides the SSO token after a success (never after a failure).
func (h *Handler) wrap(s *httpapi.Surface, a auth, fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a == authReseller || a == authServiceAccount {
			sess, err := h.authenticate(r, a)
			if err != nil {
				s.Fail(w, r, err)
				return
			}
			r = r.WithContext(context.WithValue(verigate.WithPrincipal(r.Context(), sess.sso.Principal), sessionKey, sess))
			if err := authz.Check(r.Pattern, sess.sso.Principal); err != nil {
				s.Fail(w, r, err)
				return
			}
			if err := fn(w, r); err != nil {
				s.Fail(w, r, err)
				return
			}
			// The slide outlives the request: a client gone after its
			// answer must not cost the token its window.
			if err := h.Access.SlideSSOToken(context.WithoutCancel(r.Context()), sess.sso.Token); err != nil {
				h.Log.Error("slide SSO token", "err", err, "request_id", verigate.RequestIDFrom(r.Context()))
			}
			return
		}
		if err := fn(w, r); err != nil {
			s.Fail(w, r, err)
		}
	})
}

// ErrInvalidInstitution answers an InstitutionKey the reseller does not
// own exactly as one that does not exist.
var ErrInvalidInstitution = verigate.Errorf(verigate.EFORBIDDEN, "Invalid InstitutionKey.")

func (h *Handler) authenticate(r *http.Request, a auth) (*session, error) {
	token, err := httpapi.Header(r, "SsoToken")
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, verigate.Errorf(verigate.EUNAUTHENTICATED, "Missing SsoToken header.")
	}
	sso, err := h.Access.VerifySSOToken(r.Context(), token)
	if err != nil {
		return nil, err
	}
	sess := &session{sso: sso}
	requestedBy, err := httpapi.Header(r, "RequestedBy")
	if err != nil {
		return nil, err
	}
	key, err := httpapi.Header(r, "InstitutionKey")
	if err != nil {
		return nil, err
	}
	if a == authServiceAccount {
		if key == "" {
			return nil, verigate.FieldError("InstitutionKey", "header is required")
		}
		if requestedBy == "" {
			return nil, verigate.FieldError("RequestedBy", "header is required")
		}
	}
	if requestedBy != "" {
		if err := verigate.ValidateUsername("RequestedBy", requestedBy); err != nil {
			return nil, err
		}
		sso.Principal.RequestedBy = requestedBy
	}
	if a == authServiceAccount {
		inst, err := h.Access.ActingInstitution(verigate.WithPrincipal(r.Context(), sso.Principal), key)
		if err == access.ErrNoInstitution {
			return nil, ErrInvalidInstitution
		} else if err != nil {
			return nil, err
		}
		sess.institution = inst
	}
	return sess, nil
}

type errorBody struct {
	Success bool   `json:"success"`
	Error   string `json:"error"`
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := verigate.ErrorCode(err)
	status := httpapi.Status(code)
	httpapi.SetRetryAfter(w, err)
	httpapi.WriteJSON(w, status, errorBody{Success: false, Error: verigate.ErrorMessage(err)})
}

// timeLayout is how the seed writes times: RFC 3339 with a numeric offset.
const timeLayout = "2006-01-02T15:04:05-07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func formatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatTime(*t)
	return &s
}

func ok(w http.ResponseWriter, status int, v any) error {
	httpapi.WriteJSON(w, status, v)
	return nil
}
