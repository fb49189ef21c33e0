package access

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"time"

	"github.com/verigate/verigate"
)

// Dashboard sessions (the /dashboard pages): a cookie holding a random
// secret, stored by its hash. A session ends DashboardIdle after its last
// use and never after the session maximum age; a request records its use
// at most once per UseAllowance. Each request reads the session from the
// store (people's clicks, not machines' calls: no cache), so signing out,
// disabling the user or its organization ends it on every replica at once.
const DashboardIdle = 30 * time.Minute

// Ways into the dashboard.
const (
	ViaPassword   = "password"
	ViaLoginToken = "login_token"
)

// ErrDashboardSession answers every dashboard cookie that is unknown,
// expired, revoked, or whose user or organization is disabled.
var ErrDashboardSession = verigate.Errorf(verigate.EUNAUTHENTICATED, "Your dashboard session has ended. Sign in again.")

// ErrLoginTokenUsed answers a login token that is unknown, used or expired.
var ErrLoginTokenUsed = verigate.Errorf(verigate.EUNAUTHENTICATED, "This sign-in link has already been used or has expired.")

// SignInDashboard checks a person's email and password (the lockout and
// failure answers of every sign-in) and opens a dashboard session in the
// person's own organization. It returns the cookie's secret.
func (s *Service) SignInDashboard(ctx context.Context, email, password string) (string, *verigate.DashboardSession, error) {
	u, err := s.SignIn(ctx, email, password)
	if err != nil {
		return "", nil, err
	}
	return s.openDashboard(ctx, u, u.OrgID, u.Email, ViaPassword)
}

// SignInDashboardWithLoginToken uses up a login token (Confirm's login-as
// and user-token URLs) and opens a dashboard session in its institution,
// acting as the service account that issued it, narrowed to the
// institution and to an operator's permissions, with the operator it
// names as RequestedBy. A second use answers ErrLoginTokenUsed.
func (s *Service) SignInDashboardWithLoginToken(ctx context.Context, secret string) (string, *verigate.DashboardSession, error) {
	t, err := s.RedeemLoginToken(ctx, secret)
	if verigate.ErrorCode(err) == verigate.EUNAUTHENTICATED {
		return "", nil, ErrLoginTokenUsed
	} else if err != nil {
		return "", nil, err
	}
	u, err := s.store.GetUser(ctx, t.IssuedBy)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return "", nil, ErrLoginTokenUsed // issued by the system: no person to act as
	} else if err != nil {
		return "", nil, err
	}
	return s.openDashboard(ctx, u, t.OrgID, t.RequestedBy, ViaLoginToken)
}

func (s *Service) openDashboard(ctx context.Context, u *verigate.User, orgID, requestedBy, via string) (string, *verigate.DashboardSession, error) {
	b := make([]byte, 32)
	rand.Read(b)
	secret := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	abs := now.Add(s.sessionMaxAge())
	d := &verigate.DashboardSession{ID: verigate.NewID(), Hash: verigate.HashSecret(secret), UserID: u.ID, OrgID: orgID,
		RequestedBy: requestedBy, Via: via, Mode: verigate.ModeLive, CreatedAt: now, LastUsedAt: now,
		ExpiresAt: minTime(now.Add(DashboardIdle+UseAllowance), abs), AbsoluteExpiresAt: abs}
	ev := s.audit(ctx, "dashboard.signin", "dashboard_session", d.ID, orgID)
	ev.ActorKind, ev.ActorID, ev.RequestedBy = actorKind(u), u.ID, requestedBy
	ev.Details = map[string]any{"via": via}
	if err := s.store.CreateDashboardSession(ctx, d, ev); err != nil {
		return "", nil, err
	}
	return secret, d, nil
}

func actorKind(u *verigate.User) verigate.PrincipalKind {
	if u.ServiceAccount {
		return verigate.PrincipalServiceAccount
	}
	return verigate.PrincipalUser
}

