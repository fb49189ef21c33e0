// Package v1 is the machine API (/v1, Reconbanker's seed 002): scoped API
// keys (Authorization: Api-Key … or x-api-key, never Bearer) driving
// connections (Reconbanker's "accounts") and their one-time codes. Errors
// are {"error":{"code":"…","message":"…"}}.
package v1

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/authz"
	"github.com/verigate/verigate/internal/connect"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/idempotency"
	"github.com/verigate/verigate/internal/ratelimit"
	"github.com/verigate/verigate/internal/verification"
)

// Handler serves /v1.
type Handler struct {
	Access   *access.Service
	Connect  *connect.Service
	Webhooks *delivery.Service
	// Verification serves the verification requests (Konfir's seed 004).
	Verification *verification.Service
	PublicURL    string // base of the QR code URLs
	// Idempotency gives the webhook POSTs Idempotency-Key semantics.
	Idempotency *idempotency.Service
	Limiter     ratelimit.Store
	Log         *slog.Logger
	Now         func() time.Time
	Draining    <-chan struct{} // closed at shutdown: event streams end

	streamsMu sync.Mutex
	streams   map[string]int // open event streams by API key, on this server
}

// MaxStreamsPerKey bounds the event streams one API key holds open on one
// server: each holds a connection and a subscription.
const MaxStreamsPerKey = 10

// openStream takes one of the key's stream slots; the caller must call the
// returned release when the stream ends.
func (h *Handler) openStream(keyID string) (release func(), err error) {
	h.streamsMu.Lock()
	defer h.streamsMu.Unlock()
	if h.streams[keyID] >= MaxStreamsPerKey {
		return nil, verigate.Errorf(verigate.ERATELIMITED, "This API key already holds %d open event streams; close one first.", MaxStreamsPerKey)
	}
	if h.streams == nil {
		h.streams = map[string]int{}
	}
	h.streams[keyID]++
	return func() {
		h.streamsMu.Lock()
		defer h.streamsMu.Unlock()
		if h.streams[keyID]--; h.streams[keyID] == 0 {
			delete(h.streams, keyID)
		}
	}, nil
}

// Surface returns the surface, to be mounted at /v1/. Requests declaring
// a body over bodyLimit bytes are refused before any route.
func (h *Handler) Surface(bodyLimit int64) *httpapi.Surface {
	s := httpapi.NewSurface(h.writeError, h.Log, bodyLimit, "/v1/")
	route := func(pattern string, fn func(http.ResponseWriter, *http.Request) error) {
		s.Handle(pattern, h.wrap(s, fn))
	}
	route("POST /v1/accounts", h.createAccount)
	route("GET /v1/accounts", h.listAccounts)
	route("GET /v1/accounts/{accountId}", h.getAccount)
	route("GET /v1/accounts/{accountId}/status", h.status)
	route("POST /v1/accounts/{accountId}/otp", h.submitOTP)
	route("POST /v1/accounts/{accountId}/refresh", h.refresh)
	route("GET /v1/accounts/{accountId}/events", h.events)
	route("POST /v1/webhook-endpoints", h.idempotent(h.createEndpoint))
	route("GET /v1/webhook-endpoints", h.listEndpoints)
	route("GET /v1/webhook-endpoints/{endpointId}", h.getEndpoint)
	route("PATCH /v1/webhook-endpoints/{endpointId}", h.updateEndpoint)
	route("DELETE /v1/webhook-endpoints/{endpointId}", h.deleteEndpoint)
	route("POST /v1/webhook-endpoints/{endpointId}/rotate-secret", h.idempotent(h.rotateSecret))
	route("POST /v1/webhook-endpoints/{endpointId}/test", h.idempotent(h.sendTest))
	route("GET /v1/webhook-endpoints/{endpointId}/messages", h.listMessages)
	route("GET /v1/webhook-endpoints/{endpointId}/messages/{messageId}", h.getMessage)
	route("POST /v1/webhook-endpoints/{endpointId}/messages/{messageId}/redeliver", h.idempotent(h.redeliver))
	route("POST /v1/webhook-endpoints/{endpointId}/replay", h.idempotent(h.replay))
	route("GET /v1/verification-secret", h.getVerificationSecret)
	route("POST /v1/verification-secret/rotate", h.idempotent(h.rotateVerificationSecret))
	route("GET /v1/events", h.listEvents)
	route("POST /v1/verifications", h.idempotent(h.createVerification))
	route("GET /v1/verifications", h.listVerifications)
	route("GET /v1/verifications/{id}", h.getVerification)
	route("POST /v1/verifications/{id}/cancel", h.idempotent(h.cancelVerification))
	route("POST /v1/verifications/{id}/link", h.idempotent(h.rotateVerificationLink))
	route("GET /v1/verifications/{id}/qr.svg", h.verificationQR("svg"))
	route("GET /v1/verifications/{id}/qr.png", h.verificationQR("png"))
	return s
}

