// Package partner is the Partner API (/partner, seed 001): verification
// sessions created with an API key (x-api-key), and the applicant's side
// of a session authenticated by a CSRF token (x-csrf-token) obtained from
// the session's link. Errors are NestJS-shaped:
// {"statusCode":N,"message":"…","error":"…"}.
package partner

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/authz"
	"github.com/verigate/verigate/internal/idempotency"
	"github.com/verigate/verigate/internal/ratelimit"
	"github.com/verigate/verigate/internal/verification"
)

// Handler serves /partner.
type Handler struct {
	Access       *access.Service
	Verification *verification.Service
	Limiter      ratelimit.Store
	Idempotency  *idempotency.Service
	Log          *slog.Logger
	// Now is the clock (the services share it).
	Now func() time.Time
	// Browser serves the verification link to a browser (the hosted
	// journey, internal/web/journey); nil answers JSON to everyone.
	Browser http.HandlerFunc
}

// ApplicantRateLimit limits each session's applicant (CSRF) requests.
var ApplicantRateLimit = verigate.RateLimitPolicy{TTL: time.Minute, Limit: 300, BlockDuration: time.Minute}

type auth int

const (
	authAPIKey auth = iota
	authCSRF
	authEither // an API key or a CSRF token
	authLink   // the session's link token, in the query
)

// Surface returns the surface, to be mounted at /partner/. Requests
// declaring a body over bodyLimit bytes are refused before any route.
func (h *Handler) Surface(bodyLimit int64) *httpapi.Surface {
	s := httpapi.NewSurface(h.writeError, h.Log, bodyLimit, "/partner/")
	route := func(pattern string, a auth, fn func(http.ResponseWriter, *http.Request) error) {
		s.Handle(pattern, h.wrap(s, a, fn))
	}
	route("POST /partner/session", authAPIKey, h.idempotent(h.createSession))
	route("GET /partner/session/{sessionId}", authAPIKey, h.getSession)
	route("POST /partner/session/{sessionId}/link", authAPIKey, h.rotateLink)
	route("POST /partner/sdk/session", authAPIKey, h.sdkSession)
	route("GET /partner/reviewer/sessions", authAPIKey, h.reviewerSessions)
	route("POST /partner/reviewer/sessions/{sessionId}/approve", authAPIKey, h.approve)
	route("POST /partner/reviewer/sessions/{sessionId}/reject", authAPIKey, h.reject)
	route("GET /partner/types", authEither, h.types)
	route("GET /partner/sources/type/{verificationTypeId}", authEither, h.sourcesByType)
	route("GET /partner/sources/session/{sessionId}", authCSRF, h.sessionSources)
	route("GET /partner/sources/search", authCSRF, h.searchSources)
	route("POST /partner/step/select-data-source", authCSRF, h.selectSources)
	route("GET /partner/steps/session/{sessionId}", authCSRF, h.sessionSteps)
	route("POST /partner/step/initiate", authCSRF, h.initiate)
	route("GET /partner/steps/{stepId}", authCSRF, h.step)
	route("POST /partner/step/submit", authCSRF, h.submit)
	route("POST /partner/step/connect", authCSRF, h.connectStep)
	route("POST /partner/step/otp", authCSRF, h.stepOTP)
	route("GET /partner/verification/verify", authLink, h.verifyLink)
	return s
}

