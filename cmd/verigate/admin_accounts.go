package main

import (
	"context"
	"strings"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app"
)

// resolveAccounts turns the organization keys of an --accounts list into
// organization ids; ids pass through, for the service to check.
func resolveAccounts(ctx context.Context, a *app.App, list []string) ([]string, error) {
	var out []string
	for _, s := range list {
		if isUUID(s) {
			out = append(out, s)
			continue
		}
		o, err := a.Access.Organization(ctx, s)
		if verigate.ErrorCode(err) == verigate.ENOTFOUND {
			return nil, verigate.Errorf(verigate.EINVALID, "--accounts: %q is neither an organization key nor an id.", s)
		} else if err != nil {
			return nil, err
		}
		out = append(out, o.ID)
	}
	return out, nil
}

// isUUID reports whether s has the shape of an id (8-4-4-4-12 hex digits).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", r):
			return false
		}
	}
	return true
}
