package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// printDemo prints the demo's credentials and a copy-paste tour of every
// route. ingestKey is demo-cu's call-ingestion key.
func printDemo(w io.Writer, st *demoState, dataDir string, ingestKey []byte) {
	base := st.BaseURL
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("")
	p("Verigate demo is running at %s  (data in %s; Ctrl-C stops it)", base, dataDir)
	p("")
	p("Reseller %s", st.Reseller.Key)
	p("  onboarding access token  %s", st.Reseller.AccessToken)
	p("  service account          %s  /  %s", st.Reseller.ServiceAccount.Email, st.Reseller.ServiceAccount.Password)
	for _, i := range st.Institutions {
		p("Institution %-13s  %s", i.Key, i.Name)
	}
	p("")
	p("Users (email / password, role @ organization, username):")
	for _, u := range st.Users {
		p("  %-32s %s   %s @ %s, %s", u.Email, u.Password, u.Role, u.Organization, u.Username)
	}
	p("")
	p("API keys:")
	for _, k := range st.APIKeys {
		p("  %s   %s, %s", k.Key, k.Mode, strings.Join(k.Scopes, ","))
	}
	p("")
	p("Ops:")
	p("  curl -s %s/healthz", base)
	p("  curl -s %s/readyz", base)
	p("  curl -s %s/metrics | grep verigate_http_requests_total", base)
	p("  curl -s %s/openapi.json | head -c 400; echo", base)
	p("  open %s/docs in a browser for the API reference", base)
	p("")
	enroll, reject := st.Calls[0], st.Calls[1]
	sa := `-H "SsoToken: $TOKEN" -H "InstitutionKey: demo-cu" -H "RequestedBy: jdoe"`
	js := `-H "Content-Type: application/json"`
	suffix := make([]byte, 2)
	rand.Read(suffix)
	p("Reseller API (/external) — paste in order; the first line signs the service account in:")
	p(`  TOKEN=$(curl -s -X POST %s/external/token/request -H "accessToken: %s" %s -d '{"email":"%s","password":"%s"}' | sed -E 's/.*"token":"([^"]+)".*/\1/'); echo $TOKEN`,
		base, st.Reseller.AccessToken, js, st.Reseller.ServiceAccount.Email, st.Reseller.ServiceAccount.Password)
	p("  curl -s %s/external/calls/queue %s", base, sa)
	p("  curl -s '%s/external/calls/queue?search=roe&limit=10' %s", base, sa)
	p(`  curl -s -X POST %s/external/calls/assign %s %s -d '{"phoneNumber":"%s","personId":"M-1001"}'`, base, sa, js, enroll.PhoneNumber)
	p("  curl -s %s/external/calls/%s/details %s", base, enroll.VoiceID, sa)
	p(`  curl -s -X POST %s/external/calls/%s/enroll %s %s -d '{"validationType":"otp"}'`, base, enroll.VoiceID, sa, js)
	p(`  curl -s -X POST %s/external/calls/assign %s %s -d '{"voiceId":"%s","personId":"M-1002"}'`, base, sa, js, reject.VoiceID)
	p(`  curl -s -X POST %s/external/calls/%s/reject-voice %s %s -d '{"reason":"voice mismatch"}'`, base, reject.VoiceID, sa, js)
	p("  curl -s -X POST %s/external/token/request/user %s", base, sa)
	p(`  curl -s %s/external/institutions -H "SsoToken: $TOKEN"`, base)
	p(`  curl -s -X POST %s/external/institutions -H "SsoToken: $TOKEN" %s -d '{"key":"demo-lender-%s","name":"Demo Lender","core":"Finastra"}'`, base, js, hex.EncodeToString(suffix))
	p(`  curl -s %s/external/institutions/demo-bank -H "SsoToken: $TOKEN"`, base)
	p(`  curl -s -X PUT %s/external/institutions/demo-bank -H "SsoToken: $TOKEN" %s -d '{"core":"Jack Henry Symitar"}'`, base, js)
	p(`  curl -s -X POST %s/external/institutions/demo-bank/login -H "SsoToken: $TOKEN" -H "RequestedBy: jdoe"`, base)
	p(`  curl -s -X POST %s/external/token/revoke -H "SsoToken: $TOKEN"`, base)
	p("")
	p("  A telephony integration reports a call (signed the Standard Webhooks way with demo-cu's ingestion key):")
	p(`  BODY='{"callId":"demo-'"$(date +%%s)"'","phoneNumber":"+15550107777","callerName":"Pat Doe"}'; TS=$(date +%%s); `+
		`SIG=$(printf '%%s' "msg_demo.$TS.$BODY" | openssl dgst -sha256 -mac HMAC -macopt hexkey:%s -binary | base64); `+
		`curl -s -X POST %s/external/voice/demo-cu/calls %s -H "webhook-id: msg_demo" -H "webhook-timestamp: $TS" -H "webhook-signature: v1,$SIG" -d "$BODY"`,
		hex.EncodeToString(ingestKey), base, js)
	p("")
	testKey := st.demoKey(demoScopes)
	v := st.Verification
	p("Applicant link (a test-mode session; exchange it for a CSRF token as the Partner API lines below do — the hosted journey pages it opens in a browser are not built yet):")
	p("  %s", v.ApplicantLink)
	p("")
	p("Partner API (/partner) — the seed's typical workflow on a new test-mode session, in order:")
	csrf := `-H "x-csrf-token: $CSRF"`
	key := `-H "x-api-key: $KEY"`
	p(`  KEY=%s`, testKey)
	p(`  SESSION=$(curl -s -X POST %s/partner/session %s %s -H "Idempotency-Key: demo-$(date +%%s)" -d '{"params":{"expiryDate":"'$(date -u -d '+7 days' +%%Y-%%m-%%dT%%H:%%M:%%SZ)'","applicantId":"applicant-42","applicantFirstName":"Jane","applicantLastName":"Roe","applicantEmail":"jane.roe@example.com","metadata":{"loanId":"L-1001"}}}'); echo "$SESSION"`, base, key, js)
	p(`  SID=$(echo "$SESSION" | sed -E 's/.*"data":\{"id":([0-9]+).*/\1/'); LINK=$(echo "$SESSION" | sed -E 's/.*"token":"([^"]+)".*/\1/')`)
	p(`  CSRF=$(curl -s "%s/partner/verification/verify?token=$LINK&sessionId=$SID" -H "Accept: application/json" | sed -E 's/.*"csrfToken":"([^"]+)".*/\1/'); echo $CSRF`, base)
	p(`  curl -s %s/partner/sources/session/$SID %s`, base, csrf)
	p(`  curl -s "%s/partner/sources/search?text=sandbox&sessionId=$SID" %s`, base, csrf)
	p(`  curl -s -X POST %s/partner/step/select-data-source %s %s -d '{"dataSourceIds":[%d],"sessionId":'$SID'}'`, base, csrf, js, v.SandboxSource)
	p(`  STEP=$(curl -s %s/partner/steps/session/$SID %s | sed -E 's/.*"steps":\[\{"id":([0-9]+).*/\1/'); echo $STEP`, base, csrf)
	p(`  curl -s -X POST %s/partner/step/initiate %s %s -d '{"stepId":'$STEP'}'`, base, csrf, js)
	p(`  PROOF=$(VERIGATE_DATA_DIR=%s go run ./cmd/verigate admin proof sandbox --step $STEP)`, dataDir)
	p(`  curl -s -X POST %s/partner/step/submit %s %s -d '{"stepId":'$STEP',"proofs":['"$PROOF"']}'`, base, csrf, js)
	p(`  curl -s %s/partner/steps/$STEP %s`, base, csrf)
	p(`  curl -s -X POST %s/partner/session/$SID/link %s`, base, key)
	p(`  curl -s "%s/partner/reviewer/sessions?status=REVIEWING&limit=5" %s`, base, key)
	p(`  curl -s -X POST %s/partner/reviewer/sessions/$SID/approve %s`, base, key)
	p(`  curl -s %s/partner/session/$SID %s`, base, key)
	p(`  curl -s -X POST %s/partner/sdk/session %s %s -d '{"sourceName":"PayPal"}'`, base, key, js)
	p(`  curl -s %s/partner/types %s`, base, key)
	p(`  curl -s %s/partner/sources/type/1 %s`, base, key)
	p(`  (demo-reseller's review policy is "always": a finished session waits for the reviewer. A session rejected with a reason:`)
	p(`   curl -s -X POST %s/partner/reviewer/sessions/<id>/reject %s %s -d '{"reason":"documents do not match"}')`, base, key, js)
	p("")
	conn := st.Connections[0]
	otpKey, mKey := st.demoKey(otpScopes), st.demoKey(machineScopes)
	p("Machine API (/v1) — account %s is a Sandbox Bank login waiting for a 6-digit code (123456 is right):", conn.AccountID)
	p(`  curl -s %s/v1/accounts/%s/status -H "Authorization: Api-Key %s"`, base, conn.AccountID, otpKey)
	p(`  curl -s -X POST %s/v1/accounts/%s/otp -H "Authorization: Api-Key %s" %s -d '{"code":"123456"}'`, base, conn.AccountID, otpKey, js)
	p(`  curl -s %s/v1/accounts/%s/status -H "Authorization: Api-Key %s"`, base, conn.AccountID, otpKey)
	p(`  curl -s -N --max-time 3 %s/v1/accounts/%s/events -H "x-api-key: %s"`, base, conn.AccountID, otpKey)
	p(`  MKEY=%s`, mKey)
	p(`  ACCT=$(curl -s -X POST %s/v1/accounts -H "x-api-key: $MKEY" %s -d '{"source_id":%d,"credentials":{"username":"twice","password":"pass"},"label":"two codes"}' | sed -E 's/.*"account_id":"([^"]+)".*/\1/'); echo $ACCT`, base, js, conn.SourceID)
	p(`  sleep 1; curl -s %s/v1/accounts/$ACCT/status -H "x-api-key: $MKEY"`, base)
	p(`  curl -s -X POST %s/v1/accounts/$ACCT/otp -H "x-api-key: $MKEY" %s -d '{"code":"123456"}'; sleep 1`, base, js)
	p(`  curl -s -X POST %s/v1/accounts/$ACCT/otp -H "x-api-key: $MKEY" %s -d '{"code":"654321"}'; sleep 1`, base, js)
	p(`  curl -s %s/v1/accounts/$ACCT -H "x-api-key: $MKEY"`, base)
	p(`  curl -s -X POST %s/v1/accounts/$ACCT/refresh -H "x-api-key: $MKEY"`, base)
	p(`  curl -s "%s/v1/accounts?limit=10" -H "x-api-key: $MKEY"`, base)
	p("  (Sandbox Bank users, password pass: good, otp, alpha (code AB12CD34), twice (123456 then 654321), locked, slow.)")
	p("")
	var owner demoUser
	for _, u := range st.Users {
		if u.Role == "owner" {
			owner = u
		}
	}
	p("Embedded API (ExactPay's tokens) — sign in as %s, then send the token as Authorization:", owner.Email)
	p(`  TOK=$(curl -s -X POST %s/token -H 'Accept: application/json' %s -d '{"email":"%s","password":"%s"}' | sed -E 's/.*"token":"([^"]+)".*/\1/'); echo $TOK`, base, js, owner.Email, owner.Password)
	p(`  ORG=$(curl -s -X POST %s/token %s -d '{"email":"%s","password":"%s"}' | sed -E 's/.*"account":"([^"]+)".*/\1/'); echo $ORG`, base, js, owner.Email, owner.Password)
	p(`  curl -s %s/organization/$ORG -H "Authorization: $TOK"`, base)
	p(`  curl -s %s/organization/$ORG/account -H "Authorization: $TOK"`, base)
	p(`  curl -s "%s/organization/$ORG/account/search?q=cu" -H "Authorization: $TOK"`, base)
	p(`  APP=$(curl -s -X POST %s/application/reports/token -H "Authorization: $TOK" %s -d '{"label":"read-only reports","permissions":["users.read","roles.read"]}' | sed -E 's/.*"token":"([^"]+)".*/\1/'); echo $APP`, base, js)
	p(`  curl -s %s/users -H "Authorization: $APP"`, base)
	p(`  curl -s -X POST %s/roles -H "Authorization: $APP" %s -d '{"name":"x","permissions":["users.read"]}'   # 403: the token may only read`, base, js)
	p(`  curl -s "%s/application/reports/token?sort=-createdAt" -H "Authorization: $TOK"`, base)
	p(`  ROLE=$(curl -s -X POST %s/roles -H "Authorization: $TOK" %s -d '{"name":"auditor-'$(date +%%s)'","permissions":["users.read","audit.read"]}' | sed -E 's/.*"id":"([^"]+)".*/\1/'); echo $ROLE`, base, js)
	p(`  curl -s %s/roles -H "Authorization: $TOK"`, base)
	p(`  USER=$(curl -s -X POST %s/users -H "Authorization: $TOK" %s -d '{"email":"aud'$(date +%%s)'@demo-reseller.test","username":"aud","password":"a long password","roles":["'$ROLE'"]}' | sed -E 's/.*"id":"([^"]+)".*/\1/'); echo $USER`, base, js)
	p(`  curl -s -X PUT %s/users/$USER/roles -H "Authorization: $TOK" %s -d '{"roles":["viewer"]}'`, base, js)
	p(`  curl -s -X POST %s/users/$USER/disable -H "Authorization: $TOK"`, base)
	p("")
	p("Manage it from another terminal (the same data directory):")
	p("  VERIGATE_DATA_DIR=%s go run ./cmd/verigate admin org list", dataDir)
	p("  VERIGATE_DATA_DIR=%s go run ./cmd/verigate admin call simulate --institution demo-cu --phone +15550105000 --name 'Sam Caller'", dataDir)
	p("  VERIGATE_DATA_DIR=%s go run ./cmd/verigate admin audit list --limit 10", dataDir)
	p("  VERIGATE_DATA_DIR=%s go run ./cmd/verigate admin sources list", dataDir)
	p("")
	p("Machine-readable: go run ./cmd/verigate demo --json")
	fmt.Fprint(w, b.String())
}
