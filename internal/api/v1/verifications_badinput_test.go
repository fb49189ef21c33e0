package v1_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

// verificationRows is the part of the database a verification request
// writes: a bad request must leave it as it was.
func verificationRows(t *testing.T, e *apptest.Env) string {
	t.Helper()
	var keep []string
	for _, line := range strings.Split(e.Dump(), "\n") {
		for _, table := range []string{"verification_sessions:", "verification_steps:", "webhook_endpoints:", "verification_secrets:", "events:", "audit_events:", "idempotency_keys:"} {
			if strings.HasPrefix(line, table) {
				keep = append(keep, line)
			}
		}
	}
	return strings.Join(keep, "\n")
}

// TestVerificationBadInput: bad input on every verification route is a
// 400 in the /v1 shape naming the field, never a 500, and writes nothing.
func TestVerificationBadInput(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newVerifications(t, e)
		id := f.create(t, map[string]any{"data": map[string]any{"firstName": "Ada"}}).Data.ID
		before := verificationRows(t, e)
		n := 0
		raw := func(method, path, body string) *apptest.Response {
			n++ // a key each: a bad request must not be remembered either
			return f.do(method, path, body, "Content-Type", "application/json", "Idempotency-Key", fmt.Sprint("bad-", n))
		}
		long := strings.Repeat("é", 101)
		for _, c := range []struct{ name, body, field string }{
			{"malformed JSON", `{"data":`, ""},
			{"not an object", `[1]`, ""},
			{"no data", `{"meta":{}}`, "data"},
			{"data null", `{"data":null}`, "data"},
			{"unknown field", `{"data":{"first_name":"Ada"}}`, ""},
			{"unknown meta field", `{"data":{},"meta":{"webhook_url":"https://a.example"}}`, ""},
			{"firstName too long", `{"data":{"firstName":"` + long + `"}}`, "data.firstName"},
			{"firstName a number", `{"data":{"firstName":5}}`, "data.firstName"},
			{"firstName control characters", `{"data":{"firstName":"A\u0007"}}`, "data.firstName"},
			{"email", `{"data":{"email":"not an email"}}`, "data.email"},
			{"phone letters", `{"data":{"phoneNumber":"call me"}}`, "data.phoneNumber"},
			{"phone too short", `{"data":{"phoneNumber":"+123"}}`, "data.phoneNumber"},
			{"date of birth not a date", `{"data":{"dateOfBirth":"1990-13-01"}}`, "data.dateOfBirth"},
			{"date of birth in the future", `{"data":{"dateOfBirth":"2999-01-01"}}`, "data.dateOfBirth"},
			{"date of birth a time", `{"data":{"dateOfBirth":"1990-01-01T00:00:00Z"}}`, "data.dateOfBirth"},
			{"externalReferenceId too long", `{"data":{"externalReferenceId":"` + strings.Repeat("r", 201) + `"}}`, "data.externalReferenceId"},
			{"metadata a string", `{"data":{"metadata":"x"}}`, "data.metadata"},
			{"activities an object", `{"data":{"activities":{"id":1}}}`, "data.activities"},
			{"activity unknown id", `{"data":{"activities":[999999]}}`, "data.activities[0]"},
			{"activity unknown name", `{"data":{"activities":[1,"No Such Bank"]}}`, "data.activities[1]"},
			{"activity a boolean", `{"data":{"activities":[true]}}`, "data.activities[0]"},
			{"activity object with a stray field", `{"data":{"activities":[{"id":1,"x":2}]}}`, "data.activities[0]"},
			{"verification type unknown", `{"data":{"verificationTypeId":999999}}`, "data.verificationTypeId"},
			{"expiresInHours 0", `{"data":{"expiresInHours":0}}`, "data.expiresInHours"},
			{"expiresInHours 721", `{"data":{"expiresInHours":721}}`, "data.expiresInHours"},
			{"expiresInHours a string", `{"data":{"expiresInHours":"72"}}`, "data.expiresInHours"},
			{"redirectUrl ftp", `{"data":{},"meta":{"redirectUrl":"ftp://partner.example/"}}`, "meta.redirectUrl"},
			{"webhookUrl not a URL", `{"data":{},"meta":{"webhookUrl":"hooks dot example"}}`, "meta.webhookUrl"},
			{"webhookUrl with a password", `{"data":{},"meta":{"webhookUrl":"https://u:p@hooks.example/"}}`, "meta.webhookUrl"},
			{"webhookUrl too long", `{"data":{},"meta":{"webhookUrl":"https://hooks.example/` + strings.Repeat("x", 2000) + `"}}`, "meta.webhookUrl"},
			{"state too long", `{"data":{},"meta":{"state":"` + strings.Repeat("s", 501) + `"}}`, "meta.state"},
			{"state control characters", `{"data":{},"meta":{"state":"a\u0000b"}}`, ""},
		} {
			t.Run("create: "+c.name, func(t *testing.T) {
				r := raw("POST", "/v1/verifications", c.body)
				if c.field == "" {
					wantError(t, r, 400, "VALIDATION_ERROR")
				} else {
					wantField(t, r, c.field)
				}
			})
		}
		item := "/v1/verifications/" + id
		for _, c := range []struct{ name, method, path, body, field string }{
			{"id not a number", "GET", "/v1/verifications/abc", ``, "id"},
			{"id 0", "GET", "/v1/verifications/0", ``, "id"},
			{"id negative", "POST", "/v1/verifications/-3/cancel", ``, "id"},
			{"link id not a number", "POST", "/v1/verifications/x/link", ``, "id"},
			{"qr id not a number", "GET", "/v1/verifications/x/qr.png", ``, "id"},
			{"svg id too large", "GET", "/v1/verifications/99999999999999999999/qr.svg", ``, "id"},
			{"cancel unknown reason", "POST", item + "/cancel", `{"reason":"bored"}`, "reason"},
			{"cancel timed_out is not given", "POST", item + "/cancel", `{"reason":"timed_out"}`, "reason"},
			{"cancel unknown field", "POST", item + "/cancel", `{"why":"duplicate"}`, ""},
			{"cancel reason null", "POST", item + "/cancel", `{"reason":null}`, "reason"},
			{"list unknown status", "GET", "/v1/verifications?status=done", ``, "status"},
			{"list empty status", "GET", "/v1/verifications?status=", ``, "status"},
			{"list createdFrom not a time", "GET", "/v1/verifications?createdFrom=yesterday", ``, "createdFrom"},
			{"list createdTo before createdFrom", "GET", "/v1/verifications?createdFrom=2026-11-22T10:00:00Z&createdTo=2026-11-21T10:00:00Z", ``, "createdTo"},
			{"list limit 0", "GET", "/v1/verifications?limit=0", ``, "limit"},
			{"list limit 101", "GET", "/v1/verifications?limit=101", ``, "limit"},
			{"list cursor not an id", "GET", "/v1/verifications?cursor=page-2", ``, "cursor"},
			{"list externalReferenceId too long", "GET", "/v1/verifications?externalReferenceId=" + strings.Repeat("r", 201), ``, "externalReferenceId"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := raw(c.method, c.path, c.body)
				if c.field == "" {
					wantError(t, r, 400, "VALIDATION_ERROR")
				} else {
					wantField(t, r, c.field)
				}
			})
		}
		wantError(t, f.do("POST", "/v1/verifications", `data=x`, "Content-Type", "application/x-www-form-urlencoded"), 415, "UNSUPPORTED_MEDIA_TYPE")
		if after := verificationRows(t, e); after != before {
			t.Fatalf("bad input wrote:\nbefore %s\nafter  %s", before, after)
		}
		if strings.Contains(e.Logs.String(), `"level":"ERROR"`) {
			t.Fatalf("bad input logged an error:\n%s", e.Logs)
		}
	})
}

