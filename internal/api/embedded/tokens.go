package embedded

import (
	"net/http"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
)

// APIVersion is reported with every user token.
const APIVersion = "1.0.0"

type tokenRequest struct {
	Email       string `json:"email"`
	Password    string `json:"password"`
	Application string `json:"application"`
	Mode        string `json:"mode"`
}

// tokenResponse is every field of the seed's POST /token response.
type tokenResponse struct {
	IsAuthenticated    bool                  `json:"isAuthenticated"`
	Mode               string                `json:"mode"`
	Token              string                `json:"token"`
	Type               string                `json:"type"`
	User               string                `json:"user"`
	Application        string                `json:"application"`
	Account            string                `json:"account"`
	AllowedPermissions []verigate.Permission `json:"allowedPermissions"`
	AllowedAccounts    []string              `json:"allowedAccounts"`
	EnabledFeatures    []string              `json:"enabledFeatures"`
	APIVersion         string                `json:"apiVersion"`
	ExpiresAt          string                `json:"expiresAt"`
}

func (h *Handler) createToken(w http.ResponseWriter, r *http.Request) error {
	if err := httpapi.LimitClient(r, h.Limiter, "signin", httpapi.SignInLimit, h.Now()); err != nil {
		return err
	}
	var in tokenRequest
	if err := httpapi.DecodeJSONLenient(r, &in); err != nil { // ExactPay's own example has a trailing comma
		return err
	}
	if in.Email == "" || in.Password == "" {
		return verigate.FieldError("email", "email and password are required")
	}
	app := in.Application
	if app == "" {
		var err error
		if app, err = httpapi.Header(r, "x-application-id"); err != nil {
			return err
		}
	}
	secret, t, p, err := h.Access.SignInToken(r.Context(), in.Email, in.Password, app, verigate.Mode(in.Mode))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, tokenResponse{IsAuthenticated: true, Mode: string(t.Mode), Token: secret, Type: t.Type,
		User: t.UserID, Application: t.Application, Account: t.OrgID, AllowedPermissions: p.Permissions,
		AllowedAccounts: p.Orgs, EnabledFeatures: []string{}, APIVersion: APIVersion, ExpiresAt: formatTime(*t.ExpiresAt)})
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func formatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatTime(*t)
	return &s
}

type mintRequest struct {
	Label       string                `json:"label"`
	Permissions []verigate.Permission `json:"permissions"`
	Accounts    []string              `json:"accounts"`
	ExpiresAt   *time.Time            `json:"expiresAt"`
}

type appTokenJSON struct {
	ID                 string                `json:"id"`
	Label              string                `json:"label"`
	Type               string                `json:"type"`
	Token              string                `json:"token,omitempty"`
	Application        string                `json:"application"`
	Permissions        []verigate.Permission `json:"permissions"`
	Mode               string                `json:"mode"`
	AllowedPermissions []verigate.Permission `json:"allowedPermissions,omitempty"`
	AllowedAccounts    []string              `json:"allowedAccounts"`
	CreatedAt          string                `json:"createdAt"`
	ExpiresAt          *string               `json:"expiresAt"`
	RevokedAt          *string               `json:"revokedAt"`
}

func toAppToken(t *verigate.Token) appTokenJSON {
	j := appTokenJSON{ID: t.ID, Label: t.Label, Type: t.Type, Application: t.Application, Permissions: t.Permissions,
		Mode: string(t.Mode), AllowedAccounts: t.Accounts, CreatedAt: formatTime(t.CreatedAt), ExpiresAt: formatTimePtr(t.ExpiresAt),
		RevokedAt: formatTimePtr(t.RevokedAt)}
	if j.Permissions == nil {
		j.Permissions = []verigate.Permission{}
	}
	if j.AllowedAccounts == nil {
		j.AllowedAccounts = []string{}
	}
	return j
}

func (h *Handler) mintAppToken(w http.ResponseWriter, r *http.Request) error {
	var in mintRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Permissions == nil {
		return verigate.FieldError("permissions", "is required: the permissions this token may use")
	}
	secret, t, p, err := h.Access.MintApplicationToken(r.Context(), access.AppTokenInput{Application: r.PathValue("applicationId"),
		Label: in.Label, Permissions: in.Permissions, Accounts: in.Accounts, ExpiresAt: in.ExpiresAt})
	if err != nil {
		return err
	}
	j := toAppToken(t)
	j.Token, j.AllowedPermissions, j.AllowedAccounts = secret, p.Permissions, p.Orgs
	return ok(w, http.StatusCreated, j)
}

func (h *Handler) listAppTokens(w http.ResponseWriter, r *http.Request) error {
	skip, err := httpapi.QueryInt(r, "skip", 0)
	if err != nil {
		return err
	}
	limit, err := httpapi.QueryInt(r, "limit", 20)
	if err != nil {
		return err
	}
	sort, err := httpapi.QueryString(r, "sort")
	if err != nil {
		return err
	}
	if sort != "" && sort != "createdAt" && sort != "-createdAt" {
		return verigate.FieldError("sort", "must be createdAt or -createdAt")
	}
	list, total, err := h.Access.ApplicationTokens(r.Context(), r.PathValue("applicationId"), skip, limit, sort != "createdAt")
	if err != nil {
		return err
	}
	out := []appTokenJSON{}
	for _, t := range list {
		out = append(out, toAppToken(t))
	}
	return ok(w, http.StatusOK, listBody[appTokenJSON]{Data: out, Total: total, Skip: skip, Limit: limit})
}

// listBody is every list's shape.
type listBody[T any] struct {
	Data  []T `json:"data"`
	Total int `json:"total"`
	Skip  int `json:"skip"`
	Limit int `json:"limit"`
}

func (h *Handler) revokeAppToken(w http.ResponseWriter, r *http.Request) error {
	if err := h.Access.RevokeApplicationToken(r.Context(), r.PathValue("applicationId"), r.PathValue("tokenId")); err != nil {
		return err
	}
	return noContent(w)
}
