package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"
)

// printDemo prints the demo's credentials and a tour of every route as
// lines for bash: comments (#) and commands, every one of which works when
// pasted in order, from the repository's root, while the demo runs
// (TestDemoLinesRun runs them). The first commands export the variables
// the others use. ingestKey is demo-cu's call-ingestion key; now dates the
// new session's expiry.
func printDemo(w io.Writer, st *demoState, adminEnv string, ingestKey []byte, now time.Time) {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	var owner demoUser
	for _, u := range st.Users {
		if u.Role == "owner" {
			owner = u
		}
	}
	conn := st.Connections[0]
	p("")
	p("# Verigate demo is running at %s (%s; Ctrl-C stops it).", st.BaseURL, adminEnv)
	p("# Every line below pastes into bash, in order, in another terminal at the repository's root;")
	p("# lines starting with # are comments. First the credentials, as the variables the lines use:")
	p("export BASE=%s", st.BaseURL)
	p("export ACCESS_TOKEN=%s   # demo-reseller's onboarding access token", st.Reseller.AccessToken)
	p("export SVC_EMAIL=%s SVC_PASSWORD=%s   # its service account", st.Reseller.ServiceAccount.Email, st.Reseller.ServiceAccount.Password)
	p("export PARTNER_KEY=%s   # Partner API key, test mode", st.demoKey(demoScopes))
	p("export OTP_KEY=%s   # machine key: otp:write,status:read", st.demoKey(otpScopes))
	p("export MACHINE_KEY=%s   # machine key: accounts:read,accounts:write,otp:write,status:read", st.demoKey(machineScopes))
	p("export HOOK_KEY=%s   # webhook key: webhooks:read,webhooks:write,events:read", st.demoKey(hookScopes))
	p("export ACCOUNT=%s   # a Sandbox Bank login waiting for a 6-digit code (123456 is right)", conn.AccountID)
	p("export REVIEW_SESSION=%d   # a session waiting for a reviewer", st.ReviewSessionID)
	p("export OWNER_EMAIL=%s OWNER_PASSWORD=%s", owner.Email, owner.Password)
	p("#")
	p("# Reseller %s; institutions:", st.Reseller.Key)
	for _, i := range st.Institutions {
		p("#   %-13s  %s", i.Key, i.Name)
	}
	p("# Users (email / password, role @ organization, username):")
	for _, u := range st.Users {
		p("#   %-32s %s   %s @ %s, %s", u.Email, u.Password, u.Role, u.Organization, u.Username)
	}
	p("# API keys (the lines use the test-mode ones exported above):")
	for _, k := range st.APIKeys {
		p("#   %s   %s, %s", k.Key, k.Mode, strings.Join(k.Scopes, ","))
	}
	p("# Dashboard: open $BASE/dashboard/ in a browser and sign in as any user above. With \"Show test data\" (the demo's")
	p("# objects are test mode) the reviewer finds verification %d waiting for review and the operator Pat Doe's call;", st.DashboardReviewID)
	p("# the lines below leave both alone.")
	p("# Machine-readable: go run ./cmd/verigate demo --json")
	p("")
	p("# Ops (open $BASE/docs in a browser for the API reference):")
	p("curl -sf $BASE/healthz")
	p("curl -sf $BASE/readyz")
	p("curl -sf $BASE/metrics | grep verigate_http_requests_total")
	p(`curl -sf $BASE/openapi.json | grep -c '"operationId"'   # how many operations the document describes`)
	p("")
	printReseller(p, st, ingestKey)
	printPartner(p, st, adminEnv, now)
	p("# Machine API (/v1): $ACCOUNT waits for its code; the seed's two curl lines, then the status and the event stream:")
	p(`curl -sf $BASE/v1/accounts/$ACCOUNT/status -H "Authorization: Api-Key $OTP_KEY"`)
	p(`curl -sf -X POST $BASE/v1/accounts/$ACCOUNT/otp -H "Authorization: Api-Key $OTP_KEY" -H "Content-Type: application/json" -d '{"code":"123456"}'`)
	p(`curl -sf $BASE/v1/accounts/$ACCOUNT/status -H "Authorization: Api-Key $OTP_KEY"`)
	p(`curl -sfN --max-time 3 $BASE/v1/accounts/$ACCOUNT/events -H "x-api-key: $OTP_KEY" || [ $? -eq 28 ]   # the stream stays open; curl stops after 3 s`)
	p("# A login that asks two codes in a row, opened with the key that may open accounts. It runs in the background,")
	p("# so retry runs a command until it succeeds (for up to 10 s): a code is refused (409) until the login asks for it.")
	p(`retry() { for i in $(seq 20); do "$@" && return 0; sleep 0.5; done; return 1; }`)
	p(`ACCOUNT2=$(curl -sf -X POST $BASE/v1/accounts -H "x-api-key: $MACHINE_KEY" -H "Content-Type: application/json" -d '{"source_id":%d,"credentials":{"username":"twice","password":"pass"},"label":"two codes"}' | sed -E 's/.*"account_id":"([^"]+)".*/\1/'); echo $ACCOUNT2`, conn.SourceID)
	p(`retry curl -sf -X POST $BASE/v1/accounts/$ACCOUNT2/otp -H "x-api-key: $MACHINE_KEY" -H "Content-Type: application/json" -d '{"code":"123456"}'`)
	p(`retry curl -sf -X POST $BASE/v1/accounts/$ACCOUNT2/otp -H "x-api-key: $MACHINE_KEY" -H "Content-Type: application/json" -d '{"code":"654321"}'`)
	p(`retry curl -sf -X POST $BASE/v1/accounts/$ACCOUNT2/refresh -H "x-api-key: $MACHINE_KEY"   # a new login, once this one has connected`)
	p(`curl -sf $BASE/v1/accounts/$ACCOUNT2 -H "x-api-key: $MACHINE_KEY"`)
	p(`curl -sf "$BASE/v1/accounts?limit=10" -H "x-api-key: $MACHINE_KEY"`)
	p("# Sandbox Bank users, password pass: good, otp, alpha (code AB12CD34), twice (123456 then 654321), locked, slow.")
	p("")
	printEmbedded(p)
	printWebhooks(p, st, adminEnv, now)
	printVerifications(p, st)
	p("# Manage it from another terminal (the same data directory):")
	p("%s go run ./cmd/verigate admin org list", adminEnv)
	p("%s go run ./cmd/verigate admin call simulate --institution demo-cu --phone +15550105000 --name 'Sam Caller'", adminEnv)
	p("%s go run ./cmd/verigate admin audit list --limit 10", adminEnv)
	p("%s go run ./cmd/verigate admin sources list", adminEnv)
	fmt.Fprint(w, b.String())
}

