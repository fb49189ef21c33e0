package dashapi

import (
	"net/http"
	"regexp"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Mode     string `json:"mode"`
}

type userJSON struct {
	ID             string   `json:"id"`
	Email          string   `json:"email"`
	Username       string   `json:"username"`
	OrganizationID string   `json:"organization_id"`
	Roles          []string `json:"roles"`
}

type loginResponse struct {
	Token     string   `json:"token"`
	TokenType string   `json:"token_type"`
	Mode      string   `json:"mode"`
	ExpiresAt string   `json:"expires_at"`
	User      userJSON `json:"user"`
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	if err := httpapi.LimitClient(r, h.Limiter, "signin", httpapi.SignInLimit, h.Now()); err != nil {
		return err
	}
	var in loginRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Email == "" || in.Password == "" {
		return verigate.FieldError("email", "email and password are required")
	}
	tok, exp, u, err := h.Access.SignInJWT(r.Context(), in.Email, in.Password, verigate.Mode(in.Mode))
	if err != nil {
		return err
	}
	mode := in.Mode
	if mode == "" {
		mode = string(verigate.ModeLive)
	}
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	httpapi.WriteJSON(w, http.StatusOK, loginResponse{Token: tok, TokenType: "Bearer", Mode: mode, ExpiresAt: formatTime(exp),
		User: userJSON{ID: u.ID, Email: u.Email, Username: u.Username, OrganizationID: u.OrgID, Roles: roles}})
	return nil
}

// keyJSON is Reconbanker's API key object, field for field.
type keyJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Prefix     string   `json:"prefix"`
	Scopes     []string `json:"scopes"`
	AccountIDs []string `json:"account_ids"`
	CreatedAt  string   `json:"created_at"`
	LastUsedAt *string  `json:"last_used_at"`
	RevokedAt  *string  `json:"revoked_at"`
}

// createdKeyJSON is a new key, with the secret shown this once.
type createdKeyJSON struct {
	keyJSON
	Key string `json:"key"`
}

func toKey(k *verigate.APIKey) keyJSON {
	accounts := k.Accounts
	if accounts == nil {
		accounts = []string{}
	}
	return keyJSON{ID: k.ID, Name: k.Name, Prefix: access.APIKeyPrefix(k.ID), Scopes: k.Scopes, AccountIDs: accounts,
		CreatedAt: formatTime(k.CreatedAt), LastUsedAt: formatTimePtr(k.LastUsedAt), RevokedAt: formatTimePtr(k.RevokedAt)}
}

func (h *Handler) listKeys(w http.ResponseWriter, r *http.Request) error {
	keys, scopes, err := h.Access.MyAPIKeys(r.Context())
	if err != nil {
		return err
	}
	out := make([]keyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, toKey(k))
	}
	if scopes == nil {
		scopes = []string{}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"keys": out, "available_scopes": scopes})
	return nil
}

type createKeyRequest struct {
	Name       string   `json:"name"`
	Scopes     []string `json:"scopes"`
	AccountIDs []string `json:"account_ids"`
}

func (h *Handler) createKey(w http.ResponseWriter, r *http.Request) error {
	var in createKeyRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Name == "" {
		return verigate.FieldError("name", "is required")
	}
	secret, k, err := h.Access.CreateMyAPIKey(r.Context(), access.APIKeyInput{Name: in.Name, Scopes: in.Scopes, Accounts: in.AccountIDs, Mode: verigate.ModeLive})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, createdKeyJSON{keyJSON: toKey(k), Key: secret})
	return nil
}

var keyIDPattern = regexp.MustCompile(`^[0-9a-f]{1,64}$`)

func (h *Handler) revokeKey(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !keyIDPattern.MatchString(id) {
		return access.ErrAPIKeyNotFound
	}
	if err := h.Access.RevokeMyAPIKey(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
