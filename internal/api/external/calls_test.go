package external_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/webhook"
)

func simulate(t *testing.T, e *apptest.Env, institution, phone, name string) *verigate.PhoneCall {
	t.Helper()
	inst, err := e.App.Access.Organization(e.System, institution)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.App.Calls.Simulate(e.System, inst, phone, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCallFlow(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		a := e.SeedReseller("acme", "acme-cu")
		tok := login(t, e, a)
		h := sa(tok, "acme-cu", "jdoe")
		c1 := simulate(t, e, "acme-cu", "+1 (555) 010-2000", "Jane Roe")
		e.Clock.Advance(time.Minute)
		simulate(t, e, "acme-cu", "+15550103000", "John Poe")

		var q struct {
			Success    bool
			PhoneCalls []map[string]any
			Total      int
		}
		e.Do("GET", "/external/calls/queue", nil, h...).Decode(t, &q)
		if !q.Success || q.Total != 2 || len(q.PhoneCalls) != 2 || q.PhoneCalls[0]["voiceId"] != c1.VoiceID {
			t.Fatalf("queue: %+v", q)
		}
		first := q.PhoneCalls[0]
		if first["phoneNumber"] != "+15550102000" || first["status"] != "queued" || first["personId"] != nil ||
			len(first["events"].([]any)) < 3 || first["risk"].(map[string]any)["level"] == "" {
			t.Fatalf("queued call: %v", first)
		}
		e.Do("GET", "/external/calls/queue?search=poe", nil, h...).Decode(t, &q)
		if q.Total != 1 || q.PhoneCalls[0]["callerName"] != "John Poe" {
			t.Fatalf("search: %+v", q)
		}
		e.Do("GET", "/external/calls/queue?from=2026-11-22T09:00:30Z", nil, h...).Decode(t, &q)
		if q.Total != 1 {
			t.Fatalf("from filter: %+v", q)
		}
		e.Do("GET", "/external/calls/queue?limit=1&offset=1", nil, h...).Decode(t, &q)
		if q.Total != 2 || len(q.PhoneCalls) != 1 || q.PhoneCalls[0]["callerName"] != "John Poe" {
			t.Fatalf("paging: %+v", q)
		}

		// Enrolling a queued call is an invalid transition.
		wantError(t, e.Do("POST", "/external/calls/"+c1.VoiceID+"/enroll", map[string]string{"validationType": "otp"}, h...), 409, "")

		resp := e.Do("POST", "/external/calls/assign", map[string]string{"phoneNumber": "+1 555 010 2000", "personId": "M-1001"}, h...)
		if resp.Status != 200 || resp.JSON(t)["voiceId"] != c1.VoiceID {
			t.Fatalf("assign: %d %s", resp.Status, resp.Body)
		}
		resp = e.Do("POST", "/external/calls/"+c1.VoiceID+"/enroll", map[string]string{"validationType": "otp"}, h...)
		if resp.Status != 200 {
			t.Fatalf("enroll: %d %s", resp.Status, resp.Body)
		}
		call := resp.JSON(t)["phoneCall"].(map[string]any)
		if call["status"] != "enrolled" || call["isEnrolled"] != true || call["isVerified"] != true || call["validationType"] != "otp" || call["decidedBy"] != "jdoe" {
			t.Fatalf("enrolled call: %v", call)
		}
		inst, _ := e.App.Access.Organization(e.System, "acme-cu")
		m, err := e.App.DB.GetMember(e.System, inst.ID, "M-1001")
		if err != nil || !m.VoiceEnrolled || m.VerificationCount != 1 || m.Name != "Jane Roe" {
			t.Fatalf("member after enroll: %+v %v", m, err)
		}
		evs, _ := e.App.DB.ListAuditEvents(e.System, verigate.AuditFilter{OrgID: inst.ID, Limit: 100})
		found := map[string]string{}
		for _, ev := range evs {
			found[ev.Action] = ev.RequestedBy
		}
		for _, action := range []string{"AssignCall", "AcceptCallerVoice", "FullAuthentication"} {
			if found[action] != "jdoe" {
				t.Fatalf("audit %s with RequestedBy jdoe missing: %v", action, found)
			}
		}
		// Enrolling twice is an invalid transition; details show the log.
		wantError(t, e.Do("POST", "/external/calls/"+c1.VoiceID+"/enroll", map[string]string{"validationType": "otp"}, h...), 409, "")
		resp = e.Do("GET", "/external/calls/"+c1.VoiceID+"/details", nil, h...)
		if !strings.Contains(string(resp.Body), "voice.enrolled") {
			t.Fatalf("details lack the enrollment event: %s", resp.Body)
		}
		e.Do("GET", "/external/calls/queue", nil, h...).Decode(t, &q)
		if q.Total != 1 {
			t.Fatalf("an enrolled call is still in the queue: %+v", q)
		}

		// reject-voice un-enrolls, audited the same way.
		resp = e.Do("POST", "/external/calls/"+c1.VoiceID+"/reject-voice", map[string]string{"reason": "voice mismatch"}, sa(tok, "acme-cu", "asmith")...)
		if resp.Status != 200 || resp.JSON(t)["phoneCall"].(map[string]any)["status"] != "rejected" {
			t.Fatalf("reject-voice: %d %s", resp.Status, resp.Body)
		}
		m, _ = e.App.DB.GetMember(e.System, inst.ID, "M-1001")
		if m.VoiceEnrolled {
			t.Fatal("member still enrolled after reject-voice")
		}
		evs, _ = e.App.DB.ListAuditEvents(e.System, verigate.AuditFilter{OrgID: inst.ID, Action: "RejectCallerVoice"})
		if len(evs) != 1 || evs[0].RequestedBy != "asmith" {
			t.Fatalf("RejectCallerVoice audit: %+v", evs)
		}
		wantError(t, e.Do("POST", "/external/calls/"+c1.VoiceID+"/reject-voice", nil, h...), 409, "")
		wantError(t, e.Do("POST", "/external/calls/assign", map[string]string{"voiceId": c1.VoiceID, "personId": "M-2"}, h...), 409, "")
		wantError(t, e.Do("GET", "/external/calls/00000000-0000-0000-0000-000000000000/details", nil, h...), 404, "Phone call not found")
		wantError(t, e.Do("POST", "/external/calls/assign", map[string]string{"phoneNumber": "+19999999999", "personId": "M-3"}, h...), 404, "Phone call not found")
	})
}

