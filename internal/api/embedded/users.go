package embedded

import (
	"net/http"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
)

type userJSON struct {
	ID             string   `json:"id"`
	Email          string   `json:"email"`
	Username       string   `json:"username"`
	Roles          []string `json:"roles"`
	Account        string   `json:"account"`
	Status         string   `json:"status"`
	ServiceAccount bool     `json:"serviceAccount"`
	CreatedAt      string   `json:"createdAt"`
	UpdatedAt      string   `json:"updatedAt"`
}

func toUser(u *verigate.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Username: u.Username, Roles: u.Roles, Account: u.OrgID, Status: u.Status,
		ServiceAccount: u.ServiceAccount, CreatedAt: formatTime(u.CreatedAt), UpdatedAt: formatTime(u.UpdatedAt)}
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) error {
	account, err := httpapi.QueryString(r, "account")
	if err != nil {
		return err
	}
	list, err := h.Access.UsersIn(r.Context(), account)
	if err != nil {
		return err
	}
	skip, limit, err := paging(r, 50)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, page(list, skip, limit, toUser))
}

type createUserRequest struct {
	Email    string   `json:"email"`
	Username string   `json:"username"`
	Password string   `json:"password"`
	Roles    []string `json:"roles"`
	Account  string   `json:"account"`
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) error {
	var in createUserRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Account == "" {
		in.Account = verigate.PrincipalFrom(r.Context()).OrgID
	}
	u, err := h.Access.CreateUser(r.Context(), access.UserInput{OrgID: in.Account, Email: in.Email, Username: in.Username,
		Password: in.Password, Roles: in.Roles})
	if err != nil {
		return err
	}
	return ok(w, http.StatusCreated, toUser(u))
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := h.Access.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toUser(u))
}

type updateUserRequest struct {
	Email    *string `json:"email"`
	Username *string `json:"username"`
}

func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request) error {
	var in updateUserRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Email == nil && in.Username == nil {
		return verigate.FieldError("email", "give email, username or both")
	}
	u, err := h.Access.UpdateUser(r.Context(), r.PathValue("id"), access.UserUpdate{Email: in.Email, Username: in.Username})
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toUser(u))
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := h.Access.DeleteUser(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return noContent(w)
}

func (h *Handler) disableUser(w http.ResponseWriter, r *http.Request) error {
	u, err := h.Access.DisableUser(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toUser(u))
}

type rolesRequest struct {
	Roles []string `json:"roles"`
}

func (h *Handler) setRoles(w http.ResponseWriter, r *http.Request) error {
	var in rolesRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	u, err := h.Access.SetRoles(r.Context(), r.PathValue("id"), in.Roles)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toUser(u))
}
