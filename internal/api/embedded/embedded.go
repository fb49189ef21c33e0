// Package embedded is the Embedded API (seed 003, ExactPay's model): a
// user signs in for a token (Authorization: <token>), mints application
// tokens narrowed to a purpose, and manages users, roles, its organization
// and its accounts (child institutions). Errors are
// {"code","message","type","requestId"}.
package embedded

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/authz"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/ratelimit"
)

// Handler serves the Embedded API.
type Handler struct {
	Access   *access.Service
	Webhooks *delivery.Service
	Log      *slog.Logger
	Limiter  ratelimit.Store // sign-in attempts per address
	Now      func() time.Time
}

// Surface returns the surface, to be mounted at each of its paths.
// Requests declaring a body over bodyLimit bytes are refused before any
// route.
func (h *Handler) Surface(bodyLimit int64) *httpapi.Surface {
	s := httpapi.NewSurface(h.writeError, h.Log, bodyLimit,
		"/token", "/application/", "/users/", "/roles/", "/organization/", "/webhooks/", "/events")
	route := func(pattern string, fn func(http.ResponseWriter, *http.Request) error) {
		s.Handle(pattern, h.wrap(s, fn, true))
	}
	s.Handle("POST /token", h.wrap(s, h.createToken, false))
	route("POST /application/{applicationId}/token", h.mintAppToken)
	route("GET /application/{applicationId}/token", h.listAppTokens)
	route("DELETE /application/{applicationId}/token/{tokenId}", h.revokeAppToken)
	route("GET /users", h.listUsers)
	route("POST /users", h.createUser)
	route("GET /users/{id}", h.getUser)
	route("PUT /users/{id}", h.updateUser)
	route("DELETE /users/{id}", h.deleteUser)
	route("POST /users/{id}/disable", h.disableUser)
	route("PUT /users/{id}/roles", h.setRoles)
	route("GET /roles", h.listRoles)
	route("POST /roles", h.createRole)
	route("GET /roles/{id}", h.getRole)
	route("PUT /roles/{id}", h.updateRole)
	route("DELETE /roles/{id}", h.deleteRole)
	route("GET /organization/{orgId}", h.getOrganization)
	route("PUT /organization/{orgId}", h.updateOrganization)
	route("GET /organization/{orgId}/account", h.listAccounts)
	route("GET /organization/{orgId}/account/search", h.searchAccounts)
	route("GET /organization/{orgId}/account/{accountId}", h.getAccount)
	route("PUT /organization/{orgId}/account/{accountId}", h.updateAccount)
	route("POST /webhooks", h.createWebhooks)
	route("GET /webhooks", h.listWebhooks)
	route("GET /webhooks/{id}", h.getWebhook)
	route("PATCH /webhooks/{id}", h.updateWebhook)
	route("DELETE /webhooks/{id}", h.deleteWebhook)
	route("POST /webhooks/{id}/rotate-secret", h.rotateWebhookSecret)
	route("POST /webhooks/{id}/test", h.testWebhook)
	route("GET /webhooks/{id}/messages", h.listWebhookMessages)
	route("GET /webhooks/{id}/messages/{messageId}", h.getWebhookMessage)
	route("POST /webhooks/{id}/messages/{messageId}/redeliver", h.redeliverWebhookMessage)
	route("POST /webhooks/{id}/replay", h.replayWebhook)
	route("GET /events", h.listEvents)
	return s
}

// token reads Authorization: the token alone, as ExactPay sends it, or
// after "Bearer " (which generic HTTP clients add).
func token(r *http.Request) (string, error) {
	v, err := httpapi.Header(r, "Authorization")
	if scheme, rest, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(rest), err
	}
	return v, err
}

func (h *Handler) wrap(s *httpapi.Surface, fn func(http.ResponseWriter, *http.Request) error, auth bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !auth {
			if err := fn(w, r); err != nil {
				s.Fail(w, r, err)
			}
			return
		}
		secret, err := token(r)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		if secret == "" {
			s.Fail(w, r, verigate.Errorf(verigate.EUNAUTHENTICATED, "An Authorization header with a token is required."))
			return
		}
		t, p, err := h.Access.VerifyToken(r.Context(), secret)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		ctx := verigate.WithPrincipal(r.Context(), p)
		if err := authz.Check(r.Pattern, p); err != nil {
			s.Fail(w, r, err)
			return
		}
		if err := fn(w, r.WithContext(ctx)); err != nil {
			s.Fail(w, r, err)
			return
		}
		// The slide outlives the request: a client gone after its answer
		// must not cost the token its window.
		if err := h.Access.SlideToken(context.WithoutCancel(ctx), t); err != nil {
			h.Log.Error("slide token", "err", err)
		}
	})
}

// errorBody is ExactPay's error shape; requestId is the X-Request-Id.
type errorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Type      string `json:"type"`
	RequestID string `json:"requestId"`
}

var errorKinds = map[string][2]string{
	verigate.EINVALID:         {"validation_error", "invalid_request_error"},
	verigate.EUNAUTHENTICATED: {"unauthorized", "authentication_error"},
	verigate.EFORBIDDEN:       {"forbidden", "authorization_error"},
	verigate.ENOTFOUND:        {"not_found", "invalid_request_error"},
	verigate.ECONFLICT:        {"conflict", "invalid_request_error"},
	verigate.ERATELIMITED:     {"rate_limited", "rate_limit_error"},
	verigate.ETOOLARGE:        {"payload_too_large", "invalid_request_error"},
	verigate.EUNSUPPORTED:     {"unsupported_media_type", "invalid_request_error"},
	httpapi.EMETHOD:           {"method_not_allowed", "invalid_request_error"},
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := verigate.ErrorCode(err)
	status := httpapi.Status(code)
	kind, ok := errorKinds[code]
	if !ok {
		kind = [2]string{"internal_error", "api_error"}
	}
	httpapi.SetRetryAfter(w, err)
	httpapi.WriteJSON(w, status, errorBody{Code: kind[0], Message: verigate.ErrorMessage(err), Type: kind[1],
		RequestID: verigate.RequestIDFrom(r.Context())})
}

func ok(w http.ResponseWriter, status int, v any) error {
	httpapi.WriteJSON(w, status, v)
	return nil
}

func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// paging reads skip and limit (at most 200).
func paging(r *http.Request, defLimit int) (skip, limit int, err error) {
	if skip, err = httpapi.QueryInt(r, "skip", 0); err != nil {
		return 0, 0, err
	}
	if limit, err = httpapi.QueryInt(r, "limit", defLimit); err != nil {
		return 0, 0, err
	}
	if skip < 0 || limit < 1 || limit > 200 {
		return 0, 0, verigate.FieldError("limit", "skip must not be negative and limit must be 1-200")
	}
	return skip, limit, nil
}

// page cuts one page out of a whole list.
func page[T, J any](list []T, skip, limit int, conv func(T) J) listBody[J] {
	out := []J{}
	for i, x := range list {
		if i >= skip && len(out) < limit {
			out = append(out, conv(x))
		}
	}
	return listBody[J]{Data: out, Total: len(list), Skip: skip, Limit: limit}
}