// TestCrossTenant: reseller A's token with reseller B's InstitutionKey gets,
// on every service-account route, exactly what a nonexistent key gets.
func TestCrossTenant(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		a := e.SeedReseller("acme", "acme-cu")
		e.SeedReseller("bravo", "bravo-cu")
		bCall := simulate(t, e, "bravo-cu", "+15550109999", "Bravo Caller")
		tok := login(t, e, a)
		routes := []struct {
			method, path string
			body         any
		}{
			{"POST", "/external/token/request/user", nil},
			{"GET", "/external/calls/queue", nil},
			{"POST", "/external/calls/assign", map[string]string{"voiceId": bCall.VoiceID, "personId": "X"}},
			{"GET", "/external/calls/" + bCall.VoiceID + "/details", nil},
			{"POST", "/external/calls/" + bCall.VoiceID + "/enroll", map[string]string{"validationType": "otp"}},
			{"POST", "/external/calls/" + bCall.VoiceID + "/reject-voice", nil},
		}
		for _, r := range routes {
			t.Run(r.method+" "+r.path, func(t *testing.T) {
				foreign := e.Do(r.method, r.path, r.body, sa(tok, "bravo-cu", "jdoe")...)
				missing := e.Do(r.method, r.path, r.body, sa(tok, "no-such-cu", "jdoe")...)
				reseller := e.Do(r.method, r.path, r.body, sa(tok, "bravo", "jdoe")...)
				for _, got := range []*apptest.Response{foreign, reseller} {
					if got.Status != missing.Status || !bytes.Equal(got.Body, missing.Body) {
						t.Fatalf("foreign key: %d %s; missing key: %d %s", got.Status, got.Body, missing.Status, missing.Body)
					}
				}
				wantError(t, foreign, 403, "Invalid InstitutionKey.")
				// And A's own institution cannot reach B's call either.
				own := e.Do(r.method, r.path, r.body, sa(tok, "acme-cu", "jdoe")...)
				if strings.Contains(string(own.Body), "Bravo Caller") {
					t.Fatalf("B's data leaked through A's institution: %s", own.Body)
				}
			})
		}
		c, _ := e.App.DB.GetCall(e.System, bCall.InstitutionID, bCall.VoiceID)
		if c.Status != verigate.CallQueued {
			t.Fatalf("B's call changed: %s", c.Status)
		}
		for _, path := range []string{"/external/institutions/bravo-cu", "/external/institutions/no-such-cu", "/external/institutions/acme"} {
			wantError(t, e.Do("GET", path, nil, "SsoToken", tok), 404, "Institution not found")
		}
	})
}

