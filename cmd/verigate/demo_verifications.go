package main

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app"
)

// verifyScopes are the Konfir-style key's: the verification requests.
var verifyScopes = []string{"verifications:create", "verifications:read", "verifications:update"}

// demoVerifyKey makes the verification key (test mode, verifyScopes)
// unless the state holds it: demos set up before /v1/verifications lack
// it. Its id is kept too: Konfir's clients send it as X-KONFIR-CLIENT-ID.
func demoVerifyKey(ctx context.Context, a *app.App, st *demoState) error {
	if st.demoKey(verifyScopes) != "" {
		return nil
	}
	key, k, err := a.Access.CreateAPIKey(ctx, access.APIKeyInput{OrgKey: demoResellerKey, UserEmail: st.Reseller.ServiceAccount.Email,
		Name: "demo verifications", Scopes: verifyScopes, Mode: verigate.ModeTest})
	if err != nil {
		return fmt.Errorf("create the verification key: %w", err)
	}
	st.APIKeys = append(st.APIKeys, demoAPIKey{ID: k.ID, Key: key, Scopes: k.Scopes, Organization: demoResellerKey, Mode: string(verigate.ModeTest)})
	return nil
}

// demoKeyID returns the id of the demo key with exactly these scopes.
func (st *demoState) demoKeyID(scopes []string) string {
	for _, k := range st.APIKeys {
		if strings.Join(k.Scopes, ",") == strings.Join(scopes, ",") && k.Mode == string(verigate.ModeTest) {
			return k.ID
		}
	}
	return ""
}

// demoReturnPath is where the demo's receiver answers the journey's
// redirect back to the partner.
const demoReturnPath = "/return"

// returnPage is the demo partner's return page: the applicant's browser
// lands here from the journey's done page. It checks the redirect's sig
// against demo-reseller's verification secret, says what it found, and
// prints a line in the demo's terminal.
func (d *demoReceiver) returnPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := struct {
		ID, Status, State, Problem string
		OK                         bool
	}{ID: q.Get("verification_id"), Status: q.Get("status"), State: q.Get("state")}
	err := d.a.Webhooks.CheckRedirect(d.ctx, d.orgID, q)
	v.OK = err == nil
	result := "signature ok"
	if err != nil {
		v.Problem, result = err.Error(), "signature NOT ok: "+err.Error()
	}
	fmt.Fprintf(d.plain, "# redirect received: verification %q %s, state %q, %s\n", v.ID, v.Status, v.State, result)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if !v.OK {
		w.WriteHeader(http.StatusBadRequest)
	}
	returnTemplate.Execute(w, v)
}

var returnTemplate = template.Must(template.New("return").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo partner</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
.ok{color:#0a6b2d}.bad{color:#a4161a}code{background:#f1f1f1;padding:0 .25rem}</style></head>
<body><main>
<h1>Welcome back to the demo partner</h1>
<p>Verification <code>{{.ID}}</code> is <strong>{{.Status}}</strong>{{if .State}} (state <code>{{.State}}</code>){{end}}.</p>
{{if .OK}}<p class="ok">✓ The signature checks: Verigate sent you here, and nobody changed these values.</p>
{{else}}<p class="bad">✗ The signature does not check ({{.Problem}}): do not trust these values.</p>{{end}}
<p>A partner's server reads the results with <code>GET /v1/verifications/{{.ID}}</code>, or waits for the webhook.</p>
</main></body></html>
`))

// printVerifications prints the Konfir-style tour: verification requests
// on /v1, from the partner's server (the lines) to the applicant's
// browser (comments), back to the demo's receiver, and the results.
func printVerifications(p func(string, ...any), st *demoState) {
	if st.Webhook == nil {
		return
	}
	konfir := `-H "X-KONFIR-CLIENT-ID: $VERIFY_KEY_ID" -H "X-KONFIR-CLIENT-SECRET: $VERIFY_KEY"`
	js := `-H "Content-Type: application/json"`
	p("# Verification requests (/v1, Konfir's dialect): the partner's server creates a verification, embeds its")
	p("# candidate URL (link, button or QR code), and the applicant does the rest in the hosted journey.")
	p("export VERIFY_KEY=%s VERIFY_KEY_ID=%s   # verifications:create,read,update; Konfir's client secret and id", st.demoKey(verifyScopes), st.demoKeyID(verifyScopes))
	p("# The verification secret signs the redirect back (and a verification's own webhookUrl): rotating it shows it, this once.")
	p(`VERIFY_SECRET=$(curl -sf -X POST $BASE/v1/verification-secret/rotate -H "x-api-key: $HOOK_KEY" | sed -E 's/.*"secret":"([^"]+)".*/\1/'); echo $VERIFY_SECRET`)
	p("# meta.redirectUrl is the demo's receiver, which answers the redirect with a page that checks its sig. The demo's")
	p("# webhook endpoint receives the verification's events (its terminal prints them).")
	p(`VERIFICATION=$(curl -sf -X POST $BASE/v1/verifications %s %s -H "Idempotency-Key: demo-v-$(date +%%s)" -d '{"data":{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","activities":["Sandbox Reclaim","Sandbox Bank"],"externalReferenceId":"crm-1001"},"meta":{"redirectUrl":"'$RECEIVER'return","state":"demo-42"}}'); echo "$VERIFICATION"`, konfir, js)
	p(`VID=$(echo "$VERIFICATION" | sed -E 's/.*"data":\{"id":"([^"]+)".*/\1/'); CANDIDATE_URL=$(echo "$VERIFICATION" | sed -E 's/.*"candidateUrl":"([^"]+)".*/\1/; s/\\u0026/\&/g'); echo $VID`)
	p(`echo "open this in a browser: $CANDIDATE_URL"`)
	p(`curl -sf $BASE/v1/verifications/$VID/qr.png %s -o "${TMPDIR:-/tmp}/verigate-qr.png" && echo "the same link as a QR code: ${TMPDIR:-/tmp}/verigate-qr.png"`, konfir)
	p("# In the browser: consent, pick a source, then either Sandbox Reclaim (its page shows the proof request's QR code")
	p("# for the Reclaim app; in test mode \"Use the sandbox provider\" stands in for the phone) or Sandbox Bank (user otp,")
	p("# password pass, code 123456). The done page's button returns to the receiver, whose page checks the redirect's")
	p("# sig; the demo's terminal prints \"# redirect received: …\" and the verification's webhooks. demo-reseller's review")
	p("# policy is \"always\", so it then waits for a reviewer (Konfir's status: completed); approve it with")
	p(`#   curl -sf -X POST $BASE/partner/reviewer/sessions/$VID/approve -H "x-api-key: $PARTNER_KEY"`)
	p(`curl -sf $BASE/v1/verifications/$VID %s   # waiting_for_candidate until the applicant is done; then its activities and timeline`, konfir)
	p(`curl -sf "$BASE/v1/verifications?externalReferenceId=crm-1001&limit=5" -H "Authorization: Api-Key $VERIFY_KEY"   # the key alone works too`)
	p("")
}
