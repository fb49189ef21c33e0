package v1_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/webhook"
	"github.com/verigate/verigate/redirectsig"
)

var verificationScopes = []string{"verifications:create", "verifications:read", "verifications:update", "webhooks:read", "webhooks:write"}

// vbody is a /v1 verification answer.
type vbody struct {
	Data struct {
		ID, Status, CoreStatus string
		CancellationReason     *string
		ExternalReferenceID    *string
		Applicant              map[string]*string
		Activities             []struct {
			ID                 int64
			Name, Status, Kind string
			CoreStatus         *string
			StepID             *int64
			Results            json.RawMessage
		}
		Timeline []struct {
			Type, CoreStatus string
			StepStatus       *string
		}
		ExpiresAt time.Time
	}
	Meta struct {
		CandidateURL, QRCodeURL, RedirectURL, WebhookURL, State *string
		IsSandbox                                               bool
		ExpiresAt                                               time.Time
	}
}

type vfix struct {
	e   *apptest.Env
	key string
}

func newVerifications(t *testing.T, e *apptest.Env) *vfix {
	e.SeedReseller("acme", "acme-cu")
	return &vfix{e: e, key: makeKey(t, e, "acme", access.APIKeyInput{Scopes: verificationScopes})}
}

func (f *vfix) do(method, path string, body any, headers ...string) *apptest.Response {
	return f.e.Do(method, path, body, append([]string{"Authorization", "Api-Key " + f.key}, headers...)...)
}

func (f *vfix) create(t *testing.T, body map[string]any) vbody {
	t.Helper()
	r := f.do("POST", "/v1/verifications", body)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var v vbody
	r.Decode(t, &v)
	return v
}