func TestInstitutions(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		a := e.SeedReseller("acme", "acme-cu")
		e.SeedReseller("bravo", "bravo-cu")
		tok := login(t, e, a)
		resp := e.Do("POST", "/external/institutions", map[string]string{"key": "acme-bank", "name": "Acme Bank", "core": "FIS"}, "SsoToken", tok, "RequestedBy", "jdoe")
		if resp.Status != 201 {
			t.Fatalf("add: %d %s", resp.Status, resp.Body)
		}
		wantError(t, e.Do("POST", "/external/institutions", map[string]string{"key": "acme-bank", "name": "Again"}, "SsoToken", tok), 409, "")
		wantError(t, e.Do("POST", "/external/institutions", map[string]string{"key": "Bad Key", "name": "X"}, "SsoToken", tok), 400, "")
		var list struct{ Institutions []map[string]any }
		e.Do("GET", "/external/institutions", nil, "SsoToken", tok).Decode(t, &list)
		if len(list.Institutions) != 2 {
			t.Fatalf("list: %+v", list)
		}
		resp = e.Do("PUT", "/external/institutions/acme-bank", map[string]string{"core": "Fiserv DNA"}, "SsoToken", tok)
		if resp.Status != 200 || resp.JSON(t)["institution"].(map[string]any)["core"] != "Fiserv DNA" {
			t.Fatalf("update: %d %s", resp.Status, resp.Body)
		}
		wantError(t, e.Do("PUT", "/external/institutions/bravo-cu", map[string]string{"name": "Mine now"}, "SsoToken", tok), 404, "Institution not found")
		wantError(t, e.Do("PUT", "/external/institutions/acme-bank", map[string]string{}, "SsoToken", tok), 400, "")
		resp = e.Do("POST", "/external/institutions/acme-bank/login", nil, "SsoToken", tok, "RequestedBy", "jdoe")
		if resp.Status != 200 || !strings.Contains(resp.JSON(t)["url"].(string), "/dashboard/sso?token=") {
			t.Fatalf("login-as: %d %s", resp.Status, resp.Body)
		}
		evs, _ := e.App.DB.ListAuditEvents(e.System, verigate.AuditFilter{Action: "organization.create", Limit: 100})
		if len(evs) == 0 || evs[0].RequestedBy != "jdoe" {
			t.Fatalf("institution creation not audited with RequestedBy: %+v", evs)
		}
	})
}

