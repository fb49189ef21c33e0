package dashboard

import (
	"net/http"
	"slices"
	"strings"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
)

// Users and roles of the acting organization: the access service's use
// cases, as the embedded /users and /roles routes call them. A person
// sees only the roles and permissions they hold to grant; the service
// refuses the rest anyway.

// userRoutes registers the pages of this section.
func (h *Handler) userRoutes(rt *router) {
	rt.page("GET /dashboard/users", h.users)
	rt.page("GET /dashboard/users/new", h.newUser)
	rt.form("POST /dashboard/users", h.createUser)
	rt.page("GET /dashboard/users/{id}", h.user)
	rt.form("POST /dashboard/users/{id}/roles", h.setUserRoles)
	rt.form("POST /dashboard/users/{id}/disable", h.disableUser)
	rt.page("GET /dashboard/roles", h.roles)
	rt.page("GET /dashboard/roles/{id}", h.role)
	rt.form("POST /dashboard/roles", h.createRole)
	rt.form("POST /dashboard/roles/{id}", h.updateRole)
	rt.form("POST /dashboard/roles/{id}/delete", h.deleteRole)
}

// roleNames names roles for display: built-in ones by name, custom ones
// by their name when the person may read roles, else by id.
type roleNames map[string]string

// Name is a role id's name.
func (n roleNames) Name(id string) string {
	if name, ok := n[id]; ok {
		return name
	}
	return id
}

// rolesFor lists the roles the person may see (built-in ones when they
// may not read roles) and their names.
func (q *req) rolesFor() ([]*verigate.Role, roleNames, error) {
	var list []*verigate.Role
	if q.p.Can("roles.read", "") {
		var err error
		if list, err = q.h.Access.Roles(q.ctx); err != nil {
			return nil, nil, err
		}
	} else {
		for _, name := range verigate.BuiltinRoles {
			list = append(list, &verigate.Role{ID: name, Name: name, Permissions: verigate.RolePermissions(name), Builtin: true})
		}
	}
	names := roleNames{}
	for _, r := range list {
		names[r.ID] = r.Name
	}
	return list, names, nil
}

// grantableRoles are the roles a person could grant to a user of org:
// built-in ones and the custom roles of org or its parent, whose every
// permission they hold.
func grantableRoles(p *verigate.Principal, org *verigate.Organization, all []*verigate.Role) []*verigate.Role {
	var out []*verigate.Role
	for _, r := range all {
		if (r.Builtin || r.OrgID == org.ID || (org.ParentID != "" && r.OrgID == org.ParentID)) && p.Lacks(r.Permissions, nil) == "" {
			out = append(out, r)
		}
	}
	return out
}

type usersView struct {
	Users []*verigate.User
	Names roleNames
}

func (h *Handler) users(q *req) error {
	org, err := q.Org()
	if err != nil {
		return err
	}
	list, err := h.Access.ListUsers(q.ctx, org.Key)
	if err != nil {
		return err
	}
	_, names, err := q.rolesFor()
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "users", "Users", "/dashboard/users", usersView{Users: list, Names: names})
}

// userForm is the new-user form, as entered.
type userForm struct {
	Email, Username string
	Roles           []string
	Error           string
	Fields          map[string]string
}

// Has tells whether the form selects role id.
func (f userForm) Has(id string) bool { return slices.Contains(f.Roles, id) }

type newUserView struct {
	Form  userForm
	Roles []*verigate.Role
}

func (h *Handler) renderNewUser(q *req, status int, f userForm) error {
	org, err := q.Org()
	if err != nil {
		return err
	}
	all, _, err := q.rolesFor()
	if err != nil {
		return err
	}
	return q.render(status, "user_new", "New user", "/dashboard/users", newUserView{Form: f, Roles: grantableRoles(q.p, org, all)})
}

func (h *Handler) newUser(q *req) error {
	return h.renderNewUser(q, http.StatusOK, userForm{})
}

func (h *Handler) createUser(q *req) error {
	org, err := q.Org()
	if err != nil {
		return err
	}
	f := userForm{Email: strings.TrimSpace(q.r.PostForm.Get("email")), Username: strings.TrimSpace(q.r.PostForm.Get("username")),
		Roles: q.r.PostForm["roles"]}
	u, err := h.Access.CreateUser(q.ctx, access.UserInput{OrgID: org.ID, Email: f.Email, Username: f.Username,
		Password: q.r.PostForm.Get("password"), Roles: f.Roles})
	switch verigate.ErrorCode(err) {
	case "":
		return q.redirect("/dashboard/users/"+u.ID, "User created.")
	case verigate.EINVALID:
		formError(err, &f.Error, &f.Fields)
		return h.renderNewUser(q, http.StatusUnprocessableEntity, f)
	case verigate.ECONFLICT:
		f.Error = verigate.ErrorMessage(err)
		return h.renderNewUser(q, http.StatusConflict, f)
	}
	return err
}

type userView struct {
	User  *verigate.User
	Names roleNames
	Roles []*verigate.Role // the roles the person may grant
}

// Has tells whether the user holds role id.
func (v userView) Has(id string) bool { return slices.Contains(v.User.Roles, id) }

// userPathID reads a user's id from the path: anything but a UUID is a
// missing user.
func userPathID(q *req) (string, error) {
	id := q.r.PathValue("id")
	if !httpapi.IsUUID(id) {
		return "", access.ErrUserNotFound
	}
	return id, nil
}

