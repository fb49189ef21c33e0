package openapi_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/verigate/verigate/internal/app/apptest"
)

// TestTextLimitsCountCharacters: every length limit on text counts
// characters, as the document's maxLength does. Each case sends a value of
// exactly the limit in "é" (two bytes each), which must be accepted, and
// one character more, which must be refused with 400.
func TestTextLimitsCountCharacters(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		s := newSurfaces(t, e)
		var sandboxBank int64
		srcs, _ := e.App.Verify.Sources(e.System)
		for _, src := range srcs {
			if src.SourceName == "Sandbox Bank" {
				sandboxBank = src.ID
			}
		}
		expiry := e.Clock.Now().Add(48 * 3600e9).Format("2006-01-02T15:04:05Z07:00")
		cases := []struct {
			name  string
			limit int
			send  func(v string) *apptest.Response
		}{
			{"partner sources search text", 100, func(v string) *apptest.Response {
				return e.Do("GET", "/partner/sources/search?text="+url.QueryEscape(v), nil, s.applicant()...)
			}},
			{"external calls queue search", 100, func(v string) *apptest.Response {
				return e.Do("GET", "/external/calls/queue?search="+url.QueryEscape(v), nil, s.serviceAccount()...)
			}},
			{"partner session instructions", 2000, func(v string) *apptest.Response {
				return e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{"expiryDate": expiry, "instructions": v}}, s.partnerKey()...)
			}},
			{"partner session applicantFirstName", 100, func(v string) *apptest.Response {
				return e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{"expiryDate": expiry, "applicantFirstName": v}}, s.partnerKey()...)
			}},
			{"partner session redirectUrl", 2000, func(v string) *apptest.Response {
				u := "https://example.com/" + string([]rune(v)[len("https://example.com/"):])
				return e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{"expiryDate": expiry, "redirectUrl": u}}, s.partnerKey()...)
			}},
			{"embedded organization core", 100, func(v string) *apptest.Response {
				return e.Do("PUT", "/organization/"+s.orgID, map[string]any{"core": v}, s.user()...)
			}},
			{"embedded account core", 100, func(v string) *apptest.Response {
				return e.Do("PUT", "/organization/"+s.orgID+"/account/"+s.account, map[string]any{"core": v}, s.user()...)
			}},
			{"embedded account search q", 100, func(v string) *apptest.Response {
				return e.Do("GET", "/organization/"+s.orgID+"/account/search?q="+url.QueryEscape(v), nil, s.user()...)
			}},
			{"embedded role description", 500, func(v string) *apptest.Response {
				return e.Do("POST", "/roles", map[string]any{"name": fmt.Sprintf("role-%d", len(v)), "description": v, "permissions": []string{"users.read"}}, s.user()...)
			}},
			{"v1 webhook description", 500, func(v string) *apptest.Response {
				return e.Do("POST", "/v1/webhook-endpoints", map[string]any{"url": "https://hooks.example/t", "description": v}, s.v1Key()...)
			}},
			{"embedded webhook description", 500, func(v string) *apptest.Response {
				return e.Do("POST", "/webhooks", map[string]any{"url": "https://hooks.example/t", "description": v}, s.user()...)
			}},
			{"v1 account credential", 1024, func(v string) *apptest.Response {
				return e.Do("POST", "/v1/accounts", map[string]any{"source_id": sandboxBank, "credentials": map[string]string{"username": "user_good", "password": v}}, s.v1Key()...)
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ok := strings.Repeat("é", c.limit)
				if r := c.send(ok); r.Status >= 300 {
					t.Fatalf("%d × é (%d bytes) with a %d-character limit: %d %s", c.limit, len(ok), c.limit, r.Status, r.Body)
				}
				if r := c.send(ok + "é"); r.Status != 400 {
					t.Fatalf("%d × é with a %d-character limit: %d, want 400: %s", c.limit+1, c.limit, r.Status, r.Body)
				}
			})
		}
	})
}