func (f *vfix) get(t *testing.T, id string) vbody {
	t.Helper()
	r := f.do("GET", "/v1/verifications/"+id, nil)
	if r.Status != 200 {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	var v vbody
	r.Decode(t, &v)
	return v
}

// openAsApplicant opens a candidate URL as a client of the JSON surface
// does and returns the applicant's CSRF token.
func (f *vfix) openAsApplicant(t *testing.T, candidate string) string {
	t.Helper()
	u, err := url.Parse(candidate)
	if err != nil {
		t.Fatal(err)
	}
	r := f.e.Do("GET", u.RequestURI(), nil, "Accept", "application/json")
	if r.Status != 200 {
		t.Fatalf("open the candidate URL: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["csrfToken"].(string)
}

// TestVerificationFlow: create with a webhookUrl and redirect → the
// candidate URL opens → the applicant proves a sandbox Reclaim source →
// GET shows it completed with the activity Verified and its results, the
// timeline most recent first; the verification's own endpoint received
// its events signed with the verification secret; the redirect back is
// signed; the list filters; the session is the same object on /partner.
func TestVerificationFlow(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newVerifications(t, e)
		// The organization's verification secret, made first so the test knows it.
		r := f.do("POST", "/v1/verification-secret/rotate", nil)
		if r.Status != 200 {
			t.Fatalf("rotate: %d %s", r.Status, r.Body)
		}
		secret := r.JSON(t)["secret"].(string)

		v := f.create(t, map[string]any{
			"data": map[string]any{"firstName": "Ada", "lastName": "Lovelace", "email": "Ada@Example.com", "phoneNumber": "+44 7700 900123",
				"dateOfBirth": "1990-12-10", "externalReferenceId": "crm-1", "activities": []any{"Sandbox Reclaim"}, "metadata": map[string]any{"loan": "L-1"}},
			"meta": map[string]any{"redirectUrl": "https://partner.example.com/done?from=verigate", "webhookUrl": "https://hooks.example.com/v/1", "state": "st-42"}})
		d := v.Data
		if d.Status != "waiting_for_candidate" || d.CoreStatus != "PENDING" || d.CancellationReason != nil || *d.ExternalReferenceID != "crm-1" ||
			*d.Applicant["email"] != "ada@example.com" || *d.Applicant["phoneNumber"] != "+447700900123" || *d.Applicant["dateOfBirth"] != "1990-12-10" ||
			len(d.Activities) != 1 || d.Activities[0].Status != "Not Connected" || d.Activities[0].StepID != nil {
			t.Fatalf("created: %+v", d)
		}
		m := v.Meta
		if m.CandidateURL == nil || !strings.Contains(*m.CandidateURL, "/partner/verification/verify?token=") || !m.IsSandbox ||
			*m.WebhookURL != "https://hooks.example.com/v/1" || *m.State != "st-42" || !strings.HasSuffix(*m.QRCodeURL, "/v1/verifications/"+d.ID+"/qr.png") ||
			!m.ExpiresAt.Equal(e.Clock.Now().Add(72*time.Hour).Truncate(time.Millisecond)) {
			t.Fatalf("meta: %+v", m)
		}
		// GET shows the same link again, and the same timeline.
		if got := f.get(t, d.ID); *got.Meta.CandidateURL != *m.CandidateURL || *got.Meta.WebhookURL != *m.WebhookURL ||
			len(d.Timeline) != 1 || len(got.Data.Timeline) != 1 || d.Timeline[0].Type != got.Data.Timeline[0].Type ||
			d.Timeline[0].Type != "verification.created" {
			t.Fatalf("get meta %+v, timeline created %+v, read %+v", got.Meta, d.Timeline, got.Data.Timeline)
		}

		// The applicant proves the source.
		csrf := f.openAsApplicant(t, *m.CandidateURL)
		src := d.Activities[0].ID
		if r := e.Do("POST", "/partner/step/select-data-source", map[string]any{"dataSourceIds": []int64{src}, "sessionId": json.Number(d.ID)}, "x-csrf-token", csrf); r.Status != 201 {
			t.Fatalf("select: %d %s", r.Status, r.Body)
		}
		var steps struct {
			Data struct{ Steps []struct{ ID int64 } }
		}
		e.Do("GET", "/partner/steps/session/"+d.ID, nil, "x-csrf-token", csrf).Decode(t, &steps)
		step := steps.Data.Steps[0].ID
		if r := e.Do("POST", "/partner/step/initiate", map[string]any{"stepId": step}, "x-csrf-token", csrf); r.Status != 201 {
			t.Fatalf("initiate: %d %s", r.Status, r.Body)
		}
		proof, err := e.App.Verify.SandboxProof(e.System, step)
		if err != nil {
			t.Fatal(err)
		}
		if r := e.Do("POST", "/partner/step/submit", map[string]any{"stepId": step, "proofs": []any{proof}}, "x-csrf-token", csrf); r.Status != 201 {
			t.Fatalf("submit: %d %s", r.Status, r.Body)
		}
		done := f.get(t, d.ID)
		a := done.Data.Activities
		if done.Data.Status != "completed" || done.Data.CoreStatus != "COMPLETED" || len(a) != 1 || a[0].Status != "Verified" ||
			*a[0].CoreStatus != "VERIFIED" || !strings.Contains(string(a[0].Results), "monthlyIncome") || done.Meta.CandidateURL != nil {
			t.Fatalf("completed: %+v %+v", done.Data, done.Meta)
		}
		tl := done.Data.Timeline
		if len(tl) < 4 || tl[0].Type != "verification.completed" || tl[len(tl)-1].Type != "verification.created" {
			t.Fatalf("timeline, most recent first: %+v", tl)
		}

		// The verification's own endpoint got its events, signed with the secret.
		rc := &receiver{}
		work := delivery.NewWorker(e.App.Webhooks, rc, delivery.WorkerOptions{Jitter: func() float64 { return 0 }, Sleep: func(context.Context, time.Duration) {}})
		if _, err := work.Work(context.Background()); err != nil {
			t.Fatal(err)
		}
		key, _ := webhook.ParseSecret(secret)
		var types []string
		for _, got := range rc.got {
			if got.URL != "https://hooks.example.com/v/1" {
				t.Fatalf("delivered to %s", got.URL)
			}
			h := http.Header{}
			for k, v := range got.Header {
				h.Set(k, v)
			}
			if err := webhook.Verify(key, h, got.Body, e.Clock.Now()); err != nil {
				t.Fatalf("a delivery is not signed with the verification secret: %v", err)
			}
			var body struct{ Type string }
			json.Unmarshal(got.Body, &body)
			types = append(types, body.Type)
		}
		if !strings.Contains(strings.Join(types, ","), "verification.created") || !strings.Contains(strings.Join(types, ","), "verification.completed") {
			t.Fatalf("delivered types: %v", types)
		}

		// The redirect back, as the applicant's done page asks for it.
		p, err := e.App.Verify.Applicant(e.System, csrf)
		if err != nil {
			t.Fatal(err)
		}
		var sessionID int64
		fmt.Sscan(d.ID, &sessionID)
		back, err := e.App.Verify.ReturnURL(verigate.WithPrincipal(context.Background(), p), sessionID)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(back)
		q := u.Query()
		if u.Host != "partner.example.com" || q.Get("from") != "verigate" || q.Get("verification_id") != d.ID || q.Get("status") != "completed" || q.Get("state") != "st-42" {
			t.Fatalf("return URL: %s", back)
		}
		if err := redirectsig.Verify(q, secret); err != nil {
			t.Fatalf("the redirect does not verify: %v (%s)", err, back)
		}
		q.Set("status", "cancelled")
		if err := redirectsig.Verify(q, secret); err == nil {
			t.Fatal("a changed status verifies")
		}

		// The list: by Konfir status, core status, reference, time; cursor.
		other := f.create(t, map[string]any{"data": map[string]any{"externalReferenceId": "crm-2"}})
		list := func(query string) (ids []string, next *string) {
			t.Helper()
			var l struct {
				Data []struct{ ID string }
				Meta struct {
					Limit      int
					NextCursor *string
				}
			}
			r := f.do("GET", "/v1/verifications"+query, nil)
			if r.Status != 200 {
				t.Fatalf("list %s: %d %s", query, r.Status, r.Body)
			}
			r.Decode(t, &l)
			for _, x := range l.Data {
				ids = append(ids, x.ID)
			}
			return ids, l.Meta.NextCursor
		}
		want := func(query string, ids ...string) {
			t.Helper()
			if got, _ := list(query); strings.Join(got, ",") != strings.Join(ids, ",") {
				t.Fatalf("list %s = %v, want %v", query, got, ids)
			}
		}
		want("", other.Data.ID, d.ID)
		want("?status=completed", d.ID)
		want("?status=COMPLETED", d.ID)
		want("?status=waiting_for_candidate", other.Data.ID)
		want("?status=cancelled")
		want("?externalReferenceId=crm-1", d.ID)
		want("?createdFrom=" + url.QueryEscape(e.Clock.Now().Add(time.Minute).Format(time.RFC3339)))
		want("?createdTo="+url.QueryEscape(e.Clock.Now().Format(time.RFC3339)), other.Data.ID, d.ID)
		page, next := list("?limit=1")
		if len(page) != 1 || page[0] != other.Data.ID || next == nil {
			t.Fatalf("page 1: %v %v", page, next)
		}
		want("?limit=1&cursor="+*next, d.ID)

		// The same object on /partner, both ways.
		var ps struct {
			Data struct {
				ID     int64
				Status string
			}
		}
		e.Do("GET", "/partner/session/"+d.ID, nil, "x-api-key", f.key).Decode(t, &ps)
		if fmt.Sprint(ps.Data.ID) != d.ID || ps.Data.Status != "COMPLETED" {
			t.Fatalf("on /partner: %+v", ps)
		}
		r = e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{"expiryDate": e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339), "applicantFirstName": "Grace"}}, "x-api-key", f.key)
		if r.Status != 201 {
			t.Fatalf("partner create: %d %s", r.Status, r.Body)
		}
		fromPartner := fmt.Sprint(int64(r.JSON(t)["data"].(map[string]any)["id"].(float64)))
		if got := f.get(t, fromPartner); got.Data.Status != "waiting_for_candidate" || *got.Data.Applicant["firstName"] != "Grace" || got.Meta.CandidateURL == nil {
			t.Fatalf("a /partner session on /v1: %+v %+v", got.Data, got.Meta)
		}
	})
}

