package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/redirectsig"
)

// TestDemoReturnPage: the demo receiver's return page checks the
// redirect's sig against the organization's verification secret — the
// current one, and the one before during the rotation overlap — and says
// so on the page and in the terminal; a changed value does not check.
func TestDemoReturnPage(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		ctx, org, err := webhookPrincipal(verigate.WithPrincipal(context.Background(), cliPrincipal), e.App, "acme", string(verigate.ModeTest))
		if err != nil {
			t.Fatal(err)
		}
		var terminal bytes.Buffer
		rv := &demoReceiver{a: e.App, ctx: ctx, orgID: org.ID, out: &linePrefixer{w: &terminal, prefix: demoReceiverPrefix}, plain: &terminal}
		open := func(q url.Values) (int, string) {
			rec := httptest.NewRecorder()
			rv.ServeHTTP(rec, httptest.NewRequest("GET", demoReturnPath+"?"+q.Encode(), nil))
			return rec.Code, rec.Body.String()
		}
		redirect := func(secret, status string) url.Values {
			return url.Values{"verification_id": {"6"}, "status": {status}, "state": {"<b>st</b>"},
				"sig": {redirectsig.Sign(secret, "6", status, "<b>st</b>")}}
		}
		// No secret yet: the page says the sig does not check.
		if code, body := open(redirect("whsec_"+strings.Repeat("A", 43)+"=", "completed")); code != 400 || !strings.Contains(body, "does not check") {
			t.Fatalf("before any secret: %d %s", code, body)
		}
		_, first, err := e.App.Webhooks.RotateVerificationSecret(ctx, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		good := redirect(first, "completed")
		code, body := open(good)
		if code != 200 || !strings.Contains(body, "The signature checks") || !strings.Contains(body, "&lt;b&gt;st&lt;/b&gt;") {
			t.Fatalf("a signed redirect: %d %s", code, body)
		}
		if !strings.Contains(terminal.String(), `# redirect received: verification "6" completed, state "<b>st</b>", signature ok`) {
			t.Errorf("terminal: %s", terminal.String())
		}
		tampered := redirect(first, "completed")
		tampered.Set("status", "cancelled")
		if code, body := open(tampered); code != 400 || !strings.Contains(body, "does not check") {
			t.Fatalf("a changed status: %d %s", code, body)
		}
		// Rotated: the one before still checks during the overlap, then not.
		_, second, err := e.App.Webhooks.RotateVerificationSecret(ctx, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []url.Values{good, redirect(second, "cancelled")} {
			if code, _ := open(q); code != 200 {
				t.Fatalf("after a rotation: %d for %v", code, q)
			}
		}
		e.Clock.Advance(25 * time.Hour)
		if code, _ := open(good); code != 400 {
			t.Fatalf("the old secret still checks after the overlap: %d", code)
		}
	})
}
