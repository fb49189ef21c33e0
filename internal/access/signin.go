package access

import (
	"context"
	"fmt"
	"time"

	"github.com/verigate/verigate"
)

// Lockout: after LockoutThreshold consecutive failures an email is locked
// for LockoutBase, doubling with each further failure up to LockoutMax.
// Failures are counted per normalized email whether or not a user has it,
// so the lockout itself reveals nothing about which emails exist.
const (
	LockoutThreshold = 10
	LockoutBase      = time.Minute
	LockoutMax       = time.Hour
)

// ErrBadCredentials is the one answer to every credential failure.
var ErrBadCredentials = verigate.Errorf(verigate.EUNAUTHENTICATED, "Invalid email or password.")

func lockoutFor(failures int) time.Duration {
	if failures < LockoutThreshold {
		return 0
	}
	d := LockoutBase
	for i := LockoutThreshold; i < failures && d < LockoutMax; i++ {
		d *= 2
	}
	return min(d, LockoutMax)
}

// SignIn checks a person's email and password. Every failure (unknown
// email, wrong password, disabled user or organization, a service account,
// malformed input) returns ErrBadCredentials after the same argon2id work;
// a locked email returns ERATELIMITED without checking the password.
func (s *Service) SignIn(ctx context.Context, email, password string) (*verigate.User, error) {
	return s.signIn(ctx, email, password, func(u *verigate.User) bool { return !u.ServiceAccount })
}

// SignInServiceAccount signs a reseller's service account in: the
// onboarding access token must be live and belong to the account's own
// organization. Every failure, a bad token included, is ErrBadCredentials.
func (s *Service) SignInServiceAccount(ctx context.Context, accessToken, email, password string) (*verigate.User, error) {
	tok, _, err := s.VerifyAccessToken(ctx, accessToken)
	if verigate.ErrorCode(err) == verigate.EUNAUTHENTICATED {
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, err
	}
	return s.signIn(ctx, email, password, func(u *verigate.User) bool { return u.ServiceAccount && u.OrgID == tok.OrgID })
}

// signIn checks email and password; accept says whether this kind of
// sign-in is open to the user whose password matched.
func (s *Service) signIn(ctx context.Context, email, password string, accept func(*verigate.User) bool) (*verigate.User, error) {
	norm, emailErr := verigate.NormalizeEmail(email)
	if emailErr != nil || len(password) > 4*verigate.MaxPasswordLen {
		if _, _, err := s.verify(ctx, password, s.dummyHash()); err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	}
	now := s.now()
	locked := func(until time.Time) error {
		secs := int(until.Sub(now).Seconds() + 0.999)
		e := verigate.Errorf(verigate.ERATELIMITED, "Too many failed sign-ins. Try again in %d seconds.", secs)
		e.RetryAfter = time.Duration(secs) * time.Second
		return e
	}
	if _, until, err := s.store.SigninFailures(ctx, norm); err != nil {
		return nil, err
	} else if t := time.UnixMilli(until); t.After(now) {
		return nil, locked(t)
	}
	// Count the attempt (and lock ahead) before checking the password: a
	// burst of parallel guesses gets only as many checks as the limit allows
	// — ten, then one per lock period — since an attempt that finds a lock
	// set by another is refused unchecked.
	_, prev, err := s.store.CountSigninAttempt(ctx, norm, func(n int) int64 {
		if d := lockoutFor(n); d > 0 {
			return now.Add(d).UnixMilli()
		}
		return 0
	}, now)
	if err != nil {
		return nil, err
	}
	if t := time.UnixMilli(prev); t.After(now) {
		return nil, locked(t)
	}

	u, err := s.store.GetUserByEmail(ctx, norm)
	var hash string
	switch code := verigate.ErrorCode(err); code {
	case "":
		hash = u.PasswordHash
	case verigate.ENOTFOUND:
		u, hash = nil, s.dummyHash()
	default:
		return nil, err
	}
	ok, rehash, err := s.verify(ctx, password, hash)
	if err != nil {
		return nil, err
	}
	if u == nil || !ok {
		return nil, s.signinFailed(ctx, norm, u)
	}
	if active, err := s.userActive(ctx, u); err != nil {
		return nil, err
	} else if !active || !accept(u) {
		return nil, ErrBadCredentials
	}
	if err := s.store.ClearSigninFailures(ctx, norm); err != nil {
		return nil, err
	}
	if rehash {
		h, err := s.hash(ctx, password)
		if err != nil {
			return nil, err
		}
		ev := s.audit(ctx, "user.password_rehash", "user", u.ID, u.OrgID)
		if err := s.store.SetPasswordHash(ctx, u.ID, h, ev); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (s *Service) signinFailed(ctx context.Context, email string, u *verigate.User) error {
	ev := s.audit(ctx, "user.signin", "email", email, "")
	if u != nil {
		ev.TargetKind, ev.TargetID, ev.OrgID = "user", u.ID, u.OrgID
	}
	ev.Outcome = verigate.OutcomeFailure
	if err := s.store.RecordAudit(ctx, ev); err != nil {
		return err
	}
	return ErrBadCredentials
}

// argon runs fn (argon2id work, 19 MiB) in one of the bounded slots.
func (s *Service) argon(ctx context.Context, fn func()) error {
	select {
	case s.hashSlots <- struct{}{}:
		defer func() { <-s.hashSlots }()
	case <-ctx.Done():
		return verigate.Errorf(verigate.EUNAVAILABLE, "The server is busy; try again.")
	}
	fn()
	return nil
}

// verify checks a password against a hash.
func (s *Service) verify(ctx context.Context, password, hash string) (ok, rehash bool, err error) {
	if err := s.argon(ctx, func() { ok, rehash, err = verifyPassword(password, hash, s.Argon2) }); err != nil {
		return false, false, err
	}
	if err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}
	return ok, rehash, nil
}

// hash hashes a new password.
func (s *Service) hash(ctx context.Context, password string) (h string, err error) {
	err = s.argon(ctx, func() { h = hashPassword(password, s.Argon2) })
	return h, err
}
