package verigate_test

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/verigate/verigate"
)

func TestErrors(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", verigate.Errorf(verigate.ENOTFOUND, "Phone call not found"))
	if verigate.ErrorCode(err) != verigate.ENOTFOUND || verigate.ErrorMessage(err) != "Phone call not found" {
		t.Fatalf("wrapped domain error: %q %q", verigate.ErrorCode(err), verigate.ErrorMessage(err))
	}
	plain := errors.New("pq: password authentication failed for user x")
	if verigate.ErrorCode(plain) != verigate.EINTERNAL || strings.Contains(verigate.ErrorMessage(plain), "pq") {
		t.Fatal("an internal error's text leaks")
	}
	if verigate.ErrorCode(nil) != "" {
		t.Fatal("nil has a code")
	}
	fe := verigate.FieldError("email", "bad")
	if fe.Fields["email"] != "bad" || fe.Code != verigate.EINVALID {
		t.Fatalf("field error: %+v", fe)
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{"Jane.Doe@Example.COM": "jane.doe@example.com", "  a@b.co ": "a@b.co"} {
		if got, err := verigate.NormalizeEmail(in); err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "x", "a@b", "Jane <a@b.co>", "a@@b.co", strings.Repeat("a", 250) + "@b.co", "a@b\x00.co"} {
		if _, err := verigate.NormalizeEmail(bad); err == nil {
			t.Errorf("NormalizeEmail(%q) accepted", bad)
		}
	}
}

func TestValidation(t *testing.T) {
	for _, good := range []string{"acme", "acme-cu", "a1", strings.Repeat("a", 63)} {
		if verigate.ValidateOrgKey(good) != nil {
			t.Errorf("key %q refused", good)
		}
	}
	for _, bad := range []string{"", "a", "-acme", "Acme", "acme_cu", strings.Repeat("a", 64), "acme cu"} {
		if verigate.ValidateOrgKey(bad) == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
	if verigate.ValidatePassword(strings.Repeat("é", 8)) != nil || verigate.ValidatePassword("1234567") == nil ||
		verigate.ValidatePassword(strings.Repeat("x", 1025)) == nil {
		t.Error("password bounds")
	}
	for _, bad := range []string{"", "j\x00doe", "j\ndoe", strings.Repeat("x", 65), "\xff"} {
		if verigate.ValidateUsername("RequestedBy", bad) == nil {
			t.Errorf("RequestedBy %q accepted", bad)
		}
	}
}

func TestPermissions(t *testing.T) {
	for scope, want := range map[string]string{"otp:write": "[otp.write]", "status:read": "[status.read]",
		"accounts:write": "[connections.write]", "users.read": "[users.read]", "webhooks:read": "[webhooks.read]",
		"webhooks:write": "[webhooks.create webhooks.update webhooks.delete]", "events:read": "[events.read]"} {
		if got, ok := verigate.ScopePermissions(scope); !ok || fmt.Sprint(got) != want {
			t.Errorf("ScopePermissions(%q) = %q, %v", scope, got, ok)
		}
	}
	for _, bad := range []string{"root:all", "webhooks.write", "webhooks:admin"} {
		if _, ok := verigate.ScopePermissions(bad); ok {
			t.Errorf("unknown scope %q accepted", bad)
		}
	}
	for _, sc := range verigate.Scopes {
		if _, ok := verigate.ScopePermissions(sc); !ok {
			t.Errorf("listed scope %q grants nothing", sc)
		}
	}
	for p, want := range map[verigate.Permission]string{"webhooks.update": "webhooks:write", "webhooks.read": "webhooks:read",
		"connections.read": "accounts:read", "otp.write": "otp:write"} {
		if got := verigate.PermissionScope(p); got != want {
			t.Errorf("PermissionScope(%s) = %s, want %s", p, got, want)
		}
	}
	owner := verigate.RolePermissions(verigate.RoleOwner)
	if len(owner) != len(verigate.Permissions) {
		t.Fatal("owner lacks permissions")
	}
	// Every built-in role is a subset of the owner's; each grants something.
	for _, r := range verigate.BuiltinRoles {
		perms := verigate.RolePermissions(r)
		if len(perms) == 0 {
			t.Errorf("role %s grants nothing", r)
		}
		for _, p := range perms {
			if !slices.Contains(owner, p) {
				t.Errorf("role %s grants %s outside the catalogue", r, p)
			}
		}
	}
	if slices.Contains(verigate.RolePermissions(verigate.RoleViewer), "users.update") ||
		slices.Contains(verigate.RolePermissions(verigate.RoleAdmin), "organizations.disable") ||
		!slices.Contains(verigate.RolePermissions(verigate.RoleReviewer), "verifications.review") {
		t.Error("role definitions drifted from their documentation")
	}
	p := &verigate.Principal{Kind: verigate.PrincipalUser, Permissions: []verigate.Permission{"users.read"}, Orgs: []string{"o1"}}
	if !p.Can("users.read", "o1") || p.Can("users.read", "o2") || p.Can("users.update", "o1") || (*verigate.Principal)(nil).Can("users.read", "") {
		t.Error("Principal.Can")
	}
}

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	prev := ""
	for range 1000 {
		id := verigate.NewID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		if id[:13] < prev[:min(len(prev), 13)] {
			t.Fatalf("ids not time-ordered: %s after %s", id, prev)
		}
		seen[id], prev = true, id
	}
}
