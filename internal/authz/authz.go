// Package authz is the one permission table of the whole server: every
// route of every surface names the permission it needs, or how else it is
// guarded. Each surface checks it after authenticating a request (the
// services check again, with the organization); a route missing from the
// table is refused, and a test fails, so nothing is unguarded by omission.
package authz

import "github.com/verigate/verigate"

// Guard says how a route without a permission is guarded.
type Guard string

const (
	Public        Guard = "public"        // no credential (ops endpoints)
	Credentials   Guard = "credentials"   // the request carries its own (sign-in)
	Authenticated Guard = "authenticated" // any authenticated principal
	Applicant     Guard = "applicant"     // a CSRF token: the session's applicant
	LinkToken     Guard = "link"          // a session's link token
	Signed        Guard = "signed"        // a Standard Webhooks signature
	CallbackKey   Guard = "callback"      // a step's callback key, in the path
)

// Rule is what one route needs: a permission (of the principal), or a guard.
// A rule with both lets an applicant in too.
type Rule struct {
	Permission verigate.Permission
	Guard      Guard
}

func perm(p verigate.Permission) Rule { return Rule{Permission: p} }

// Routes is the table, by the pattern each route is registered with.
var Routes = map[string]Rule{
	"GET /healthz":      {Guard: Public},
	"GET /readyz":       {Guard: Public},
	"GET /metrics":      {Guard: Public},
	"GET /openapi.json": {Guard: Public},
	"GET /docs":         {Guard: Public},

	"POST /external/token/request":                {Guard: Credentials},
	"POST /external/token/revoke":                 {Guard: Authenticated},
	"POST /external/token/request/user":           perm("organizations.read"),
	"GET /external/institutions":                  perm("organizations.read"),
	"POST /external/institutions":                 perm("organizations.create"),
	"GET /external/institutions/{key}":            perm("organizations.read"),
	"PUT /external/institutions/{key}":            perm("organizations.update"),
	"POST /external/institutions/{key}/login":     perm("organizations.read"),
	"GET /external/calls/queue":                   perm("calls.read"),
	"POST /external/calls/assign":                 perm("calls.assign"),
	"GET /external/calls/{voiceId}/details":       perm("calls.read"),
	"POST /external/calls/{voiceId}/enroll":       perm("calls.enroll"),
	"POST /external/calls/{voiceId}/reject-voice": perm("calls.reject"),
	"POST /external/voice/{institutionKey}/calls": {Guard: Signed},

	"POST /partner/session":                               perm("verifications.create"),
	"GET /partner/session/{sessionId}":                    perm("verifications.read"),
	"POST /partner/session/{sessionId}/link":              perm("verifications.update"),
	"POST /partner/sdk/session":                           perm("verifications.create"),
	"GET /partner/reviewer/sessions":                      perm("verifications.read"),
	"POST /partner/reviewer/sessions/{sessionId}/approve": perm("verifications.review"),
	"POST /partner/reviewer/sessions/{sessionId}/reject":  perm("verifications.review"),
	"GET /partner/types":                                  {Permission: "sources.read", Guard: Applicant},
	"GET /partner/sources/type/{verificationTypeId}":      {Permission: "sources.read", Guard: Applicant},
	"GET /partner/sources/session/{sessionId}":            {Guard: Applicant},
	"GET /partner/sources/search":                         {Guard: Applicant},
	"POST /partner/step/select-data-source":               {Guard: Applicant},
	"GET /partner/steps/session/{sessionId}":              {Guard: Applicant},
	"POST /partner/step/initiate":                         {Guard: Applicant},
	"GET /partner/steps/{stepId}":                         {Guard: Applicant},
	"POST /partner/step/submit":                           {Guard: Applicant},
	"POST /partner/step/connect":                          {Guard: Applicant},
	"POST /partner/step/otp":                              {Guard: Applicant},
	"GET /partner/verification/verify":                    {Guard: LinkToken},

	// The hosted journey's pages: the applicant cookie the link gave.
	"GET /journey/sessions/{sessionId}":          {Guard: Applicant},
	"GET /journey/sessions/{sessionId}/consent":  {Guard: Applicant},
	"POST /journey/sessions/{sessionId}/consent": {Guard: Applicant},
	"GET /journey/sessions/{sessionId}/sources":  {Guard: Applicant},
	"POST /journey/sessions/{sessionId}/sources": {Guard: Applicant},
	"GET /journey/sessions/{sessionId}/progress": {Guard: Applicant},
	"GET /journey/sessions/{sessionId}/events":   {Guard: Applicant},
	"GET /journey/sessions/{sessionId}/done":     {Guard: Applicant},
	"POST /journey/steps/{stepId}/initiate":      {Guard: Applicant},
	"GET /journey/steps/{stepId}/connect":        {Guard: Applicant},
	"POST /journey/steps/{stepId}/connect":       {Guard: Applicant},
	"POST /journey/steps/{stepId}/code":          {Guard: Applicant},
	"GET /journey/steps/{stepId}/reclaim":        {Guard: Applicant},
	"GET /journey/steps/{stepId}/sandbox":        {Guard: Applicant},
	"POST /journey/steps/{stepId}/proof":         {Guard: Applicant},
	// The Reclaim app's callback: the step's callback key (an HMAC the
	// service checks), no cookie; it then acts as the session's applicant.
	"POST /journey/steps/{stepId}/callback/{key}": {Guard: CallbackKey},

	"POST /v1/accounts":                                                      perm("connections.write"),
	"GET /v1/accounts":                                                       perm("connections.read"),
	"GET /v1/accounts/{accountId}":                                           perm("connections.read"),
	"GET /v1/accounts/{accountId}/status":                                    perm("status.read"),
	"POST /v1/accounts/{accountId}/otp":                                      perm("otp.write"),
	"POST /v1/accounts/{accountId}/refresh":                                  perm("connections.write"),
	"GET /v1/accounts/{accountId}/events":                                    perm("status.read"),
	"POST /v1/webhook-endpoints":                                             perm("webhooks.create"),
	"GET /v1/webhook-endpoints":                                              perm("webhooks.read"),
	"GET /v1/webhook-endpoints/{endpointId}":                                 perm("webhooks.read"),
	"PATCH /v1/webhook-endpoints/{endpointId}":                               perm("webhooks.update"),
	"DELETE /v1/webhook-endpoints/{endpointId}":                              perm("webhooks.delete"),
	"POST /v1/webhook-endpoints/{endpointId}/rotate-secret":                  perm("webhooks.update"),
	"GET /v1/verification-secret":                                            perm("webhooks.read"),
	"POST /v1/verification-secret/rotate":                                    perm("webhooks.update"),
	"POST /v1/webhook-endpoints/{endpointId}/test":                           perm("webhooks.update"),
	"GET /v1/webhook-endpoints/{endpointId}/messages":                        perm("webhooks.read"),
	"GET /v1/webhook-endpoints/{endpointId}/messages/{messageId}":            perm("webhooks.read"),
	"POST /v1/webhook-endpoints/{endpointId}/messages/{messageId}/redeliver": perm("webhooks.update"),
	"POST /v1/webhook-endpoints/{endpointId}/replay":                         perm("webhooks.update"),
	"GET /v1/events":                                                         perm("events.read"),
	"POST /v1/verifications":                                                 perm("verifications.create"),
	"GET /v1/verifications":                                                  perm("verifications.read"),
	"GET /v1/verifications/{id}":                                             perm("verifications.read"),
	"POST /v1/verifications/{id}/cancel":                                     perm("verifications.update"),
	"POST /v1/verifications/{id}/link":                                       perm("verifications.update"),
	"GET /v1/verifications/{id}/qr.svg":                                      perm("verifications.read"),
	"GET /v1/verifications/{id}/qr.png":                                      perm("verifications.read"),

	"POST /token": {Guard: Credentials},

	// The dashboard's pages (internal/web/dashboard): a person's session
	// cookie. A link is shown to whoever its page's rule lets in.
	"GET /dashboard":           {Guard: Public},        // redirects to /dashboard/
	"GET /dashboard/sign-in":   {Guard: Public},        // the form
	"POST /dashboard/sign-in":  {Guard: Credentials},   // email and password
	"GET /dashboard/sso":       {Guard: Credentials},   // a single-use login token
	"POST /dashboard/sso":      {Guard: Authenticated}, // the same, confirmed by a person signed in already
	"POST /dashboard/sign-out": {Guard: Authenticated},
	"POST /dashboard/org":      {Guard: Authenticated}, // the switcher; the service checks the organization
	"POST /dashboard/mode":     {Guard: Authenticated}, // live or test data
	"GET /dashboard/{$}":       {Guard: Authenticated}, // the overview: each chart checks its own permission

	// dashboard: verifications and the reviewer queue (as /v1 and /partner/reviewer)
	"GET /dashboard/verifications":              perm("verifications.read"),
	"GET /dashboard/verifications/{id}":         perm("verifications.read"),
	"POST /dashboard/verifications/{id}/cancel": perm("verifications.update"),
	"POST /dashboard/verifications/{id}/link":   perm("verifications.update"),
	"GET /dashboard/review":                     perm("verifications.review"),
	"POST /dashboard/review/{id}/approve":       perm("verifications.review"),
	"POST /dashboard/review/{id}/reject":        perm("verifications.review"),

	// dashboard: calls, connections, API keys — the permissions of the
	// JSON routes they mirror (/external/calls, /v1/accounts, /api/me/api-keys).
	"GET /dashboard/calls":                         perm("calls.read"),
	"GET /dashboard/calls/{voiceId}":               perm("calls.read"),
	"POST /dashboard/calls/{voiceId}/assign":       perm("calls.assign"),
	"POST /dashboard/calls/{voiceId}/enroll":       perm("calls.enroll"),
	"POST /dashboard/calls/{voiceId}/reject-voice": perm("calls.reject"),
	"GET /dashboard/connections":                   perm("connections.read"),
	"GET /dashboard/connections/{accountId}":       perm("connections.read"),
	"POST /dashboard/connections/{accountId}/otp":  perm("otp.write"),
	"GET /dashboard/api-keys":                      perm("api-keys.read"),
	"POST /dashboard/api-keys":                     perm("api-keys.create"),
	"POST /dashboard/api-keys/{id}/revoke":         perm("api-keys.delete"),

	// dashboard: webhooks
	"GET /dashboard/webhooks":                                      perm("webhooks.read"),
	"GET /dashboard/webhooks/new":                                  perm("webhooks.create"),
	"POST /dashboard/webhooks":                                     perm("webhooks.create"),
	"GET /dashboard/webhooks/{id}":                                 perm("webhooks.read"),
	"POST /dashboard/webhooks/{id}":                                perm("webhooks.update"),
	"POST /dashboard/webhooks/{id}/enable":                         perm("webhooks.update"),
	"POST /dashboard/webhooks/{id}/disable":                        perm("webhooks.update"),
	"POST /dashboard/webhooks/{id}/delete":                         perm("webhooks.delete"),
	"POST /dashboard/webhooks/{id}/rotate-secret":                  perm("webhooks.update"),
	"POST /dashboard/webhooks/{id}/test":                           perm("webhooks.update"),
	"POST /dashboard/webhooks/{id}/replay":                         perm("webhooks.update"),
	"GET /dashboard/webhooks/{id}/messages/{messageId}":            perm("webhooks.read"),
	"POST /dashboard/webhooks/{id}/messages/{messageId}/redeliver": perm("webhooks.update"),

	// dashboard: users and roles
	"GET /dashboard/users":               perm("users.read"),
	"GET /dashboard/users/new":           perm("users.create"),
	"POST /dashboard/users":              perm("users.create"),
	"GET /dashboard/users/{id}":          perm("users.read"),
	"POST /dashboard/users/{id}/roles":   perm("users.set-permissions"),
	"POST /dashboard/users/{id}/disable": perm("users.disable"),
	"GET /dashboard/roles":               perm("roles.read"),
	"GET /dashboard/roles/{id}":          perm("roles.read"),
	"POST /dashboard/roles":              perm("roles.create"),
	"POST /dashboard/roles/{id}":         perm("roles.update"),
	"POST /dashboard/roles/{id}/delete":  perm("roles.delete"),

	// dashboard: audit log
	"GET /dashboard/audit": perm("audit.read"),

	// dashboard: settings
	"GET /dashboard/settings":  perm("organizations.read"),
	"POST /dashboard/settings": perm("organizations.update"),

	// The dashboard's JSON API (Reconbanker's /api): a person's JWT.
	"POST /api/auth/login":                                {Guard: Credentials},
	"GET /api/me/api-keys":                                perm("api-keys.read"),
	"POST /api/me/api-keys":                               perm("api-keys.create"),
	"DELETE /api/me/api-keys/{id}":                        perm("api-keys.delete"),
	"GET /api/accounts/{accountId}/status":                perm("status.read"),
	"POST /api/accounts/{accountId}/otp":                  perm("otp.write"),
	"POST /application/{applicationId}/token":             perm("application-tokens.create"),
	"GET /application/{applicationId}/token":              perm("application-tokens.read"),
	"DELETE /application/{applicationId}/token/{tokenId}": perm("application-tokens.delete"),
	"GET /users":                                         perm("users.read"),
	"POST /users":                                        perm("users.create"),
	"GET /users/{id}":                                    perm("users.read"),
	"PUT /users/{id}":                                    perm("users.update"),
	"DELETE /users/{id}":                                 perm("users.delete"),
	"POST /users/{id}/disable":                           perm("users.disable"),
	"PUT /users/{id}/roles":                              perm("users.set-permissions"),
	"GET /roles":                                         perm("roles.read"),
	"POST /roles":                                        perm("roles.create"),
	"GET /roles/{id}":                                    perm("roles.read"),
	"PUT /roles/{id}":                                    perm("roles.update"),
	"DELETE /roles/{id}":                                 perm("roles.delete"),
	"GET /organization/{orgId}":                          perm("organizations.read"),
	"PUT /organization/{orgId}":                          perm("organizations.update"),
	"GET /organization/{orgId}/account":                  perm("accounts.read"),
	"GET /organization/{orgId}/account/search":           perm("accounts.read"),
	"GET /organization/{orgId}/account/{accountId}":      perm("accounts.read"),
	"PUT /organization/{orgId}/account/{accountId}":      perm("accounts.update"),
	"POST /webhooks":                                     perm("webhooks.create"),
	"GET /webhooks":                                      perm("webhooks.read"),
	"GET /webhooks/{id}":                                 perm("webhooks.read"),
	"PATCH /webhooks/{id}":                               perm("webhooks.update"),
	"DELETE /webhooks/{id}":                              perm("webhooks.delete"),
	"POST /webhooks/{id}/rotate-secret":                  perm("webhooks.update"),
	"POST /webhooks/{id}/test":                           perm("webhooks.update"),
	"GET /webhooks/{id}/messages":                        perm("webhooks.read"),
	"GET /webhooks/{id}/messages/{messageId}":            perm("webhooks.read"),
	"POST /webhooks/{id}/messages/{messageId}/redeliver": perm("webhooks.update"),
	"POST /webhooks/{id}/replay":                         perm("webhooks.update"),
	"GET /events":                                        perm("events.read"),
}

// Check tells whether the authenticated principal p passes the route's
// rule, by the one rule (verigate.Principal.Authorize) with no object:
// the services check again with the object. A route missing from the
// table is refused.
func Check(pattern string, p *verigate.Principal) error {
	rule, ok := Routes[pattern]
	if !ok {
		return verigate.Errorf(verigate.EFORBIDDEN, "This route has no permission rule.")
	}
	if p != nil && p.Kind == verigate.PrincipalApplicant && rule.Guard != Applicant {
		return verigate.Errorf(verigate.EFORBIDDEN, "An applicant token cannot be used here.")
	}
	switch {
	case p != nil && p.Kind == verigate.PrincipalApplicant:
		return nil // the service confines it to its session
	case rule.Permission != "":
		return p.Authorize(rule.Permission, verigate.Object{}, nil)
	case rule.Guard == Applicant:
		return verigate.Errorf(verigate.EFORBIDDEN, "This route is for the session's applicant.")
	case p == nil:
		return verigate.Errorf(verigate.EUNAUTHENTICATED, "Authentication required.")
	}
	return nil // Public, Credentials, Authenticated, LinkToken, Signed, CallbackKey: the surface checked the credential
}