// TestVerificationCancelAndLink: cancel (reason, event, an ended one is
// 409, its link stops working) and rotate (the old link stops working,
// the new one opens; the QR codes decode to the current link).
func TestVerificationCancelAndLink(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newVerifications(t, e)
		v := f.create(t, map[string]any{"data": map[string]any{"firstName": "Ada"}, "meta": map[string]any{"state": "s"}})
		id, old := v.Data.ID, *v.Meta.CandidateURL

		// The QR code decodes back to the candidate URL.
		if got := decodeQR(t, f.do("GET", "/v1/verifications/"+id+"/qr.png", nil)); got != old {
			t.Fatalf("QR = %q, want %q", got, old)
		}
		r := f.do("POST", "/v1/verifications/"+id+"/link", nil)
		if r.Status != 200 {
			t.Fatalf("rotate: %d %s", r.Status, r.Body)
		}
		var rotated vbody
		r.Decode(t, &rotated)
		fresh := *rotated.Meta.CandidateURL
		if fresh == old {
			t.Fatal("the link did not change")
		}
		u, _ := url.Parse(old)
		if r := e.Do("GET", u.RequestURI(), nil, "Accept", "application/json"); r.Status < 400 {
			t.Fatalf("the old link still opens: %d %s", r.Status, r.Body)
		}
		f.openAsApplicant(t, fresh)
		if got := decodeQR(t, f.do("GET", "/v1/verifications/"+id+"/qr.png", nil)); got != fresh {
			t.Fatalf("QR after rotation = %q, want %q", got, fresh)
		}
		svg := f.do("GET", "/v1/verifications/"+id+"/qr.svg", nil)
		if svg.Status != 200 || svg.Header.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(svg.Body, []byte("<svg")) || svg.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("svg: %d %v %.200s", svg.Status, svg.Header, svg.Body)
		}

		r = f.do("POST", "/v1/verifications/"+id+"/cancel", map[string]any{"reason": "duplicate"})
		var c vbody
		r.Decode(t, &c)
		if r.Status != 200 || c.Data.Status != "cancelled" || c.Data.CoreStatus != "CANCELLED" || *c.Data.CancellationReason != "duplicate" || c.Meta.CandidateURL != nil {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		if c.Data.Timeline[0].Type != "verification.cancelled" {
			t.Fatalf("timeline: %+v", c.Data.Timeline)
		}
		u, _ = url.Parse(fresh)
		if r := e.Do("GET", u.RequestURI(), nil, "Accept", "application/json"); r.Status < 400 {
			t.Fatalf("a cancelled verification's link opens: %d %s", r.Status, r.Body)
		}
		wantError(t, f.do("POST", "/v1/verifications/"+id+"/cancel", nil), 409, "CONFLICT")
		wantError(t, f.do("POST", "/v1/verifications/"+id+"/link", nil), 409, "CONFLICT")
		wantError(t, f.do("GET", "/v1/verifications/"+id+"/qr.png", nil), 409, "CONFLICT")

		// Without a body the reason is verifier_cancelled.
		v2 := f.create(t, map[string]any{"data": map[string]any{}})
		r = f.do("POST", "/v1/verifications/"+v2.Data.ID+"/cancel", nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), `"cancellationReason":"verifier_cancelled"`) {
			t.Fatalf("cancel without a body: %d %s", r.Status, r.Body)
		}
		// An expired one is cancelled/timed_out.
		v3 := f.create(t, map[string]any{"data": map[string]any{"expiresInHours": 1}})
		e.Clock.Advance(2 * time.Hour)
		if _, err := e.App.Jobs.ExpireDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := f.get(t, v3.Data.ID); got.Data.Status != "cancelled" || *got.Data.CancellationReason != "timed_out" || got.Data.CoreStatus != "EXPIRED" {
			t.Fatalf("expired: %+v", got.Data)
		}
	})
}

func decodeQR(t *testing.T, r *apptest.Response) string {
	t.Helper()
	if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr.png: %d %v %.200s", r.Status, r.Header, r.Body)
	}
	img, err := png.Decode(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the PNG does not decode as a QR code: %v", err)
	}
	return res.GetText()
}