// TestVerificationReach: another tenant's verification, or the other
// mode's, answers exactly as a missing one on every route; scopes gate
// each route; an Idempotency-Key replays a create.
func TestVerificationReach(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newVerifications(t, e)
		id := f.create(t, map[string]any{"data": map[string]any{"firstName": "Ada"}}).Data.ID
		e.SeedReseller("bravo", "bravo-cu")
		foreign := makeKey(t, e, "bravo", access.APIKeyInput{Scopes: verificationScopes})
		live := makeKey(t, e, "acme", access.APIKeyInput{Scopes: verificationScopes, Mode: verigate.ModeLive})
		for _, route := range []struct{ method, suffix string }{{"GET", ""}, {"POST", "/cancel"}, {"POST", "/link"}, {"GET", "/qr.png"}, {"GET", "/qr.svg"}} {
			missing := e.Do(route.method, "/v1/verifications/999999"+route.suffix, nil, "x-api-key", f.key)
			wantError(t, missing, 404, "NOT_FOUND")
			for name, key := range map[string]string{"another tenant": foreign, "the live mode": live} {
				r := e.Do(route.method, "/v1/verifications/"+id+route.suffix, nil, "x-api-key", key)
				if r.Status != missing.Status || string(r.Body) != string(missing.Body) {
					t.Fatalf("%s %s from %s: %d %s, a missing one: %d %s", route.method, route.suffix, name, r.Status, r.Body, missing.Status, missing.Body)
				}
			}
		}
		if r := e.Do("GET", "/v1/verifications", nil, "x-api-key", foreign); r.Status != 200 || strings.Contains(string(r.Body), `"id":"`+id+`"`) {
			t.Fatalf("another tenant's list: %d %s", r.Status, r.Body)
		}
		if got := f.get(t, id); got.Data.CoreStatus != "PENDING" {
			t.Fatalf("foreign calls changed it: %+v", got.Data)
		}

		// Scopes.
		read := makeKey(t, e, "acme", access.APIKeyInput{Scopes: []string{"verifications:read"}})
		other := makeKey(t, e, "acme", access.APIKeyInput{Scopes: []string{"webhooks:read"}})
		for _, c := range []struct {
			key, method, path string
			status            int
		}{
			{read, "POST", "/v1/verifications", 403}, {read, "POST", "/v1/verifications/" + id + "/cancel", 403},
			{read, "POST", "/v1/verifications/" + id + "/link", 403}, {read, "GET", "/v1/verifications/" + id, 200},
			{read, "GET", "/v1/verifications/" + id + "/qr.png", 200}, {read, "GET", "/v1/verifications", 200},
			{other, "GET", "/v1/verifications/" + id, 403}, {other, "GET", "/v1/verifications/" + id + "/qr.svg", 403},
			{other, "GET", "/v1/verifications", 403},
		} {
			var body any
			if c.method == "POST" {
				body = map[string]any{"data": map[string]any{}}
				if strings.HasSuffix(c.path, "/cancel") || strings.HasSuffix(c.path, "/link") {
					body = nil
				}
			}
			r := e.Do(c.method, c.path, body, "x-api-key", c.key)
			if c.status == 403 {
				wantError(t, r, 403, "FORBIDDEN")
				if !strings.Contains(string(r.Body), "verifications:") {
					t.Fatalf("the 403 names no scope: %s", r.Body)
				}
			} else if r.Status != c.status {
				t.Fatalf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
			}
		}

		// Idempotency-Key: one verification for two requests.
		var ids []string
		for range 2 {
			r := f.do("POST", "/v1/verifications", map[string]any{"data": map[string]any{"externalReferenceId": "once"}}, "Idempotency-Key", "create-once")
			if r.Status != 201 {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
			ids = append(ids, r.JSON(t)["data"].(map[string]any)["id"].(string))
		}
		r := f.do("GET", "/v1/verifications?externalReferenceId=once", nil)
		if ids[0] != ids[1] || strings.Count(string(r.Body), `"id":`) != 1 {
			t.Fatalf("two verifications for one key: %v %s", ids, r.Body)
		}
	})
}