func TestBadInput(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		a := e.SeedReseller("acme", "acme-cu")
		tok := login(t, e, a)
		c := simulate(t, e, "acme-cu", "+15550102000", "Jane")
		h := sa(tok, "acme-cu", "jdoe")
		for _, tc := range []struct {
			name, method, path string
			body               any
			headers            []string
			status             int
		}{
			{"no SsoToken", "GET", "/external/calls/queue", nil, []string{"InstitutionKey", "acme-cu", "RequestedBy", "jdoe"}, 401},
			{"garbage SsoToken", "GET", "/external/calls/queue", nil, sa("not-a-guid", "acme-cu", "jdoe"), 401},
			{"no InstitutionKey", "GET", "/external/calls/queue", nil, []string{"SsoToken", tok, "RequestedBy", "jdoe"}, 400},
			{"no RequestedBy", "GET", "/external/calls/queue", nil, []string{"SsoToken", tok, "InstitutionKey", "acme-cu"}, 400},
			{"RequestedBy too long", "GET", "/external/calls/queue", nil, sa(tok, "acme-cu", strings.Repeat("j", 65)), 400},
			{"RequestedBy control character", "GET", "/external/calls/queue", nil, sa(tok, "acme-cu", "j\tdoe"), 400},
			{"malformed JSON", "POST", "/external/calls/assign", `{"personId":`, append(h, "Content-Type", "application/json"), 400},
			{"not an object", "POST", "/external/calls/assign", `[1,2]`, h, 400},
			{"unknown field", "POST", "/external/calls/assign", map[string]any{"voiceId": c.VoiceID, "personId": "M", "admin": true}, h, 400},
			{"wrong type", "POST", "/external/calls/assign", map[string]any{"voiceId": c.VoiceID, "personId": 42}, h, 400},
			{"trailing data", "POST", "/external/calls/assign", `{"voiceId":"x","personId":"M"} {}`, h, 400},
			{"both voiceId and phone", "POST", "/external/calls/assign", map[string]any{"voiceId": c.VoiceID, "phoneNumber": "+15550102000", "personId": "M"}, h, 400},
			{"neither voiceId nor phone", "POST", "/external/calls/assign", map[string]any{"personId": "M"}, h, 400},
			{"bad phone", "POST", "/external/calls/assign", map[string]any{"phoneNumber": "call me", "personId": "M"}, h, 400},
			{"empty body", "POST", "/external/calls/assign", nil, h, 400},
			{"unknown validation type", "POST", "/external/calls/" + c.VoiceID + "/enroll", map[string]any{"validationType": "vibes"}, h, 400},
			{"null validation type", "POST", "/external/calls/" + c.VoiceID + "/enroll", `{"validationType":null}`, h, 400},
			{"limit too big", "GET", "/external/calls/queue?limit=101", nil, h, 400},
			{"limit not a number", "GET", "/external/calls/queue?limit=ten", nil, h, 400},
			{"negative offset", "GET", "/external/calls/queue?offset=-1", nil, h, 400},
			{"bad date", "GET", "/external/calls/queue?from=yesterday", nil, h, 400},
			{"to before from", "GET", "/external/calls/queue?from=2026-11-22&to=2026-11-21", nil, h, 400},
			{"login without body", "POST", "/external/token/request", nil, []string{"accessToken", a.AccessToken}, 400},
			{"login with wrong types", "POST", "/external/token/request", `{"email":1,"password":true}`, []string{"accessToken", a.AccessToken}, 400},
			{"xml", "POST", "/external/token/request", `<login/>`, []string{"accessToken", a.AccessToken, "Content-Type", "application/xml"}, 415},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, e.Do(tc.method, tc.path, tc.body, tc.headers...), tc.status, "")
			})
		}
		t.Run("oversized body", func(t *testing.T) {
			big := `{"personId":"` + strings.Repeat("x", 2<<20) + `"}`
			wantError(t, e.Do("POST", "/external/calls/assign", big, h...), 413, "")
		})
		t.Run("wrong method", func(t *testing.T) {
			r := e.Raw(httptest.NewRequest("DELETE", "/external/calls/queue", nil))
			if r.Status != 405 || r.Header.Get("Allow") != "GET" || !strings.Contains(string(r.Body), `"success":false`) {
				t.Fatalf("405: %d %v %s", r.Status, r.Header, r.Body)
			}
		})
		t.Run("unknown path", func(t *testing.T) {
			r := e.Raw(httptest.NewRequest("GET", "/external/nope", nil))
			if r.Status != 404 || !strings.Contains(string(r.Body), `"success":false`) {
				t.Fatalf("404: %d %s", r.Status, r.Body)
			}
		})
		if strings.Contains(e.Logs.String(), `"level":"ERROR"`) {
			t.Fatalf("bad input logged an error:\n%s", e.Logs)
		}
	})
}