func (h *Handler) user(q *req) error {
	id, err := userPathID(q)
	if err != nil {
		return err
	}
	u, err := h.Access.User(q.ctx, id)
	if err != nil {
		return err
	}
	org, err := q.Org()
	if err != nil {
		return err
	}
	all, names, err := q.rolesFor()
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "user", u.Email, "/dashboard/users", userView{User: u, Names: names, Roles: grantableRoles(q.p, org, all)})
}

func (h *Handler) setUserRoles(q *req) error {
	id, err := userPathID(q)
	if err != nil {
		return err
	}
	if _, err := h.Access.SetRoles(q.ctx, id, q.r.PostForm["roles"]); err != nil {
		return err
	}
	return q.redirect("/dashboard/users/"+id, "Roles saved.")
}

func (h *Handler) disableUser(q *req) error {
	id, err := userPathID(q)
	if err != nil {
		return err
	}
	if _, err := h.Access.DisableUser(q.ctx, id); err != nil {
		return err
	}
	return q.redirect("/dashboard/users/"+id, "User disabled: every sign-in and credential of theirs has stopped working.")
}

// roleForm is the custom-role form, as entered.
type roleForm struct {
	Name, Description string
	Permissions       []verigate.Permission
	Error             string
	Fields            map[string]string
}

// Has tells whether the form selects permission p.
func (f roleForm) Has(p verigate.Permission) bool { return slices.Contains(f.Permissions, p) }

// permissionChoice is a permission a person may put in a role.
type permissionChoice struct {
	Name        verigate.Permission
	Description string
}

// grantablePermissions are the catalogue's permissions the person holds.
func grantablePermissions(p *verigate.Principal) []permissionChoice {
	var out []permissionChoice
	for _, e := range verigate.Permissions {
		if p.Lacks([]verigate.Permission{e.Name}, nil) == "" {
			out = append(out, permissionChoice{e.Name, e.Description})
		}
	}
	return out
}

func readRoleForm(q *req) roleForm {
	f := roleForm{Name: strings.TrimSpace(q.r.PostForm.Get("name")), Description: strings.TrimSpace(q.r.PostForm.Get("description"))}
	for _, p := range q.r.PostForm["permissions"] {
		f.Permissions = append(f.Permissions, verigate.Permission(p))
	}
	return f
}

type rolesView struct {
	Roles       []*verigate.Role
	Form        roleForm
	Permissions []permissionChoice
}

func (h *Handler) renderRoles(q *req, status int, f roleForm) error {
	list, err := h.Access.Roles(q.ctx)
	if err != nil {
		return err
	}
	return q.render(status, "roles", "Roles", "/dashboard/roles", rolesView{Roles: list, Form: f, Permissions: grantablePermissions(q.p)})
}

func (h *Handler) roles(q *req) error { return h.renderRoles(q, http.StatusOK, roleForm{}) }

func (h *Handler) createRole(q *req) error {
	org, err := q.Org()
	if err != nil {
		return err
	}
	f := readRoleForm(q)
	r, err := h.Access.CreateRole(q.ctx, access.RoleInput{OrgID: org.ID, Name: f.Name, Description: f.Description, Permissions: f.Permissions})
	if verigate.ErrorCode(err) == verigate.EINVALID {
		formError(err, &f.Error, &f.Fields)
		return h.renderRoles(q, http.StatusUnprocessableEntity, f)
	} else if err != nil {
		return err
	}
	return q.redirect("/dashboard/roles/"+r.ID, "Role created.")
}

// rolePathID reads a role's id from the path: a built-in role's name or
// a UUID; anything else is a missing role.
func rolePathID(q *req) (string, error) {
	id := q.r.PathValue("id")
	if !verigate.IsBuiltinRole(id) && !httpapi.IsUUID(id) {
		return "", access.ErrRoleNotFound
	}
	return id, nil
}

type roleView struct {
	Role        *verigate.Role
	Form        roleForm
	Permissions []permissionChoice
	Described   map[verigate.Permission]string
}

func (h *Handler) renderRole(q *req, status int, r *verigate.Role, f roleForm) error {
	v := roleView{Role: r, Form: f, Permissions: grantablePermissions(q.p), Described: map[verigate.Permission]string{}}
	for _, e := range verigate.Permissions {
		v.Described[e.Name] = e.Description
	}
	return q.render(status, "role", "Role "+r.Name, "/dashboard/roles", v)
}

func (h *Handler) role(q *req) error {
	id, err := rolePathID(q)
	if err != nil {
		return err
	}
	r, err := h.Access.Role(q.ctx, id)
	if err != nil {
		return err
	}
	return h.renderRole(q, http.StatusOK, r, roleForm{Name: r.Name, Description: r.Description, Permissions: r.Permissions})
}

func (h *Handler) updateRole(q *req) error {
	id, err := rolePathID(q)
	if err != nil {
		return err
	}
	f := readRoleForm(q)
	r, err := h.Access.UpdateRole(q.ctx, id, access.RoleInput{Name: f.Name, Description: f.Description, Permissions: f.Permissions})
	if verigate.ErrorCode(err) == verigate.EINVALID {
		formError(err, &f.Error, &f.Fields)
		if r, err = h.Access.Role(q.ctx, id); err != nil {
			return err
		}
		return h.renderRole(q, http.StatusUnprocessableEntity, r, f)
	} else if err != nil {
		return err
	}
	return q.redirect("/dashboard/roles/"+r.ID, "Role saved.")
}

func (h *Handler) deleteRole(q *req) error {
	id, err := rolePathID(q)
	if err != nil {
		return err
	}
	if err := h.Access.DeleteRole(q.ctx, id); err != nil {
		return err
	}
	return q.redirect("/dashboard/roles", "Role deleted.")
}
