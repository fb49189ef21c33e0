package openapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/verigate/verigate/internal/app/apptest"
)

// TestLooseInputRefused: a JSON null where a string or time must be, a
// query parameter given with an empty value, and a body of null are each
// refused with 400 naming what is wrong — never read as "not given", and
// before any state check (approve/reject of a session not in review would
// otherwise answer 409).
func TestLooseInputRefused(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		s := newSurfaces(t, e)
		session := fmt.Sprintf("/partner/reviewer/sessions/%d", s.session)
		cases := []struct {
			name, method, path string
			body               any
			headers            []string
			names              string // the error names this
		}{
			{"organization core null", "PUT", "/organization/" + s.orgID, `{"name": "Acme", "core": null}`, s.user(), "core"},
			{"organization name null", "PUT", "/organization/" + s.orgID, `{"name": null, "core": "Symitar"}`, s.user(), "name"},
			{"account core null", "PUT", "/organization/" + s.orgID + "/account/" + s.account, `{"name": "Acme CU", "core": null}`, s.user(), "core"},
			{"user email null", "PUT", "/users/" + s.userID, `{"username": "olivia2", "email": null}`, s.user(), "email"},
			{"token expiresAt null", "POST", "/application/" + s.appID + "/token", `{"label": "ci", "permissions": ["users.read"], "expiresAt": null}`, s.user(), "expiresAt"},
			{"institution core null", "PUT", "/external/institutions/acme-cu", `{"name": "Acme CU", "core": null}`, s.ssoHeaders(), "core"},
			{"v1 credential null", "POST", "/v1/accounts", `{"source_id": 1, "credentials": {"username": null}}`, s.v1Key(), "credentials.username"},
			{"session param null", "POST", "/partner/session", `{"params": {"applicantFirstName": null}}`, s.partnerKey(), "applicantFirstName"},
			{"approve body null", "POST", session + "/approve", `null`, s.partnerKey(), "JSON object"},
			{"reject body null", "POST", session + "/reject", `null`, s.partnerKey(), "JSON object"},
			{"reviewer offset empty", "GET", "/partner/reviewer/sessions?offset=", nil, s.partnerKey(), "offset"},
			{"reviewer limit empty", "GET", "/partner/reviewer/sessions?limit=&offset=0", nil, s.partnerKey(), "limit"},
			{"calls offset empty", "GET", "/external/calls/queue?offset=", nil, s.serviceAccount(), "offset"},
			{"calls from empty", "GET", "/external/calls/queue?from=", nil, s.serviceAccount(), "from"},
			{"v1 limit empty", "GET", "/v1/accounts?limit=", nil, s.v1Key(), "limit"},
			{"users skip empty", "GET", "/users?skip=", nil, s.user(), "skip"},
			{"tokens limit empty", "GET", "/application/" + s.appID + "/token?limit=", nil, s.user(), "limit"},
			{"users account empty", "GET", "/users?account=", nil, s.user(), "account"},
			{"tokens sort empty", "GET", "/application/" + s.appID + "/token?sort=", nil, s.user(), "sort"},
			{"search sessionId empty", "GET", "/partner/sources/search?text=a&sessionId=", nil, s.applicant(), "sessionId"},
			{"reviewer status empty", "GET", "/partner/reviewer/sessions?status=", nil, s.partnerKey(), "status"},
			{"reviewer sortBy empty", "GET", "/partner/reviewer/sessions?sortBy=", nil, s.partnerKey(), "sortBy"},
			{"calls search empty", "GET", "/external/calls/queue?search=", nil, s.serviceAccount(), "search"},
			{"limit twice", "GET", "/v1/accounts?limit=5&limit=500", nil, s.v1Key(), "limit"},
			{"v1 webhook description null", "POST", "/v1/webhook-endpoints", `{"url": "https://a.example", "description": null}`, s.v1Key(), "description"},
			{"webhook auth null", "POST", "/webhooks", `{"url": "https://a.example", "auth": null}`, s.user(), "auth"},
			{"v1 events type empty", "GET", "/v1/events?type=", nil, s.v1Key(), "type"},
			{"webhooks after empty", "GET", "/webhooks?after=", nil, s.user(), "after"},
			{"events after twice", "GET", "/events?after=1&after=2", nil, s.user(), "after"},
			{"limit twice, reviewer", "GET", "/partner/reviewer/sessions?limit=5&limit=500", nil, s.partnerKey(), "limit"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				h := c.headers
				if c.body != nil {
					h = append([]string{"Content-Type", "application/json"}, h...)
				}
				r := e.Do(c.method, c.path, c.body, h...)
				if r.Status != 400 || !strings.Contains(string(r.Body), c.names) {
					t.Fatalf("%s %s: %d %s, want 400 naming %q", c.method, c.path, r.Status, r.Body, c.names)
				}
			})
		}
	})
}
