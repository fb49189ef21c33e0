package apptest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// SQLite builds an app on a fresh SQLite database only, for tests that
// need no second engine (benchmarks, narrow handler tests).
func SQLite(t testing.TB) *Env { return New(t, storetest.Open(t, sqlstore.SQLite)) }

// Dump is every row of the app's database as text, to search for what
// must never be stored (a plaintext credential).
func (e *Env) Dump() string { return storetest.Dump(e.T, e.App.DB) }

// Keys is a reseller with a working credential for every surface.
type Keys struct {
	Reseller    *Reseller
	Institution string // the reseller's institution key
	SSOToken    string // /external: SsoToken
	RequestedBy string
	APIKey      string // /partner and /v1: every scope the owner holds, live mode
	UserToken   string // the Embedded API: the owner's user token
	JWT         string // /api: the owner's JWT
	CSRFToken   string // /partner applicant routes: a fresh session's applicant
	SessionID   int64
}

// SeedKeys seeds reseller key with one institution and signs in on every
// surface.
func (e *Env) SeedKeys(key string) *Keys {
	e.T.Helper()
	r := e.SeedReseller(key, key+"-cu")
	k := &Keys{Reseller: r, Institution: key + "-cu", RequestedBy: "operator1"}
	resp := e.Do("POST", "/external/token/request", map[string]string{"email": r.Email, "password": r.Password}, "accessToken", r.AccessToken)
	if resp.Status != 200 {
		e.T.Fatalf("SSO sign-in: %d %s", resp.Status, resp.Body)
	}
	k.SSOToken = resp.JSON(e.T)["token"].(string)
	owner := "owner@" + key + ".test"
	if _, err := e.App.Access.CreateUser(e.System, access.UserInput{OrgKey: key, Email: owner, Username: "owner-" + key,
		Password: r.Password, Roles: []string{verigate.RoleOwner}}); err != nil {
		e.T.Fatal(err)
	}
	resp = e.Do("POST", "/token", map[string]string{"email": owner, "password": r.Password})
	if resp.Status != 200 {
		e.T.Fatalf("embedded sign-in: %d %s", resp.Status, resp.Body)
	}
	k.UserToken = resp.JSON(e.T)["token"].(string)
	resp = e.Do("POST", "/api/auth/login", map[string]string{"email": owner, "password": r.Password})
	if resp.Status != 200 {
		e.T.Fatalf("/api sign-in: %d %s", resp.Status, resp.Body)
	}
	k.JWT = resp.JSON(e.T)["token"].(string)
	var scopes []string
	for _, p := range verigate.Permissions {
		scopes = append(scopes, verigate.PermissionScope(p.Name))
	}
	secret, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: key, UserEmail: r.Email, Scopes: scopes, Mode: verigate.ModeLive})
	if err != nil {
		e.T.Fatal(err)
	}
	k.APIKey = secret
	resp = e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{
		"expiryDate": e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)}}, "x-api-key", k.APIKey)
	if resp.Status != 201 {
		e.T.Fatalf("create session: %d %s", resp.Status, resp.Body)
	}
	var created struct {
		Data struct {
			ID               int64
			VerificationLink struct{ Token string }
		}
	}
	resp.Decode(e.T, &created)
	k.SessionID = created.Data.ID
	resp = e.Do("GET", fmt.Sprintf("/partner/verification/verify?token=%s&sessionId=%d", created.Data.VerificationLink.Token, k.SessionID), nil, "Accept", "application/json")
	if resp.Status != 200 {
		e.T.Fatalf("open link: %d %s", resp.Status, resp.Body)
	}
	k.CSRFToken = resp.JSON(e.T)["csrfToken"].(string)
	return k
}

// Headers are the credential headers for a request to path: the
// surface's own, with every one its routes may take.
func (k *Keys) Headers(path string) []string {
	switch {
	case strings.HasPrefix(path, "/external/"):
		return []string{"SsoToken", k.SSOToken, "InstitutionKey", k.Institution, "RequestedBy", k.RequestedBy}
	case strings.HasPrefix(path, "/partner/"):
		return []string{"x-api-key", k.APIKey, "x-csrf-token", k.CSRFToken}
	case strings.HasPrefix(path, "/v1/"):
		return []string{"Authorization", "Api-Key " + k.APIKey}
	case strings.HasPrefix(path, "/api/"):
		return []string{"Authorization", "Bearer " + k.JWT}
	default:
		return []string{"Authorization", k.UserToken}
	}
}