// TestKonfirHeaders: X-KONFIR-CLIENT-ID (the key's id) and
// X-KONFIR-CLIENT-SECRET (the key) authenticate on /v1; a mismatched or
// missing half is a bad key.
func TestKonfirHeaders(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newVerifications(t, e)
		keyID, _ := access.ParseAPIKey(f.key)
		other := makeKey(t, e, "acme", access.APIKeyInput{Scopes: verificationScopes})
		otherID, _ := access.ParseAPIKey(other)
		konfir := func(id, secret string, more ...string) []string {
			return append([]string{"X-KONFIR-CLIENT-ID", id, "X-KONFIR-CLIENT-SECRET", secret}, more...)
		}
		r := e.Do("POST", "/v1/verifications", map[string]any{"data": map[string]any{"firstName": "Ada"}, "meta": map[string]any{"state": "x"}}, konfir(keyID, f.key)...)
		if r.Status != 201 {
			t.Fatalf("create with Konfir's headers: %d %s", r.Status, r.Body)
		}
		id := r.JSON(t)["data"].(map[string]any)["id"].(string)
		if r := e.Do("GET", "/v1/verifications/"+id, nil, konfir(keyID, f.key, "x-api-key", f.key)...); r.Status != 200 {
			t.Fatalf("the pair and the same key: %d %s", r.Status, r.Body)
		}
		if r := e.Do("GET", "/v1/verifications/"+url.PathEscape(id), nil, konfir(strings.ToUpper(keyID), f.key)...); r.Status != 401 {
			t.Fatalf("an id in another case: %d %s", r.Status, r.Body)
		}
		for name, h := range map[string][]string{
			"another key's id":     konfir(otherID, f.key),
			"no id":                {"X-KONFIR-CLIENT-SECRET", f.key},
			"no secret":            {"X-KONFIR-CLIENT-ID", keyID},
			"a malformed secret":   konfir(keyID, "vgk_nope"),
			"another key besides":  konfir(keyID, f.key, "Authorization", "Api-Key "+other),
			"the id as the secret": konfir(keyID, keyID),
		} {
			t.Run(name, func(t *testing.T) {
				wantError(t, e.Do("GET", "/v1/verifications/"+id, nil, h...), 401, "INVALID_API_KEY")
			})
		}
	})
}
