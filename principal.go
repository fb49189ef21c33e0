package verigate

import (
	"context"
	"slices"
)

// PrincipalKind says what authenticated a request.
type PrincipalKind string

const (
	PrincipalUser           PrincipalKind = "user"
	PrincipalServiceAccount PrincipalKind = "service_account"
	PrincipalAPIKey         PrincipalKind = "api_key"
	PrincipalAppToken       PrincipalKind = "application_token"
	PrincipalSystem         PrincipalKind = "system"    // the admin CLI and background jobs
	PrincipalApplicant      PrincipalKind = "applicant" // a CSRF token: one session's applicant
)

// Principal is who is acting: resolved once per request by a surface's
// auth chain and checked by services with Can.
type Principal struct {
	Kind        PrincipalKind
	ID          string // the credential's id (user id for a user session)
	UserID      string
	OrgID       string
	Permissions []Permission
	// Orgs are the organizations the principal may act on: its own and its
	// descendants, narrowed by the credential.
	Orgs []string
	// Accounts, when not empty, restricts an API key to these connections
	// (Reconbanker's accounts) or organizations.
	Accounts []string
	Mode     Mode
	// SessionID binds an applicant principal to its one session.
	SessionID int64
	// RequestedBy is the operator named by the caller (Confirm's
	// RequestedBy header); recorded on audit events.
	RequestedBy string
}

// HomeOrg is the organization a principal's new objects belong to when the
// request names none: for a key with an account list, the first
// organization the list names; otherwise its own (or, failing that, the
// first it reaches). It is "" when there is none: a key restricted to
// connections only creates nothing.
func (p *Principal) HomeOrg() string {
	if p.Kind == PrincipalSystem {
		return p.OrgID
	}
	if len(p.Accounts) > 0 {
		for _, a := range p.Accounts {
			if slices.Contains(p.Orgs, a) {
				return a
			}
		}
		return ""
	}
	if slices.Contains(p.Orgs, p.OrgID) {
		return p.OrgID
	}
	if len(p.Orgs) > 0 {
		return p.Orgs[0]
	}
	return ""
}

// System is the principal of the admin CLI and background work.
var System = &Principal{Kind: PrincipalSystem, ID: "system", Mode: ModeLive}

// Can reports whether p holds perm on the organization orgID ("" means
// no particular organization). The system principal can do anything.
func (p *Principal) Can(perm Permission, orgID string) bool {
	if p == nil {
		return false
	}
	if p.Kind == PrincipalSystem {
		return true
	}
	if !slices.Contains(p.Permissions, perm) {
		return false
	}
	return orgID == "" || slices.Contains(p.Orgs, orgID)
}

type ctxKey int

const (
	principalKey ctxKey = iota
	requestIDKey
)

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFrom returns the principal in ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFrom returns the request id in ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
