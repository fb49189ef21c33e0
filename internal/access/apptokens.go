package access

import (
	"context"

	"github.com/verigate/verigate"
)

// listBatch is how many tokens ApplicationTokens reads from the store at a
// time while it filters them.
const listBatch = 200

// ApplicationTokens lists an application's tokens that the caller may
// manage: those of the organizations in its reach that carry nothing it
// does not hold (the users rule). skip, limit and the total count only
// those.
func (s *Service) ApplicationTokens(ctx context.Context, application string, skip, limit int, desc bool) ([]*verigate.Token, int, error) {
	if err := verigate.Authorize(ctx, "application-tokens.read", verigate.Object{}, nil); err != nil {
		return nil, 0, err
	}
	if err := ValidApplication("applicationId", application); err != nil {
		return nil, 0, err
	}
	if skip < 0 {
		return nil, 0, verigate.FieldError("skip", "must not be negative")
	}
	if limit < 1 || limit > 100 {
		return nil, 0, verigate.FieldError("limit", "must be between 1 and 100")
	}
	p := verigate.PrincipalFrom(ctx)
	rights := s.rightsMemo()
	out, total := []*verigate.Token{}, 0
	for from := 0; ; from += listBatch {
		batch, _, err := s.store.ListTokens(ctx, verigate.TokenFilter{OrgIDs: p.Orgs, Application: application, Skip: from, Limit: listBatch, SortDesc: desc})
		if err != nil {
			return nil, 0, err
		}
		for _, t := range batch {
			over, err := rights(ctx, t)
			if err != nil {
				return nil, 0, err
			}
			if over != "" {
				continue
			}
			if total >= skip && len(out) < limit {
				out = append(out, t)
			}
			total++
		}
		if len(batch) < listBatch {
			return out, total, nil
		}
	}
}

// RevokeApplicationToken revokes an application token (and so everything
// minted from it). Nobody revokes one that carries more than they hold.
func (s *Service) RevokeApplicationToken(ctx context.Context, application, id string) error {
	t, err := s.store.GetToken(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND || (err == nil && (t.Type != verigate.TokenApplication || t.Application != application)) {
		return verigate.Authorize(ctx, "application-tokens.delete", verigate.Missing, ErrTokenNotFound)
	} else if err != nil {
		return err
	}
	if err := verigate.Authorize(ctx, "application-tokens.delete", verigate.Object{Org: t.OrgID}, ErrTokenNotFound); err != nil {
		return err
	}
	if over, err := s.rightsMemo()(ctx, t); err != nil {
		return err
	} else if over != "" {
		return verigate.Errorf(verigate.EFORBIDDEN, "This token carries %s, which you do not hold; you cannot manage it.", over)
	}
	return s.store.RevokeToken(ctx, id, s.audit(ctx, "application_token.revoke", "token", id, t.OrgID))
}

// rightsMemo returns a function naming something a token carries that the
// principal in ctx does not hold ("" when it carries nothing more),
// whether or not the token is still live. It remembers users' rights, so
// a list of one user's tokens reads them once.
func (s *Service) rightsMemo() func(ctx context.Context, t *verigate.Token) (string, error) {
	type rights struct {
		perms []verigate.Permission
		orgs  []string
	}
	users := map[string]*rights{}
	return func(ctx context.Context, t *verigate.Token) (string, error) {
		p := verigate.PrincipalFrom(ctx)
		if p.Kind == verigate.PrincipalSystem {
			return "", nil // it holds everything (Lacks): skip the look-ups
		}
		u := users[t.UserID]
		if u == nil {
			user, err := s.store.GetUser(ctx, t.UserID)
			if err != nil {
				return "", err
			}
			u = &rights{}
			if u.perms, u.orgs, err = s.userRights(ctx, user); err != nil {
				return "", err
			}
			users[t.UserID] = u
		}
		chain, err := s.tokenChain(ctx, t)
		if err == ErrInvalidToken {
			return "", nil // a chain too long to ever work: it carries nothing
		} else if err != nil {
			return "", err
		}
		return p.Lacks(narrowChain(u.perms, u.orgs, chain)), nil
	}
}
