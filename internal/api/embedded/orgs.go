package embedded

import (
	"net/http"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
)

type orgJSON struct {
	ID        string  `json:"id"`
	Key       string  `json:"key"`
	Name      string  `json:"name"`
	Kind      string  `json:"kind"`
	Core      string  `json:"core"`
	Status    string  `json:"status"`
	Parent    *string `json:"parent"`
	CreatedAt string  `json:"createdAt"`
	UpdatedAt string  `json:"updatedAt"`
}

func toOrg(o *verigate.Organization) orgJSON {
	j := orgJSON{ID: o.ID, Key: o.Key, Name: o.Name, Kind: string(o.Kind), Core: o.Core, Status: o.Status,
		CreatedAt: formatTime(o.CreatedAt), UpdatedAt: formatTime(o.UpdatedAt)}
	if o.ParentID != "" {
		j.Parent = &o.ParentID
	}
	return j
}

func (h *Handler) getOrganization(w http.ResponseWriter, r *http.Request) error {
	o, err := h.Access.OrganizationByID(r.Context(), r.PathValue("orgId"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toOrg(o))
}

type updateOrgRequest struct {
	Name *string `json:"name"`
	Core *string `json:"core"`
}

func decodeUpdate(r *http.Request) (access.OrgUpdate, error) {
	var in updateOrgRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return access.OrgUpdate{}, err
	}
	if in.Name == nil && in.Core == nil {
		return access.OrgUpdate{}, verigate.FieldError("name", "give name, core or both")
	}
	return access.OrgUpdate{Name: in.Name, Core: in.Core}, nil
}

func (h *Handler) updateOrganization(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeUpdate(r)
	if err != nil {
		return err
	}
	o, err := h.Access.UpdateOrganizationByID(r.Context(), r.PathValue("orgId"), in)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toOrg(o))
}

func (h *Handler) accounts(w http.ResponseWriter, r *http.Request, q string) error {
	list, err := h.Access.Accounts(r.Context(), r.PathValue("orgId"), q)
	if err != nil {
		return err
	}
	skip, limit, err := paging(r, 50)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, page(list, skip, limit, toOrg))
}

func (h *Handler) listAccounts(w http.ResponseWriter, r *http.Request) error {
	return h.accounts(w, r, "")
}

func (h *Handler) searchAccounts(w http.ResponseWriter, r *http.Request) error {
	q, err := httpapi.QueryString(r, "q")
	if err != nil {
		return err
	}
	if q == "" || verigate.TooLong(q, 100) {
		return verigate.FieldError("q", "is required (1-100 characters)")
	}
	return h.accounts(w, r, q)
}

func (h *Handler) getAccount(w http.ResponseWriter, r *http.Request) error {
	a, err := h.Access.Account(r.Context(), r.PathValue("orgId"), r.PathValue("accountId"), "accounts.read")
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toOrg(a))
}

func (h *Handler) updateAccount(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeUpdate(r)
	if err != nil {
		return err
	}
	a, err := h.Access.UpdateAccount(r.Context(), r.PathValue("orgId"), r.PathValue("accountId"), in)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toOrg(a))
}
