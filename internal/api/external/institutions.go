package external

import (
	"net/http"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
)

type institutionJSON struct {
	Key       string `json:"key"`
	Name      string `json:"name"`
	Core      string `json:"core"`
	Status    string `json:"status"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

func toInstitution(o *verigate.Organization) institutionJSON {
	return institutionJSON{Key: o.Key, Name: o.Name, Core: o.Core, Status: o.Status,
		CreatedAt: formatTime(o.CreatedAt), UpdatedAt: formatTime(o.UpdatedAt)}
}

type institutionBody struct {
	Success     bool            `json:"success"`
	Institution institutionJSON `json:"institution"`
}

// ErrInstitutionNotFound answers an institution the reseller does not own
// exactly as one that does not exist.
var ErrInstitutionNotFound = verigate.Errorf(verigate.ENOTFOUND, "Institution not found")

// institution returns the reseller's own institution with key.
func (h *Handler) institution(r *http.Request, key string) (*verigate.Organization, error) {
	o, err := h.Access.Organization(r.Context(), key)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND || (err == nil && (o.Kind != verigate.OrgInstitution ||
		o.ParentID != sessionFrom(r.Context()).sso.User.OrgID)) {
		return nil, ErrInstitutionNotFound
	}
	return o, err
}

func (h *Handler) listInstitutions(w http.ResponseWriter, r *http.Request) error {
	orgs, err := h.Access.ListOrganizations(r.Context(), verigate.OrgFilter{Kind: verigate.OrgInstitution,
		ParentID: sessionFrom(r.Context()).sso.User.OrgID})
	if err != nil {
		return err
	}
	out := []institutionJSON{}
	for _, o := range orgs {
		out = append(out, toInstitution(o))
	}
	return ok(w, http.StatusOK, struct {
		Success      bool              `json:"success"`
		Institutions []institutionJSON `json:"institutions"`
	}{true, out})
}

type addInstitution struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Core string `json:"core"`
}

func (h *Handler) addInstitution(w http.ResponseWriter, r *http.Request) error {
	var in addInstitution
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	o, err := h.Access.CreateOrganization(r.Context(), access.OrgInput{Kind: verigate.OrgInstitution, Key: in.Key,
		Name: in.Name, Core: in.Core, ParentKey: sessionFrom(r.Context()).sso.Org.Key})
	if err != nil {
		return err
	}
	return ok(w, http.StatusCreated, institutionBody{Success: true, Institution: toInstitution(o)})
}

func (h *Handler) getInstitution(w http.ResponseWriter, r *http.Request) error {
	o, err := h.institution(r, r.PathValue("key"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, institutionBody{Success: true, Institution: toInstitution(o)})
}

type updateInstitution struct {
	Name *string `json:"name"`
	Core *string `json:"core"`
}

func (h *Handler) updateInstitution(w http.ResponseWriter, r *http.Request) error {
	var in updateInstitution
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Name == nil && in.Core == nil {
		return verigate.FieldError("name", "give name, core or both")
	}
	if _, err := h.institution(r, r.PathValue("key")); err != nil {
		return err
	}
	o, err := h.Access.UpdateOrganization(r.Context(), r.PathValue("key"), access.OrgUpdate{Name: in.Name, Core: in.Core})
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, institutionBody{Success: true, Institution: toInstitution(o)})
}

func (h *Handler) loginInstitution(w http.ResponseWriter, r *http.Request) error {
	o, err := h.institution(r, r.PathValue("key"))
	if err != nil {
		return err
	}
	sess := sessionFrom(r.Context())
	operator := sess.sso.Principal.RequestedBy
	if operator == "" {
		operator = sess.sso.User.Username
	}
	secret, t, err := h.Access.IssueLoginToken(r.Context(), o, operator)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, loginTokenResponse{Success: true, Token: secret, URL: h.dashboardURL(secret), ExpiresOn: formatTime(t.ExpiresAt)})
}
