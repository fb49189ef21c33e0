package external

import (
	"net/http"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
)

// ErrBadCredentials is the one answer to every sign-in failure: a missing,
// wrong or foreign accessToken, wrong credentials, a disabled account.
var ErrBadCredentials = verigate.Errorf(verigate.EUNAUTHENTICATED, "Invalid credentials.")

type tokenRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type tokenResponse struct {
	Success         bool     `json:"success"`
	Token           string   `json:"token"`
	ExpiresOn       string   `json:"expiresOn"`
	InstitutionKeys []string `json:"institutionKeys"`
}

func (h *Handler) tokenRequest(w http.ResponseWriter, r *http.Request) error {
	if err := httpapi.LimitClient(r, h.Limiter, "signin", httpapi.SignInLimit, h.Now()); err != nil {
		return err
	}
	var in tokenRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Email == "" || in.Password == "" {
		return verigate.FieldError("email", "email and password are required")
	}
	accessToken, err := httpapi.Header(r, "accessToken")
	if err != nil {
		return err
	}
	if accessToken == "" {
		return ErrBadCredentials
	}
	g, err := h.Access.RequestSSOToken(r.Context(), accessToken, in.Email, in.Password)
	if err == access.ErrBadCredentials {
		return ErrBadCredentials
	} else if err != nil {
		return err
	}
	return ok(w, http.StatusOK, tokenResponse{Success: true, Token: g.Secret, ExpiresOn: formatTime(g.Token.ExpiresAt), InstitutionKeys: g.InstitutionKeys})
}

type successBody struct {
	Success bool `json:"success"`
}

func (h *Handler) tokenRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := h.Access.RevokeSSOToken(r.Context(), sessionFrom(r.Context()).sso.Token); err != nil {
		return err
	}
	return ok(w, http.StatusOK, successBody{Success: true})
}

type loginTokenResponse struct {
	Success   bool   `json:"success"`
	Token     string `json:"token"`
	URL       string `json:"url"`
	ExpiresOn string `json:"expiresOn"`
}

// dashboardURL is where a login token is redeemed.
func (h *Handler) dashboardURL(token string) string {
	return h.PublicURL + "/dashboard/sso?token=" + token
}

func (h *Handler) userToken(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	secret, t, err := h.Access.IssueLoginToken(r.Context(), sess.institution, sess.sso.Principal.RequestedBy)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, loginTokenResponse{Success: true, Token: secret, URL: h.dashboardURL(secret), ExpiresOn: formatTime(t.ExpiresAt)})
}