// DashboardSession authenticates a dashboard cookie's secret and returns
// the session and who it acts as: its user's permissions, over the
// session's organization and its descendants. A use is recorded (the idle
// window slides) at most once per UseAllowance.
func (s *Service) DashboardSession(ctx context.Context, secret string) (*verigate.DashboardSession, *verigate.Principal, error) {
	if len(secret) != 43 {
		return nil, nil, ErrDashboardSession
	}
	d, err := s.store.GetDashboardSessionByHash(ctx, verigate.HashSecret(secret))
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, nil, ErrDashboardSession
	} else if err != nil {
		return nil, nil, err
	}
	now := s.now()
	if d.RevokedAt != nil || !now.Before(d.ExpiresAt) || !now.Before(d.AbsoluteExpiresAt) {
		return nil, nil, ErrDashboardSession
	}
	u, err := s.store.GetUser(ctx, d.UserID)
	if err != nil {
		return nil, nil, err
	}
	if active, err := s.userActive(ctx, u); err != nil {
		return nil, nil, err
	} else if !active || u.DeletedAt != nil {
		return nil, nil, ErrDashboardSession
	}
	perms, home, err := s.userRights(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	if d.Via == ViaLoginToken {
		perms = operatorRights(perms)
	}
	if !slices.Contains(home, d.OrgID) {
		return nil, nil, ErrDashboardSession // moved out of the user's reach
	}
	if active, err := s.orgActive(ctx, d.OrgID); err != nil {
		return nil, nil, err
	} else if !active {
		return nil, nil, ErrDashboardSession
	}
	orgs, err := s.reach(ctx, d.OrgID)
	if err != nil {
		return nil, nil, err
	}
	d.UserOrgID = u.OrgID
	id := d.ID
	if u.ServiceAccount {
		id = u.ID // audit names the account; RequestedBy the operator
	}
	p := &verigate.Principal{Kind: actorKind(u), ID: id, UserID: u.ID, OrgID: d.OrgID, Permissions: perms, Orgs: orgs,
		Mode: d.Mode, RequestedBy: d.RequestedBy}
	if now.Sub(d.LastUsedAt) >= UseAllowance {
		exp := minTime(now.Add(DashboardIdle+UseAllowance), d.AbsoluteExpiresAt)
		if err := s.store.SlideDashboardSession(ctx, d.ID, now, exp); err != nil {
			return nil, nil, err
		}
		d.LastUsedAt, d.ExpiresAt = now, exp
	}
	return d, p, nil
}

// operatorRights narrows a login-link session: the link drops an
// operator (Confirm's RequestedBy) into an institution's dashboard, so it
// carries the built-in operator role's permissions, and only those the
// issuing service account holds itself.
func operatorRights(perms []verigate.Permission) []verigate.Permission {
	var out []verigate.Permission
	for _, p := range verigate.RolePermissions(verigate.RoleOperator) {
		if slices.Contains(perms, p) {
			out = append(out, p)
		}
	}
	return out
}

// DashboardOrgs are the organizations a session d (as DashboardSession
// returned it) may switch to: for a password sign-in, the user's own and
// its descendants, active, in one query; for a login token, its
// institution alone.
func (s *Service) DashboardOrgs(ctx context.Context, d *verigate.DashboardSession) ([]*verigate.Organization, error) {
	if d.Via == ViaLoginToken {
		o, err := s.store.GetOrganization(ctx, d.OrgID)
		if err != nil {
			return nil, err
		}
		return []*verigate.Organization{o}, nil
	}
	orgs, err := s.store.ListOrganizations(ctx, verigate.OrgFilter{Within: d.UserOrgID})
	if err != nil {
		return nil, err
	}
	out := orgs[:0]
	for _, o := range orgs {
		if o.Status == verigate.StatusActive {
			out = append(out, o)
		}
	}
	return out, nil
}

// SwitchDashboardOrg moves a session to another of DashboardOrgs; any
// other organization answers as a missing one.
func (s *Service) SwitchDashboardOrg(ctx context.Context, d *verigate.DashboardSession, orgID string) error {
	orgs, err := s.DashboardOrgs(ctx, d)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(orgs, func(o *verigate.Organization) bool { return o.ID == orgID }) {
		return ErrOrganizationNotFound
	}
	return s.store.SetDashboardSessionView(ctx, d.ID, orgID, d.Mode, s.audit(ctx, "dashboard.switch", "dashboard_session", d.ID, orgID))
}

// SwitchDashboardMode shows a session live or test data.
func (s *Service) SwitchDashboardMode(ctx context.Context, d *verigate.DashboardSession, mode verigate.Mode) error {
	if !mode.Valid() {
		return verigate.FieldError("mode", "must be live or test")
	}
	return s.store.SetDashboardSessionView(ctx, d.ID, d.OrgID, mode, s.audit(ctx, "dashboard.mode", "dashboard_session", d.ID, d.OrgID))
}

// SignOutDashboard ends a dashboard session.
func (s *Service) SignOutDashboard(ctx context.Context, d *verigate.DashboardSession) error {
	return s.store.RevokeDashboardSession(ctx, d.ID, s.audit(ctx, "dashboard.signout", "dashboard_session", d.ID, d.OrgID))
}
