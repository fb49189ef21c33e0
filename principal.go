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
	// PrincipalVoiceProvider acts through a signed call report; it appears
	// in audit events only (the report authenticates itself).
	PrincipalVoiceProvider PrincipalKind = "voice_provider"
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

// Object is where what a principal acts on lives. The zero Object is
// nothing in particular (a list, or a create in the principal's home).
type Object struct {
	Org     string // the organization it belongs to
	Mode    Mode   // its mode, for objects that have one
	ID      string // its own id, which a key's account list may name
	Session int64  // the verification session it is part of, if any
	missing bool
}

// Missing stands for an object that does not exist. Authorize answers it
// exactly as it answers an object out of the principal's reach, so that
// nothing tells a foreign object from a missing one: notFound (to the
// system too), or ErrOutsideSession to an applicant.
var Missing = Object{missing: true}

// ErrOutsideSession answers an applicant's request about anything that is
// not part of its own session, whether or not it exists.
var ErrOutsideSession = Errorf(EFORBIDDEN, "This applicant token belongs to another verification session.")

// Authorize is the one authorization rule, which every service applies
// to every principal. In order:
//
//  1. no principal: EUNAUTHENTICATED;
//  2. a missing object, or one outside the principal's reach — another
//     tenant's, the other mode's, or for an applicant anything outside
//     its own session — answers notFound (ErrOutsideSession to an
//     applicant), exactly as a missing one would;
//  3. the system principal may do anything else;
//  4. a principal without perm: EFORBIDDEN, naming the permission (an
//     applicant holds ApplicantPermissions);
//  5. a key whose account list names neither the object (by its ID) nor
//     its organization: EFORBIDDEN. Only objects an account list can name
//     (connections) give their ID.
//
// Reach comes before permission: only what a principal could see may
// answer 403.
func (p *Principal) Authorize(perm Permission, obj Object, notFound error) error {
	switch {
	case p == nil:
		return Errorf(EUNAUTHENTICATED, "Authentication required.")
	case p.Kind == PrincipalApplicant && (obj.missing || obj.Session != p.SessionID):
		return ErrOutsideSession
	case obj.missing:
		return orNotFound(notFound)
	case p.Kind == PrincipalSystem:
		return nil
	case (obj.Org != "" && !p.Reaches(obj.Org)) || (obj.Mode != "" && obj.Mode != p.Mode):
		return orNotFound(notFound)
	case !slices.Contains(p.Permissions, perm):
		return &Error{Code: EFORBIDDEN, Message: "Missing permission " + string(perm) + ".", Permission: perm}
	case len(p.Accounts) > 0 && obj.ID != "" && !slices.Contains(p.Accounts, obj.ID) && !slices.Contains(p.Accounts, obj.Org):
		return Errorf(EFORBIDDEN, "This credential is not allowed for this account.")
	}
	return nil
}

// orNotFound is err, or the generic not-found error when err is nil: built
// only when an answer needs it, off the hot path of every authorized call.
func orNotFound(err error) error {
	if err == nil {
		return Errorf(ENOTFOUND, "Not found.")
	}
	return err
}

// Reaches reports whether org is in p's reach: the system reaches every
// organization, anyone else its own and their descendants as narrowed by
// the credential.
func (p *Principal) Reaches(org string) bool {
	return p != nil && (p.Kind == PrincipalSystem || slices.Contains(p.Orgs, org))
}

// Lacks is the rule of delegation, beside Authorize: nobody grants — nor
// manages a user or credential carrying — a permission or an organization
// they do not hold themselves. It names the first of perms and orgs that p
// lacks, "" when it holds them all. The system holds everything; a
// foreign permission (ExactPay's, with no resource here) grants nothing,
// so anyone may name it.
func (p *Principal) Lacks(perms []Permission, orgs []string) string {
	if p == nil {
		return "everything"
	}
	if p.Kind == PrincipalSystem {
		return ""
	}
	for _, x := range perms {
		if !slices.Contains(p.Permissions, x) && !IsForeignPermission(x) {
			return string(x)
		}
	}
	for _, o := range orgs {
		if !slices.Contains(p.Orgs, o) {
			return "account " + o
		}
	}
	return ""
}

// Authorize applies the one rule to the principal in ctx.
func Authorize(ctx context.Context, perm Permission, obj Object, notFound error) error {
	return PrincipalFrom(ctx).Authorize(perm, obj, notFound)
}

// Can reports whether Authorize lets p use perm on organization orgID
// ("" means no organization in particular).
func (p *Principal) Can(perm Permission, orgID string) bool {
	return p.Authorize(perm, Object{Org: orgID}, nil) == nil
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
