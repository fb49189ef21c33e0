package embedded

import (
	"net/http"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
)

type roleJSON struct {
	ID          string                `json:"id"`
	Account     *string               `json:"account"`
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Permissions []verigate.Permission `json:"permissions"`
	Builtin     bool                  `json:"builtin"`
	CreatedAt   *string               `json:"createdAt"`
	UpdatedAt   *string               `json:"updatedAt"`
}

func toRole(r *verigate.Role) roleJSON {
	j := roleJSON{ID: r.ID, Name: r.Name, Description: r.Description, Permissions: r.Permissions, Builtin: r.Builtin}
	if j.Permissions == nil {
		j.Permissions = []verigate.Permission{}
	}
	if !r.Builtin {
		j.Account, j.CreatedAt, j.UpdatedAt = &r.OrgID, formatTimePtr(&r.CreatedAt), formatTimePtr(&r.UpdatedAt)
	}
	return j
}

func (h *Handler) listRoles(w http.ResponseWriter, r *http.Request) error {
	list, err := h.Access.Roles(r.Context())
	if err != nil {
		return err
	}
	out := []roleJSON{}
	for _, role := range list {
		out = append(out, toRole(role))
	}
	return ok(w, http.StatusOK, listBody[roleJSON]{Data: out, Total: len(out), Skip: 0, Limit: len(out)})
}

type roleRequest struct {
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Permissions []verigate.Permission `json:"permissions"`
	Account     string                `json:"account"`
}

func (h *Handler) createRole(w http.ResponseWriter, r *http.Request) error {
	var in roleRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	role, err := h.Access.CreateRole(r.Context(), access.RoleInput{OrgID: in.Account, Name: in.Name, Description: in.Description, Permissions: in.Permissions})
	if err != nil {
		return err
	}
	return ok(w, http.StatusCreated, toRole(role))
}

func (h *Handler) getRole(w http.ResponseWriter, r *http.Request) error {
	role, err := h.Access.Role(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toRole(role))
}

type updateRoleRequest struct {
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Permissions []verigate.Permission `json:"permissions"`
}

func (h *Handler) updateRole(w http.ResponseWriter, r *http.Request) error {
	var in updateRoleRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	role, err := h.Access.UpdateRole(r.Context(), r.PathValue("id"), access.RoleInput{Name: in.Name, Description: in.Description, Permissions: in.Permissions})
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toRole(role))
}

func (h *Handler) deleteRole(w http.ResponseWriter, r *http.Request) error {
	if err := h.Access.DeleteRole(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return noContent(w)
}
