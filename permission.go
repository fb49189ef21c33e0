package verigate

import (
	"slices"
	"strings"
)

// ApplicantPermissions are what a verification session's applicant holds,
// within its own session only: reading and working its steps and sources,
// and its connector steps' logins (opening one, reading its status,
// giving it a code). Reviewing, rotating the link or reading the
// session's results as a whole are not among them.
var ApplicantPermissions = []Permission{"verifications.read", "verifications.update", "sources.read",
	"connections.write", "status.read", "otp.write"}

// Permission is "resource.action", ExactPay's spelling. The /v1 surface
// spells the same permission "resource:action" as an API-key scope.
type Permission string

// Permissions is the catalogue: every permission the platform checks, with
// what it allows. A role or credential may only name permissions from here.
var Permissions = []struct {
	Name        Permission
	Description string
}{
	{"organizations.create", "create child institutions"},
	{"organizations.read", "read organizations"},
	{"organizations.update", "update organization name and core"},
	{"organizations.delete", "delete organizations"},
	{"organizations.disable", "disable organizations and every sign-in under them"},
	{"accounts.create", "create accounts (child institutions) under an organization"},
	{"accounts.read", "read accounts"},
	{"accounts.update", "update accounts"},
	{"accounts.delete", "delete accounts"},
	{"accounts.disable", "disable accounts"},
	{"users.create", "create users"},
	{"users.read", "read users"},
	{"users.update", "update users"},
	{"users.delete", "delete users"},
	{"users.disable", "disable users and kill their credentials"},
	{"users.set-permissions", "assign roles to users"},
	{"roles.create", "create roles"},
	{"roles.read", "read roles"},
	{"roles.update", "update roles"},
	{"roles.delete", "delete roles"},
	{"access-tokens.create", "issue onboarding access tokens"},
	{"access-tokens.read", "list onboarding access tokens"},
	{"access-tokens.delete", "revoke onboarding access tokens"},
	{"api-keys.create", "create API keys"},
	{"api-keys.read", "list API keys"},
	{"api-keys.delete", "revoke API keys"},
	{"application-tokens.create", "mint application tokens"},
	{"application-tokens.read", "list application tokens"},
	{"application-tokens.delete", "revoke application tokens"},
	{"webhooks.create", "create webhook endpoints"},
	{"webhooks.read", "read webhook endpoints and deliveries"},
	{"webhooks.update", "update webhook endpoints"},
	{"webhooks.delete", "delete webhook endpoints"},
	{"events.read", "read events"},
	{"audit.read", "read the audit log"},
	{"verifications.create", "create verification sessions"},
	{"verifications.read", "read verification sessions and results"},
	{"verifications.update", "update verification sessions (rotate links, cancel)"},
	{"verifications.review", "approve or reject sessions in the reviewer queue"},
	{"sources.read", "read the data-source catalog"},
	{"sources.manage", "import and enable data sources"},
	{"calls.read", "read the caller-verification queue and call details"},
	{"calls.create", "queue calls (simulated, or reported by test tooling)"},
	{"calls.assign", "assign inbound calls to members"},
	{"calls.enroll", "enroll a caller's voice"},
	{"calls.reject", "reject a caller's voice"},
	{"connections.read", "read connections"},
	{"connections.write", "create and refresh connections"},
	{"otp.write", "submit one-time codes to a waiting login"},
	{"status.read", "read connection status and its event stream"},
}

// IsPermission reports whether p is in the catalogue.
func IsPermission(p Permission) bool {
	for _, e := range Permissions {
		if e.Name == p {
			return true
		}
	}
	return false
}

// ForeignPermissions are the permission names of ExactPay's
// allowedPermissions list (seed 003) that Verigate has no resource for.
// An application token may name them, so an integrator can copy the
// seed's list, and keeps them as given; they authorize nothing, since no
// role holds them.
var ForeignPermissions = []Permission{
	"users.proxy",
	"organization-invites.create", "organization-invites.read", "organization-invites.delete",
	"account-invites.create", "account-invites.read", "account-invites.delete",
	"applications.create", "applications.read", "applications.update", "applications.delete",
	"templates.set", "templates.unset",
	"onboardings.read", "onboardings.update", "onboardings.delete",
	"onboarding-document-requests.create", "onboarding-document-requests.read",
	"onboarding-documents.create", "onboarding-documents.update", "onboarding-documents.read", "onboarding-documents.delete",
	"onboarding-notes.create", "onboarding-notes.read",
	"onboarding-workflows.create", "onboarding-workflows.read", "onboarding-workflows.update", "onboarding-workflows.delete",
	"charges.create", "charges.read",
	"plans.create", "plans.read", "plans.delete", "plans.update",
	"subscriptions.create", "subscriptions.read", "subscriptions.delete", "subscriptions.update",
	"customers.create", "customers.read", "customers.update", "customers.delete",
	"reports.create", "reports.read", "reports.update", "reports.delete",
}