// idempotent gives fn Idempotency-Key semantics, keys being each API
// key's own on each path: the same key on another endpoint or action is
// another request.
func (h *Handler) idempotent(fn func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		scope := "v1:" + verigate.PrincipalFrom(r.Context()).ID + ":" + r.Method + " " + r.URL.Path
		return httpapi.Idempotent(h.Idempotency, scope, fn, w, r)
	}
}

var (
	// errUnauthorized is the one EUNAUTHENTICATED error this surface
	// names UNAUTHORIZED rather than INVALID_API_KEY, as the seed does.
	errUnauthorized = verigate.Errorf(verigate.EUNAUTHENTICATED, "No API key was sent.")
	errInvalidKey   = verigate.Errorf(verigate.EUNAUTHENTICATED, "The API key is unknown, malformed, or revoked.")
)

// apiKey reads the key from Authorization (scheme Api-Key, any case),
// x-api-key, or Konfir's pair X-KONFIR-CLIENT-ID (the key's id) and
// X-KONFIR-CLIENT-SECRET (the key). A Bearer token is not an API key and
// is never read. Keys sent in several headers must agree.
func apiKey(r *http.Request) (string, error) {
	key, err := headerKey(r)
	if err != nil {
		return "", err
	}
	clientID, err := httpapi.Header(r, "X-KONFIR-CLIENT-ID")
	if err != nil {
		return "", err
	}
	clientSecret, err := httpapi.Header(r, "X-KONFIR-CLIENT-SECRET")
	if err != nil {
		return "", err
	}
	if clientID == "" && clientSecret == "" {
		if key == "" {
			return "", errUnauthorized
		}
		return key, nil
	}
	// Konfir's pair: both, the id the key's own, and no other key.
	id, ok := access.ParseAPIKey(clientSecret)
	if !ok || clientID == "" || subtle.ConstantTimeCompare([]byte(id), []byte(clientID)) != 1 || (key != "" && key != clientSecret) {
		return "", errInvalidKey
	}
	return clientSecret, nil
}

// headerKey reads the key from Authorization or x-api-key, "" if neither.
func headerKey(r *http.Request) (string, error) {
	auth, err := httpapi.Header(r, "Authorization")
	if err != nil {
		return "", err
	}
	fromHeader, err := httpapi.Header(r, "x-api-key")
	if err != nil {
		return "", err
	}
	var fromAuth string
	if scheme, rest, _ := strings.Cut(auth, " "); strings.EqualFold(scheme, "Api-Key") {
		fromAuth = strings.TrimSpace(rest)
	}
	switch {
	case fromAuth != "" && fromHeader != "" && fromAuth != fromHeader:
		return "", errInvalidKey
	case fromAuth != "":
		return fromAuth, nil
	case fromHeader != "":
		return fromHeader, nil
	}
	return "", nil
}