func printReseller(p func(string, ...any), st *demoState, ingestKey []byte) {
	enroll, reject := st.Calls[0], st.Calls[1]
	sa := `-H "SsoToken: $TOKEN" -H "InstitutionKey: demo-cu" -H "RequestedBy: jdoe"`
	js := `-H "Content-Type: application/json"`
	suffix := make([]byte, 2)
	rand.Read(suffix)
	p("# Reseller API (/external): the service account signs in, then works demo-cu's call queue and the institutions.")
	p("# With Node 18+, Confirm's worked example runs on the variables above: node examples/confirm-worked-example.mjs")
	p(`TOKEN=$(curl -sf -X POST $BASE/external/token/request -H "accessToken: $ACCESS_TOKEN" %s -d '{"email":"'$SVC_EMAIL'","password":"'$SVC_PASSWORD'"}' | sed -E 's/.*"token":"([^"]+)".*/\1/'); echo $TOKEN`, js)
	p("curl -sf $BASE/external/calls/queue %s", sa)
	p(`curl -sf "$BASE/external/calls/queue?search=roe&limit=10" %s`, sa)
	p(`curl -sf -X POST $BASE/external/calls/assign %s %s -d '{"phoneNumber":"%s","personId":"M-1001"}'`, sa, js, enroll.PhoneNumber)
	p("curl -sf $BASE/external/calls/%s/details %s", enroll.VoiceID, sa)
	p(`curl -sf -X POST $BASE/external/calls/%s/enroll %s %s -d '{"validationType":"otp"}'`, enroll.VoiceID, sa, js)
	p(`curl -sf -X POST $BASE/external/calls/assign %s %s -d '{"voiceId":"%s","personId":"M-1002"}'`, sa, js, reject.VoiceID)
	p(`curl -sf -X POST $BASE/external/calls/%s/reject-voice %s %s -d '{"reason":"voice mismatch"}'`, reject.VoiceID, sa, js)
	p("curl -sf -X POST $BASE/external/token/request/user %s", sa)
	p(`curl -sf $BASE/external/institutions -H "SsoToken: $TOKEN"`)
	p(`curl -sf -X POST $BASE/external/institutions -H "SsoToken: $TOKEN" %s -d '{"key":"demo-lender-%s","name":"Demo Lender","core":"Finastra"}'`, js, hex.EncodeToString(suffix))
	p(`curl -sf $BASE/external/institutions/demo-bank -H "SsoToken: $TOKEN"`)
	p(`curl -sf -X PUT $BASE/external/institutions/demo-bank -H "SsoToken: $TOKEN" %s -d '{"core":"Jack Henry Symitar"}'`, js)
	p(`curl -sf -X POST $BASE/external/institutions/demo-bank/login -H "SsoToken: $TOKEN" -H "RequestedBy: jdoe"`)
	p("# The url opens demo-cu's dashboard as operator jdoe, once (open it in a browser instead to work the call queue):")
	p(`URL=$(curl -sf -X POST $BASE/external/institutions/demo-cu/login -H "SsoToken: $TOKEN" -H "RequestedBy: jdoe" | sed -E 's/.*"url":"([^"]+)".*/\1/'); echo $URL`)
	p(`curl -s -o /dev/null -w '%%{http_code} first use: signed in\n' "$URL"; curl -s -o /dev/null -w '%%{http_code} second use: refused\n' "$URL"`)
	p(`curl -sf -X POST $BASE/external/token/revoke -H "SsoToken: $TOKEN"`)
	p("# A telephony integration reports a call, signed the Standard Webhooks way with demo-cu's ingestion key:")
	p(`BODY='{"callId":"demo-'"$(date +%%s)"'","phoneNumber":"+15550107777","callerName":"Pat Doe"}'; TS=$(date +%%s); `+
		`SIG=$(printf '%%s' "msg_demo.$TS.$BODY" | openssl dgst -sha256 -mac HMAC -macopt hexkey:%s -binary | base64); `+
		`curl -sf -X POST $BASE/external/voice/demo-cu/calls %s -H "webhook-id: msg_demo" -H "webhook-timestamp: $TS" -H "webhook-signature: v1,$SIG" -d "$BODY"`,
		hex.EncodeToString(ingestKey), js)
	p("")
}