// wrap authenticates, rate-limits, runs fn and renders its error.
func (h *Handler) wrap(s *httpapi.Surface, a auth, fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.serve(w, r, a, fn); err != nil {
			s.Fail(w, r, err)
		}
	})
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, a auth, fn func(http.ResponseWriter, *http.Request) error) error {
	ctx := r.Context()
	key, err := httpapi.Header(r, "x-api-key")
	if err != nil {
		return err
	}
	csrf, err := httpapi.Header(r, "x-csrf-token")
	if err != nil {
		return err
	}
	var p *verigate.Principal
	var limitKey string
	policy := ApplicantRateLimit
	switch {
	case a == authLink:
		return fn(w, r)
	case key != "" && (a == authAPIKey || a == authEither):
		k, principal, err := h.Access.VerifyAPIKey(ctx, key)
		if err != nil {
			if verigate.ErrorCode(err) == verigate.EUNAUTHENTICATED {
				return verigate.Errorf(verigate.EUNAUTHENTICATED, "Invalid API key")
			}
			return err
		}
		p, limitKey, policy = principal, httpapi.KeyLimitKey(k.ID), k.RateLimit
	case csrf != "" && (a == authCSRF || a == authEither):
		principal, err := h.Verification.Applicant(ctx, csrf)
		if err != nil {
			return err
		}
		p, limitKey = principal, "partner:session:"+strconv.FormatInt(principal.SessionID, 10)
	case a == authCSRF:
		return verification.ErrApplicantTokenMissing
	default:
		return verigate.Errorf(verigate.EUNAUTHENTICATED, "Missing x-api-key header")
	}
	if err := h.limit(w, r, limitKey, policy); err != nil {
		return err
	}
	if err := authz.Check(r.Pattern, p); err != nil {
		return err
	}
	return fn(w, r.WithContext(verigate.WithPrincipal(ctx, p)))
}

// limit applies a rate policy and sets the X-RateLimit-* headers.
func (h *Handler) limit(w http.ResponseWriter, r *http.Request, key string, p verigate.RateLimitPolicy) error {
	res, err := h.Limiter.Hit(r.Context(), key, ratelimit.Policy{TTL: p.TTL, Limit: p.Limit, BlockDuration: p.BlockDuration}, h.Now())
	if err != nil {
		// A limiter outage must not take the API down: log, and let it pass.
		h.Log.Error("rate limiter", "err", err, "request_id", verigate.RequestIDFrom(r.Context()))
		return nil
	}
	hd := w.Header()
	hd.Set("X-RateLimit-Limit", strconv.Itoa(res.Limit))
	hd.Set("X-RateLimit-Remaining", strconv.Itoa(res.Remaining))
	if res.Allowed {
		hd.Set("X-RateLimit-Reset", strconv.Itoa(httpapi.CeilSeconds(res.Reset)))
		return nil
	}
	secs := httpapi.CeilSeconds(res.RetryAfter)
	hd.Set("X-RateLimit-Reset", strconv.Itoa(secs))
	e := verigate.Errorf(verigate.ERATELIMITED, "Rate limit exceeded. Try again in %d seconds.", secs)
	e.RetryAfter = time.Duration(secs) * time.Second
	return e
}

// errorBody is NestJS's error shape.
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
	Error      string `json:"error"`
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := httpapi.Status(verigate.ErrorCode(err))
	body := errorBody{StatusCode: status, Message: message(err), Error: http.StatusText(status)}
	if status == http.StatusInternalServerError {
		body.Message = "Internal server error"
	}
	if status == http.StatusTooManyRequests {
		// As the vendor writes it: the status text in message, the detail in error.
		body.Message, body.Error = "Too Many Requests", verigate.ErrorMessage(err)
	}
	httpapi.SetRetryAfter(w, err)
	httpapi.WriteJSON(w, status, body)
}

// applicantWords are the messages of the applicant's errors as this
// surface words them: the applicant token is its CSRF token.
var applicantWords = []struct {
	err     error
	message string
}{
	{verification.ErrApplicantTokenMissing, "Missing x-csrf-token header"},
	{verification.ErrApplicantTokenInvalid, "Invalid CSRF token."},
	{verification.ErrApplicantTokenExpired, "The CSRF token has expired; open the verification link again."},
	{verigate.ErrOutsideSession, "This CSRF token belongs to another verification session."},
}

// message is err's message in this surface's words: a missing permission
// is an API key's missing scope; an applicant token is a CSRF token.
func message(err error) string {
	if perm := verigate.MissingPermission(err); perm != "" {
		return "This API key lacks the " + verigate.PermissionScope(perm) + " scope."
	}
	for _, w := range applicantWords {
		if errors.Is(err, w.err) {
			return w.message
		}
	}
	return verigate.ErrorMessage(err)
}

func ok(w http.ResponseWriter, status int, v any) error {
	httpapi.WriteJSON(w, status, v)
	return nil
}

// pathID reads a numeric path parameter.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, verigate.FieldError(name, "must be a positive whole number")
	}
	return id, nil
}

// timeLayout is how NestJS serializes dates: ISO 8601 with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func formatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatTime(*t)
	return &s
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
