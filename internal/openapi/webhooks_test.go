package openapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/openapi/openapitest"
)

// TestWebhooksDocumented: the webhooks section holds exactly the
// catalogue's types, and a sample of each, made by the code that makes
// real events, is a body its entry allows, with personal data and
// without. (TestOutboxEvents checks the events of real flows too.)
func TestWebhooksDocumented(t *testing.T) {
	doc := openapitest.Doc(t)
	listed := map[string]bool{}
	for _, w := range verigate.WebhookEventTypes {
		listed[string(w.Type)] = true
		item := doc.Webhooks[string(w.Type)]
		if item == nil || item.Post == nil || item.Post.Description != w.Description {
			t.Errorf("%s: not documented with its description", w.Type)
			continue
		}
		for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
			if p := item.Post.Parameters.GetByInAndName("header", h); p == nil || !p.Required {
				t.Errorf("%s: header %s not documented as required", w.Type, h)
			}
		}
		if item.Post.Responses.Value("2XX") == nil {
			t.Errorf("%s: no 2XX response", w.Type)
		}
		o, ok := verigate.SampleEvent(w.Type, "org-1", verigate.ModeTest, time.Now())
		if !ok {
			continue // endpoint.disabled: made, and checked, with the endpoints
		}
		e, err := o.Render()
		if err != nil {
			t.Fatal(err)
		}
		for _, pii := range []bool{true, false} {
			body, err := e.WebhookBody(pii)
			if err != nil {
				t.Fatal(err)
			}
			if err := openapitest.ValidateWebhook(doc, body); err != nil {
				t.Errorf("%s (PII %v): %s does not match its schema: %v", w.Type, pii, body, err)
			}
		}
	}
	for name := range doc.Webhooks {
		if !listed[name] {
			t.Errorf("webhook %s is documented but not in verigate.WebhookEventTypes", name)
		}
	}
	// The check can fail: an undocumented field, a wrong type, a missing id.
	for _, bad := range []string{
		`{"type":"call.queued","timestamp":"2026-11-22T09:00:00Z","data":{"voiceId":"v","institutionKey":"k","status":"queued","receivedAt":"2026-11-22T09:00:00Z","caller":"x"}}`,
		`{"type":"call.queued","timestamp":"2026-11-22T09:00:00Z","data":{"sessionId":1,"status":"PENDING","applicantId":""}}`,
		`{"type":"step.updated","timestamp":"2026-11-22T09:00:00Z","data":{"sessionId":1,"status":"PENDING","applicantId":""}}`,
		`{"type":"verification.created","timestamp":"2026-11-22T09:00:00Z","data":{"sessionId":1,"status":"PENDING","applicantId":"","pii":{"metadata":{},"phoneNumber":"1"}}}`,
		`{"type":"no.such","timestamp":"2026-11-22T09:00:00Z","data":{}}`,
	} {
		if err := openapitest.ValidateWebhook(doc, []byte(bad)); err == nil {
			t.Errorf("%s passes", bad)
		} else if strings.TrimSpace(err.Error()) == "" {
			t.Errorf("%s: empty error", bad)
		}
	}
}