func printPartner(p func(string, ...any), st *demoState, adminEnv string, now time.Time) {
	v := st.Verification
	csrf := `-H "x-csrf-token: $CSRF"`
	key := `-H "x-api-key: $PARTNER_KEY"`
	js := `-H "Content-Type: application/json"`
	p("# Applicant link of a test-mode session: in a browser it opens the hosted journey; the lines below exchange")
	p("# such a link for a CSRF token and drive the steps from a partner's app instead:")
	p("#   %s", v.ApplicantLink)
	p("# Partner API (/partner): the seed's typical workflow on a new test-mode session, in order:")
	p(`SESSION=$(curl -sf -X POST $BASE/partner/session %s %s -H "Idempotency-Key: demo-$(date +%%s)" -d '{"params":{"expiryDate":"%s","applicantId":"applicant-42","applicantFirstName":"Jane","applicantLastName":"Roe","applicantEmail":"jane.roe@example.com","metadata":{"loanId":"L-1001"}}}'); echo "$SESSION"`,
		key, js, now.Add(7*24*time.Hour).UTC().Format("2006-01-02T15:04:05Z"))
	p(`SID=$(echo "$SESSION" | sed -E 's/.*"data":\{"id":([0-9]+).*/\1/'); LINK=$(echo "$SESSION" | sed -E 's/.*"token":"([^"]+)".*/\1/'); echo $SID`)
	p(`CSRF=$(curl -sf "$BASE/partner/verification/verify?token=$LINK&sessionId=$SID" -H "Accept: application/json" | sed -E 's/.*"csrfToken":"([^"]+)".*/\1/'); echo $CSRF`)
	p(`curl -sf $BASE/partner/sources/session/$SID %s`, csrf)
	p(`curl -sf "$BASE/partner/sources/search?text=sandbox&sessionId=$SID" %s`, csrf)
	p(`curl -sf -X POST $BASE/partner/step/select-data-source %s %s -d '{"dataSourceIds":[%d],"sessionId":'$SID'}'`, csrf, js, v.SandboxSource)
	p(`STEP=$(curl -sf $BASE/partner/steps/session/$SID %s | sed -E 's/.*"steps":\[\{"id":([0-9]+).*/\1/'); echo $STEP`, csrf)
	p(`curl -sf -X POST $BASE/partner/step/initiate %s %s -d '{"stepId":'$STEP'}'`, csrf, js)
	p(`PROOF=$(%s go run ./cmd/verigate admin proof sandbox --step $STEP)   # a sandbox-signed proof`, adminEnv)
	p(`curl -sf -X POST $BASE/partner/step/submit %s %s -d '{"stepId":'$STEP',"proofs":['"$PROOF"']}'`, csrf, js)
	p(`curl -sf $BASE/partner/steps/$STEP %s`, csrf)
	p(`curl -sf -X POST $BASE/partner/session/$SID/link %s`, key)
	p("# demo-reseller's review policy is \"always\": a finished session waits for a reviewer.")
	p(`curl -sf "$BASE/partner/reviewer/sessions?status=REVIEWING&limit=5" %s`, key)
	p(`curl -sf -X POST $BASE/partner/reviewer/sessions/$SID/approve %s`, key)
	p(`curl -sf $BASE/partner/session/$SID %s`, key)
	p(`curl -sf -X POST $BASE/partner/reviewer/sessions/$REVIEW_SESSION/reject %s %s -d '{"reason":"documents do not match"}'`, key, js)
	p(`curl -sf -X POST $BASE/partner/sdk/session %s %s -d '{"sourceName":"PayPal"}'`, key, js)
	p(`curl -sf $BASE/partner/types %s`, key)
	p(`curl -sf $BASE/partner/sources/type/1 %s`, key)
	p("")
}

