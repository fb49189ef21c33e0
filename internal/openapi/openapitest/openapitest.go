// Package openapitest checks HTTP responses against Verigate's OpenAPI
// document. Every handler test uses it, so a response the document does
// not describe (an undocumented status, field or shape) fails the test.
package openapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/verigate/verigate/internal/openapi"
)

var load = sync.OnceValues(func() (*openapi3.T, error) {
	b, err := openapi.Document()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	return doc, nil
})

// Doc returns the parsed, validated document.
func Doc(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := load()
	if err != nil {
		t.Fatalf("openapi document: %v", err)
	}
	return doc
}

// Validator matches requests to documented operations and checks
// responses against them.
type Validator struct {
	router routers.Router
}

var router = sync.OnceValues(func() (routers.Router, error) {
	doc, err := load()
	if err != nil {
		return nil, err
	}
	// Match on path alone, whatever host a test server has.
	d := *doc
	d.Servers = nil
	return legacy.NewRouter(&d)
})

// New returns a Validator over the document.
func New(t testing.TB) *Validator {
	t.Helper()
	r, err := router()
	if err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	return &Validator{router: r}
}

// Check fails t unless the response (status, header, body) is one the
// document describes for req.
func (v *Validator) Check(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s is not in the OpenAPI document: %v", req.Method, req.URL.Path, err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	if ct, _, _ := mime.ParseMediaType(header.Get("Content-Type")); ct != "application/json" {
		opts.ExcludeResponseBody = true
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: status, Header: header, Options: opts,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Fatalf("%s %s answered %d, which the OpenAPI document does not allow:\n%v\nbody: %s",
			req.Method, req.URL.Path, status, err, truncate(body))
	}
}

// Serve sends req to h, checks the response and returns it.
func (v *Validator) Serve(t testing.TB, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	v.Check(t, req, rec.Code, rec.Header(), rec.Body.Bytes())
	return rec
}

// Do sends req to a live server with client, checks the response and
// returns its status, header and body.
func (v *Validator) Do(t testing.TB, client *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	v.Check(t, req, resp.StatusCode, resp.Header, body)
	return resp, body
}

func truncate(b []byte) string {
	s := string(b)
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return strings.TrimSpace(s)
}

// CheckWebhook fails t unless body is a webhook message the document's
// webhooks section describes for its type.
func CheckWebhook(t testing.TB, body []byte) {
	t.Helper()
	if err := ValidateWebhook(Doc(t), body); err != nil {
		t.Fatalf("webhook body %s: %v", truncate(body), err)
	}
}

// ValidateWebhook checks body against the webhooks entry of its type.
func ValidateWebhook(doc *openapi3.T, body []byte) error {
	var msg struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return err
	}
	item := doc.Webhooks[msg.Type]
	if item == nil || item.Post == nil || item.Post.RequestBody == nil {
		return fmt.Errorf("event type %q is not in the webhooks section", msg.Type)
	}
	media := item.Post.RequestBody.Value.Content.Get("application/json")
	if media == nil || media.Schema == nil {
		return fmt.Errorf("webhook %q documents no JSON body", msg.Type)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return media.Schema.Value.VisitJSON(v, openapi3.MultiErrors())
}
