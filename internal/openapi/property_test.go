package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/openapi/openapitest"
	"github.com/verigate/verigate/internal/reclaim"
)

// variants is how many requests each operation gets per engine.
const variants = 12

// skipped are operations the property cannot drive: the voice-ingestion
// webhook needs a signature over the generated body, and the event stream
// holds its connection open. The journey's forms are HTML forms
// (internal/web/journey's tests post them).
var skipped = map[string]string{
	"POST /external/voice/{institutionKey}/calls": "signed by the voice provider",
	"GET /v1/accounts/{accountId}/events":         "a stream that stays open",
	"POST /journey/sessions/{sessionId}/consent":  "an HTML form",
	"POST /journey/sessions/{sessionId}/sources":  "an HTML form",
	"POST /journey/steps/{stepId}/initiate":       "an HTML form",
	"POST /journey/steps/{stepId}/connect":        "an HTML form",
	"POST /journey/steps/{stepId}/code":           "an HTML form",
	"POST /journey/steps/{stepId}/proof":          "an HTML form",
}

func init() {
	openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`))
}

// TestSchemaValidRequestsAreAccepted is the document's promise, checked:
// for every operation, requests generated from its schemas (path, query,
// header parameters and body) with a valid credential for its surface are
// never answered 400, 422 or 500. 404, 409, 403 and 401 are fine (the
// object may not exist; the generated login may be wrong). Each generated
// request is first checked against the document, so the generator
// cannot drift from it.
func TestSchemaValidRequestsAreAccepted(t *testing.T) {
	doc := openapitest.Doc(t)
	d := *doc
	d.Servers = nil
	router, err := legacy.NewRouter(&d)
	if err != nil {
		t.Fatal(err)
	}
	type op struct {
		method, path string
		o            *openapi3.Operation
		params       openapi3.Parameters
	}
	var ops []op
	for path, item := range doc.Paths.Map() {
		for method, o := range item.Operations() {
			if skipped[method+" "+path] == "" && !slices.Contains(o.Tags, "Dashboard") { // HTML pages: internal/web/dashboard's tests
				ops = append(ops, op{method, path, o, append(slices.Clone(item.Parameters), o.Parameters...)})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })

	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		s := newSurfaces(t, e)
		tg := &targets{}
		for _, op := range ops {
			t.Run(op.method+" "+op.path, func(t *testing.T) {
				// Past every per-minute limit (sign-in, key, applicant), with
				// fresh credentials (an earlier operation may have revoked them).
				e.Clock.Advance(time.Minute + time.Second)
				s.refresh(t)
				s.makeTargets(t, tg)
				seen := map[int]int{}
				defer func() { t.Logf("statuses: %v", seen) }()
				for v := range variants {
					g := &gen{r: rand.New(rand.NewPCG(uint64(v), uint64(len(op.path)))), next: e.Clock.Now(), known: s.known(), refs: s.refs(t)}
					g.known["stepId"] = func() any { return tg.steps[v%len(tg.steps)] }
					// A step named in a body must be of the kind the route
					// drives (the document says so): connector steps connect
					// and take codes, Reclaim steps take proofs.
					switch op.path {
					case "/partner/step/connect", "/partner/step/otp":
						g.refs["stepId"] = func() any { return tg.connectorStep }
					case "/v1/webhook-endpoints", "/webhooks", "/v1/verification-secret", "/v1/verification-secret/rotate":
						// An organization in reach: the document cannot say which exist.
						g.refs["organization_id"] = func() any { return s.account }
						g.refs["account"] = func() any { return s.account }
					case "/api/me/api-keys":
						// Accounts the key's user reaches: the document cannot say which exist.
						g.refs["account_ids[]"] = func() any { return s.account }
					case "/v1/webhook-endpoints/{endpointId}/replay", "/webhooks/{id}/replay":
						// A replay starts in the past, which a schema cannot say.
						g.refs["since"] = func() any { return e.Clock.Now().Add(-time.Hour).Format(time.RFC3339) }
					case "/partner/step/submit":
						// Signatures cannot be generated from a schema: the
						// proofs are genuine (the sandbox attestor's), and
						// TestProofSchemaIsProofShape checks the schema.
						g.refs["stepId"] = func() any { return tg.reclaimStep }
						g.refs["proofs[]"] = func() any { return s.sandboxProof(t, tg.reclaimStep) }
					}
					req := s.request(t, g, tg, op.method, op.path, op.o, op.params)
					body, _ := io.ReadAll(req.Body)
					if err := validRequest(router, req, body); err != nil {
						t.Fatalf("the generator made a request the document refuses (fix the generator): %v", err)
					}
					r := e.Do(req.Method, req.URL.RequestURI(), body, flatten(req.Header)...)
					seen[r.Status]++
					if r.Status == 400 || r.Status == 422 || r.Status >= 500 {
						t.Errorf("variant %d: %s %s\nheaders %v\nbody %s\nanswered %d: %s", v, req.Method, req.URL.RequestURI(), req.Header, body, r.Status, r.Body)
					}
				}
			})
		}
	})
}

// request builds one generated request with the operation's credential.
func (s *surfaces) request(t *testing.T, g *gen, tg *targets, method, path string, o *openapi3.Operation, params openapi3.Parameters) *http.Request {
	q := url.Values{}
	header := http.Header{}
	for _, pr := range params {
		p := pr.Value
		if !p.Required && g.r.IntN(2) == 0 {
			continue
		}
		v := fmt.Sprint(g.value(p.Schema.Value, p.Name))
		if real := tg.known(path, p.Name); real != "" && p.In == "path" && g.r.IntN(2) == 0 {
			v = real
		}
		switch p.In {
		case "path":
			path = strings.Replace(path, "{"+p.Name+"}", url.PathEscape(v), 1)
		case "query":
			q.Set(p.Name, v)
		case "header":
			header.Set(p.Name, v)
		}
	}
	var body []byte
	if rb := o.RequestBody; rb != nil && (rb.Value.Required || g.r.IntN(2) == 0) {
		mt := rb.Value.Content.Get("application/json")
		var err error
		if body, err = json.Marshal(g.value(mt.Schema.Value, "")); err != nil {
			t.Fatal(err)
		}
		header.Set("Content-Type", "application/json")
	}
	if o.Security != nil && len(*o.Security) > 0 {
		for scheme := range (*o.Security)[0] {
			s.credential(scheme, header, q)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.URL.RawQuery = q.Encode()
	req.Header = header
	return req
}

// credential sets a valid credential for a security scheme.
func (s *surfaces) credential(scheme string, h http.Header, q url.Values) {
	switch scheme {
	case "PartnerApiKey":
		h.Set("x-api-key", s.partner)
	case "CsrfToken":
		h.Set("x-csrf-token", s.csrf)
	case "SsoToken":
		h.Set("SsoToken", s.sso)
	case "EmbeddedToken":
		h.Set("Authorization", s.embedded)
	case "V1ApiKey":
		h.Set("Authorization", "Api-Key "+s.v1)
	case "BearerJWT":
		h.Set("Authorization", "Bearer "+s.jwt)
	case "AccessToken":
		h.Set("accessToken", s.reseller.AccessToken)
	case "LinkToken":
		q.Set("token", s.linkToken)
		q.Set("sessionId", fmt.Sprint(s.session))
	}
}

// validRequest checks req against the document, as a client library
// generated from it would.
func validRequest(router routers.Router, req *http.Request, body []byte) error {
	clone := req.Clone(context.Background())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(clone)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{Request: clone, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}})
}

// refs supplies real objects for references inside bodies.
func (s *surfaces) refs(t *testing.T) map[string]func() any {
	srcs, err := s.e.App.Verify.Sources(s.e.System)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, src := range srcs {
		ids[src.SourceName] = src.ID
	}
	reclaim, bank := ids["Sandbox Reclaim"], ids["Sandbox Bank"]
	var typeID int64
	for _, src := range srcs {
		if src.ID == reclaim {
			typeID = src.VerificationTypeID
		}
	}
	return map[string]func() any{
		"roles[]":            func() any { return verigate.RoleViewer },
		"dataSourceIds[]":    func() any { return reclaim },
		"allowedSources[]":   func() any { return reclaim },
		"activities[]":       func() any { return reclaim },
		"selectedPlatform":   func() any { return reclaim },
		"verificationTypeId": func() any { return typeID },
		"institutionKey":     func() any { return "acme-cu" },
		"sourceName":         func() any { return "Sandbox Reclaim" },
		"source_id":          func() any { return bank },
	}
}

// known is a real target for a path parameter, or "".
func (tg *targets) known(path, name string) string {
	switch {
	case name == "stepId":
		return fmt.Sprint(tg.steps[len(path)%len(tg.steps)])
	case name == "id" && strings.HasPrefix(path, "/users/"):
		return tg.user
	case name == "id" && strings.HasPrefix(path, "/roles/"):
		return tg.role
	case name == "id" && strings.HasPrefix(path, "/api/me/api-keys/"):
		return tg.apiKey
	case name == "accountId" && (strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/api/")):
		return tg.v1
	case name == "voiceId":
		return tg.voiceID
	case name == "endpointId":
		return tg.v1Endpoint
	case name == "messageId" && strings.HasPrefix(path, "/v1/"):
		return tg.v1Message
	case name == "id" && strings.HasPrefix(path, "/v1/verifications/"):
		return tg.verification
	case name == "id" && strings.HasPrefix(path, "/webhooks/"):
		return tg.webhook
	case name == "messageId":
		return tg.webhookMessage
	}
	return ""
}

// known supplies real objects' ids and keys by parameter or field name.
func (s *surfaces) known() map[string]func() any {
	str := func(v *string) func() any { return func() any { return *v } }
	return map[string]func() any{
		"orgId":          str(&s.orgID),
		"accountId":      str(&s.account),
		"account":        str(&s.account),
		"accounts[]":     str(&s.account),
		"applicationId":  str(&s.appID),
		"sessionId":      func() any { return s.session },
		"key":            func() any { return "acme-cu" },
		"institutionKey": func() any { return "acme-cu" },
		"InstitutionKey": func() any { return "acme-cu" },
	}
}

func flatten(h http.Header) []string {
	var out []string
	for k, vs := range h {
		out = append(out, k, vs[0])
	}
	return out
}

// sandboxProof is a genuine proof for a test-mode Reclaim step.
func (s *surfaces) sandboxProof(t *testing.T, stepID int64) any {
	p, err := s.e.App.Verify.SandboxProof(s.e.System, stepID)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	b, _ := json.Marshal(p)
	json.Unmarshal(b, &v)
	return v
}

// TestProofSchemaIsProofShape: every proof the document allows is a proof
// in shape (reclaim.CheckShape), so only its verification can fail.
func TestProofSchemaIsProofShape(t *testing.T) {
	doc := openapitest.Doc(t)
	schema := doc.Paths.Find("/partner/step/submit").Post.RequestBody.Value.Content.Get("application/json").Schema.Value.Properties["proofs"].Value.Items.Value
	for i := range 200 {
		g := &gen{r: rand.New(rand.NewPCG(uint64(i), 7)), next: time.Now()}
		b, _ := json.Marshal(g.value(schema, ""))
		var p reclaim.Proof
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if err := reclaim.CheckShape(p); err != nil {
			t.Fatalf("the document allows %s, which is not a proof: %s", b, err.Reason)
		}
	}
}