func printEmbedded(p func(string, ...any)) {
	js := `-H "Content-Type: application/json"`
	p("# Embedded API (ExactPay's tokens): sign in as the owner, then send the token as Authorization:")
	p(`TOK=$(curl -sf -X POST $BASE/token -H 'Accept: application/json' %s -d '{"email":"'$OWNER_EMAIL'","password":"'$OWNER_PASSWORD'"}' | sed -E 's/.*"token":"([^"]+)".*/\1/'); echo $TOK`, js)
	p(`ORG=$(curl -sf -X POST $BASE/token %s -d '{"email":"'$OWNER_EMAIL'","password":"'$OWNER_PASSWORD'"}' | sed -E 's/.*"account":"([^"]+)".*/\1/'); echo $ORG`, js)
	p(`curl -sf $BASE/organization/$ORG -H "Authorization: $TOK"`)
	p(`curl -sf $BASE/organization/$ORG/account -H "Authorization: $TOK"`)
	p(`curl -sf "$BASE/organization/$ORG/account/search?q=cu" -H "Authorization: $TOK"`)
	p(`APP=$(curl -sf -X POST $BASE/application/reports/token -H "Authorization: $TOK" %s -d '{"label":"read-only reports","permissions":["users.read","roles.read"]}' | sed -E 's/.*"token":"([^"]+)".*/\1/'); echo $APP`, js)
	p(`curl -sf $BASE/users -H "Authorization: $APP"`)
	p(`[ "$(curl -s -o /dev/null -w '%%{http_code}' -X POST $BASE/roles -H "Authorization: $APP" %s -d '{"name":"x","permissions":["users.read"]}')" = 403 ] && echo "403: the application token may only read"`, js)
	p(`curl -sf "$BASE/application/reports/token?sort=-createdAt" -H "Authorization: $TOK"`)
	p(`ROLE=$(curl -sf -X POST $BASE/roles -H "Authorization: $TOK" %s -d '{"name":"auditor-'$(date +%%s)'","permissions":["users.read","audit.read"]}' | sed -E 's/.*"id":"([^"]+)".*/\1/'); echo $ROLE`, js)
	p(`curl -sf $BASE/roles -H "Authorization: $TOK"`)
	p(`NEW_USER=$(curl -sf -X POST $BASE/users -H "Authorization: $TOK" %s -d '{"email":"aud'$(date +%%s)'@demo-reseller.test","username":"aud","password":"a long password","roles":["'$ROLE'"]}' | sed -E 's/.*"id":"([^"]+)".*/\1/'); echo $NEW_USER`, js)
	p(`curl -sf -X PUT $BASE/users/$NEW_USER/roles -H "Authorization: $TOK" %s -d '{"roles":["viewer"]}'`, js)
	p(`curl -sf -X POST $BASE/users/$NEW_USER/disable -H "Authorization: $TOK"`)
	p("")
}
