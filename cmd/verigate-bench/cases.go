package main

import (
	"net/http"
	"strconv"
)

// benchCase is one kind of request the bench drives.
type benchCase struct {
	Name  string `json:"name"`  // short id, stable across runs
	Label string `json:"label"` // what the table says
	// next builds the round's requests; otp holds the round's accounts
	// waiting for a code.
	next func(otp []string) nextFunc `json:"-"`
}

const (
	caseBare = "bare"
	caseOTP  = "otp-submit"
)

// repeat answers the same request every time.
func repeat(rq request) nextFunc {
	return func(int64) (request, bool) { return rq, true }
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// bareCase is the reference every round measures.
func bareCase(bareURL string) benchCase {
	return benchCase{Name: caseBare, Label: "bare net/http `GET /hello`", next: func([]string) nextFunc {
		return repeat(request{method: "GET", url: bareURL + "/hello"})
	}}
}

// serverCases are the cases on verigate, in the order a round starts from.
func serverCases(f *fixture) []benchCase {
	key := hdr("x-api-key", f.machineKey)
	return []benchCase{
		{Name: "status-read", Label: "`GET /v1/accounts/:id/status` (API key)", next: func([]string) nextFunc {
			return repeat(request{method: "GET", url: f.base + "/v1/accounts/" + f.statusAccount + "/status", header: key})
		}},
		{Name: "sso-read", Label: "`GET /external/institutions` (SSO token)", next: func([]string) nextFunc {
			return repeat(request{method: "GET", url: f.base + "/external/institutions", header: hdr("SsoToken", f.ssoToken)})
		}},
		{Name: "embedded-read", Label: "`GET /users` (embedded token)", next: func([]string) nextFunc {
			return repeat(request{method: "GET", url: f.base + "/users", header: hdr("Authorization", f.userToken)})
		}},
		{Name: "csrf-step-read", Label: "`GET /partner/steps/:id` (CSRF token)", next: func([]string) nextFunc {
			// Round robin over the sessions: each allows 300 requests a minute.
			reqs := make([]request, len(f.steps))
			for i, st := range f.steps {
				reqs[i] = request{method: "GET", url: f.base + "/partner/steps/" + strconv.FormatInt(st.stepID, 10),
					header: hdr("x-csrf-token", st.csrf)}
			}
			return func(i int64) (request, bool) { return reqs[i%int64(len(reqs))], true }
		}},
		{Name: "session-create", Label: "`POST /partner/session` (API key)", next: func([]string) nextFunc {
			return repeat(request{method: "POST", url: f.base + "/partner/session", header: hdr("x-api-key", f.partnerKey), body: sessionBody()})
		}},
		{Name: caseOTP, Label: "`POST /v1/accounts/:id/otp` (API key)", next: func(accounts []string) nextFunc {
			// Each login waiting for a code takes the right one once.
			body := []byte(`{"code":"123456"}`)
			return func(i int64) (request, bool) {
				if i >= int64(len(accounts)) {
					return request{}, false
				}
				return request{method: "POST", url: f.base + "/v1/accounts/" + accounts[i] + "/otp", header: key, body: body}, true
			}
		}},
	}
}