// IsForeignPermission reports whether p is one of ForeignPermissions.
func IsForeignPermission(p Permission) bool { return slices.Contains(ForeignPermissions, p) }

// scopeAliases holds the /v1 scopes that are not a permission's own
// spelling: Reconbanker's "account" is Verigate's connection, and
// webhooks:write grants every change to webhook endpoints.
var scopeAliases = map[string][]Permission{
	"accounts:read":  {"connections.read"},
	"accounts:write": {"connections.write"},
	"webhooks:write": {"webhooks.create", "webhooks.update", "webhooks.delete"},
}

// ScopePermissions translates an API-key scope ("otp:write") into the
// permissions it grants (["otp.write"]). Either spelling is accepted.
func ScopePermissions(scope string) ([]Permission, bool) {
	if ps, ok := scopeAliases[scope]; ok {
		return ps, true
	}
	p := Permission(strings.Replace(scope, ":", ".", 1))
	return []Permission{p}, IsPermission(p)
}

// PermissionScope is the API-key scope that grants p, as keys spell it
// ("otp:write"; "accounts:read" for connections.read, "webhooks:write"
// for webhooks.create).
func PermissionScope(p Permission) string {
	for scope, ps := range scopeAliases {
		if slices.Contains(ps, p) {
			return scope
		}
	}
	return strings.Replace(string(p), ".", ":", 1)
}

// Scopes are the /v1 API-key scopes, in the order the documentation
// lists them. Any permission's own spelling ("users:read") is a scope
// too; these are the ones /v1 routes need.
var Scopes = []string{"accounts:read", "accounts:write", "status:read", "otp:write", "webhooks:read", "webhooks:write", "events:read",
	"verifications:create", "verifications:read", "verifications:update"}

// Built-in role names.
const (
	RoleOwner     = "owner"
	RoleAdmin     = "admin"
	RoleOperator  = "operator"
	RoleReviewer  = "reviewer"
	RoleDeveloper = "developer"
	RoleViewer    = "viewer"
)

// BuiltinRoles lists the built-in roles in order of decreasing power.
var BuiltinRoles = []string{RoleOwner, RoleAdmin, RoleOperator, RoleReviewer, RoleDeveloper, RoleViewer}

// RolePermissions returns the permissions of a built-in role, or nil.
//
//   - owner: everything.
//   - admin: everything but creating, deleting and disabling organizations.
//   - operator: call-centre and verification work: calls, sessions,
//     connections and one-time codes.
//   - reviewer: reads sessions and works the reviewer queue.
//   - developer: integration set-up: API keys, application tokens,
//     webhooks, events, and read access to sessions and sources.
//   - viewer: every ".read" permission, nothing else.
func RolePermissions(role string) []Permission {
	var out []Permission
	for _, e := range Permissions {
		if roleHas(role, e.Name) {
			out = append(out, e.Name)
		}
	}
	return out
}

func roleHas(role string, p Permission) bool {
	resource, action, _ := strings.Cut(string(p), ".")
	switch role {
	case RoleOwner:
		return true
	case RoleAdmin:
		return !(resource == "organizations" && slices.Contains([]string{"create", "delete", "disable"}, action))
	case RoleOperator:
		return slices.Contains([]string{"calls", "connections", "otp", "status"}, resource) ||
			p == "verifications.create" || p == "verifications.read" || p == "sources.read" || p == "events.read"
	case RoleReviewer:
		return p == "verifications.read" || p == "verifications.review" || p == "sources.read" || p == "events.read"
	case RoleDeveloper:
		return slices.Contains([]string{"api-keys", "application-tokens", "webhooks"}, resource) ||
			p == "events.read" || p == "verifications.read" || p == "sources.read" || p == "status.read"
	case RoleViewer:
		return action == "read"
	}
	return false
}

// IsBuiltinRole reports whether name is a built-in role.
func IsBuiltinRole(name string) bool { return slices.Contains(BuiltinRoles, name) }