func (h *Handler) wrap(s *httpapi.Surface, fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := apiKey(r)
		if err == nil {
			var k *verigate.APIKey
			var p *verigate.Principal
			if k, p, err = h.Access.VerifyAPIKey(r.Context(), key); err == nil {
				if err = h.limit(w, r, httpapi.KeyLimitKey(k.ID), ratelimit.Policy{TTL: k.RateLimit.TTL, Limit: k.RateLimit.Limit, BlockDuration: k.RateLimit.BlockDuration}); err == nil {
					if err = authz.Check(r.Pattern, p); err == nil {
						err = fn(w, r.WithContext(verigate.WithPrincipal(r.Context(), p)))
					}
				}
			} else if verigate.ErrorCode(err) == verigate.EUNAUTHENTICATED {
				err = errInvalidKey
			}
		}
		if err != nil {
			s.Fail(w, r, err)
		}
	})
}

// limit applies a rate policy, with the IETF RateLimit headers.
func (h *Handler) limit(w http.ResponseWriter, r *http.Request, key string, p ratelimit.Policy) error {
	res, err := h.Limiter.Hit(r.Context(), key, p, h.Now())
	if err != nil {
		h.Log.Error("rate limiter", "err", err, "request_id", verigate.RequestIDFrom(r.Context()))
		return nil
	}
	reset := res.Reset
	if !res.Allowed {
		reset = res.RetryAfter
	}
	secs := httpapi.CeilSeconds(reset)
	w.Header().Set("RateLimit-Policy", strconv.Itoa(p.Limit)+";w="+strconv.Itoa(int(p.TTL.Seconds())))
	w.Header().Set("RateLimit", "limit="+strconv.Itoa(res.Limit)+", remaining="+strconv.Itoa(res.Remaining)+", reset="+strconv.Itoa(secs))
	if res.Allowed {
		return nil
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	e := verigate.Errorf(verigate.ERATELIMITED, "Too many requests; try again in %d seconds.", secs)
	e.RetryAfter = time.Duration(secs) * time.Second
	return e
}

type fieldDetail struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

type errorBody struct {
	Error struct {
		Code    string        `json:"code"`
		Message string        `json:"message"`
		Details []fieldDetail `json:"details,omitempty"`
	} `json:"error"`
}

var codes = map[string]string{
	verigate.EINVALID: "VALIDATION_ERROR", verigate.EUNAUTHENTICATED: "INVALID_API_KEY", verigate.EFORBIDDEN: "FORBIDDEN",
	verigate.ENOTFOUND: "NOT_FOUND", verigate.ECONFLICT: "CONFLICT", verigate.ERATELIMITED: "RATE_LIMITED",
	verigate.ETOOLARGE: "PAYLOAD_TOO_LARGE", verigate.EUNSUPPORTED: "UNSUPPORTED_MEDIA_TYPE", httpapi.EMETHOD: "METHOD_NOT_ALLOWED",
	verigate.EUNAVAILABLE: "UNAVAILABLE",
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var body errorBody
	status := http.StatusInternalServerError
	if code := verigate.ErrorCode(err); codes[code] != "" {
		status, body.Error.Code, body.Error.Message = httpapi.Status(code), codes[code], verigate.ErrorMessage(err)
		if perm := verigate.MissingPermission(err); perm != "" {
			body.Error.Message = "This API key lacks the " + verigate.PermissionScope(perm) + " scope."
		}
		if errors.Is(err, errUnauthorized) {
			body.Error.Code = "UNAUTHORIZED"
		}
		var ve *verigate.Error
		if errors.As(err, &ve) {
			for f, m := range ve.Fields {
				body.Error.Details = append(body.Error.Details, fieldDetail{Field: f, Message: m})
			}
			sort.Slice(body.Error.Details, func(i, j int) bool { return body.Error.Details[i].Field < body.Error.Details[j].Field })
		}
	} else {
		body.Error.Code, body.Error.Message = "INTERNAL_ERROR", "Internal error."
	}
	httpapi.SetRetryAfter(w, err)
	httpapi.WriteJSON(w, status, body)
}