func TestIngestion(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		inst, _ := e.App.Access.Organization(e.System, "acme-cu")
		key := e.App.Calls.IngestSecret(inst)
		body, _ := json.Marshal(map[string]any{"provider": "twilio", "callId": "CA123", "phoneNumber": "+15550104000",
			"callerName": "Ingested Caller", "risk": map[string]int{"score": 80},
			"events": []map[string]string{{"type": "call.ringing", "at": "2026-11-22T08:59:00Z"}}})
		send := func(b []byte, key []byte, at time.Time) *apptest.Response {
			return e.Do("POST", "/external/voice/acme-cu/calls", b, "Content-Type", "application/json",
				webhook.HeaderID, "msg_1", webhook.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10),
				webhook.HeaderSignature, webhook.Sign(key, "msg_1", at, b))
		}
		resp := send(body, key, e.Clock.Now())
		if resp.Status != 201 {
			t.Fatalf("ingest: %d %s", resp.Status, resp.Body)
		}
		voiceID := resp.JSON(t)["voiceId"].(string)
		c, err := e.App.DB.GetCall(e.System, inst.ID, voiceID)
		if err != nil || c.Risk.Level != "high" || c.CallerName != "Ingested Caller" || c.Events[0].Type != "call.ringing" {
			t.Fatalf("ingested call: %+v %v", c, err)
		}
		if again := send(body, key, e.Clock.Now()); again.Status != 200 || again.JSON(t)["voiceId"] != voiceID {
			t.Fatalf("retried report: %d %s", again.Status, again.Body)
		}
		// A report without a provider is the "telephony" provider's: its
		// retry finds the call it queued, too.
		bare, _ := json.Marshal(map[string]any{"callId": "retry-1", "phoneNumber": "+15550107777", "callerName": "Pat Doe"})
		first := send(bare, key, e.Clock.Now())
		if first.Status != 201 {
			t.Fatalf("report without a provider: %d %s", first.Status, first.Body)
		}
		if again := send(bare, key, e.Clock.Now()); again.Status != 200 || again.JSON(t)["voiceId"] != first.JSON(t)["voiceId"] {
			t.Fatalf("retried report without a provider: %d %s", again.Status, again.Body)
		}
		wantError(t, send(body, []byte("wrong key of some thirty-two bytes"), e.Clock.Now()), 401, "")
		wantError(t, send(body, key, e.Clock.Now().Add(-10*time.Minute)), 401, "")
		tampered := bytes.Replace(body, []byte("4000"), []byte("4001"), 1)
		req := httptest.NewRequest("POST", "/external/voice/acme-cu/calls", bytes.NewReader(tampered))
		at := e.Clock.Now()
		req.Header.Set(webhook.HeaderID, "msg_1")
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
		req.Header.Set(webhook.HeaderSignature, webhook.Sign(key, "msg_1", at, body))
		if r := e.Raw(req); r.Status != 401 {
			t.Fatalf("tampered body: %d", r.Status)
		}
		r := e.Do("POST", "/external/voice/no-such-cu/calls", body, webhook.HeaderID, "m", webhook.HeaderTimestamp, fmt.Sprint(at.Unix()), webhook.HeaderSignature, "v1,x")
		wantError(t, r, 401, "Invalid webhook signature: check webhook-id, webhook-timestamp (within 5 minutes) and webhook-signature.")
		_ = http.StatusOK
	})
}
