package verigate_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
)

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func render(t *testing.T, o verigate.OutboxEvent) verigate.Event {
	t.Helper()
	e, err := o.Render()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

// TestWebhookEventTypes: the catalogue lists each type once, described,
// and every type but the endpoints' own has a sample of that type.
func TestWebhookEventTypes(t *testing.T) {
	seen := map[verigate.EventType]bool{}
	for _, w := range verigate.WebhookEventTypes {
		if seen[w.Type] || w.Description == "" || strings.Count(w.Description, "\n") > 0 {
			t.Errorf("%s: listed twice or not described in one line", w.Type)
		}
		seen[w.Type] = true
		o, ok := verigate.SampleEvent(w.Type, "org-1", verigate.ModeTest, t0)
		if w.Type == "endpoint.disabled" {
			if ok {
				t.Errorf("a sample of %s is made here, not with the endpoints", w.Type)
			}
			continue
		}
		if !ok {
			t.Errorf("no sample of %s", w.Type)
			continue
		}
		if e := render(t, o); e.Type != w.Type || e.Subject == "" || e.OrgID != "org-1" {
			t.Errorf("sample of %s is %+v", w.Type, e)
		}
	}
	if len(seen) != 19 {
		t.Errorf("%d event types, want 19", len(seen))
	}
}

// TestWebhookBodyPII: personal data is in the body only with includePII,
// and everything else is the same either way.
func TestWebhookBodyPII(t *testing.T) {
	// Metadata that looks like the cut: a "pii" key and the marker's text
	// inside a string.
	sess := &verigate.Session{ID: 9, OrgID: "org-1", Mode: verigate.ModeLive, Status: verigate.SessionPending, ApplicantID: `a,"pii":{x`,
		Metadata: json.RawMessage(`{"pii":{"a":1},"note":",\"pii\":{"}`), ApplicantFirstName: "Jane", ApplicantEmail: "jane@example.com"}
	events := []verigate.Event{render(t, verigate.NewVerificationCreated(sess, t0))}
	for _, w := range verigate.WebhookEventTypes {
		if o, ok := verigate.SampleEvent(w.Type, "org-1", verigate.ModeLive, t0); ok {
			events = append(events, render(t, o))
		}
	}
	personal := []string{"metadata", "applicantFirstName", "applicantLastName", "applicantEmail", "phoneNumber", "callerName", "memberName", "Jane", "jane", "+1555"}
	withPII := 0
	for _, e := range events {
		with, err := e.WebhookBody(true)
		if err != nil {
			t.Fatal(err)
		}
		without, err := e.WebhookBody(false)
		if err != nil {
			t.Fatal(err)
		}
		w, wo := decode(t, with), decode(t, without)
		if w["type"] != string(e.Type) || w["timestamp"] != "2026-11-22T09:00:00Z" || len(w) != 3 || len(wo) != 3 {
			t.Errorf("%s: body %s", e.Type, with)
		}
		if !reflect.DeepEqual(w["data"], decode(t, e.Payload)) {
			t.Errorf("%s: data %v is not the payload %s", e.Type, w["data"], e.Payload)
		}
		data, dataWO := w["data"].(map[string]any), wo["data"].(map[string]any)
		if _, ok := dataWO["pii"]; ok {
			t.Errorf("%s: without PII: %s", e.Type, without)
		}
		for _, p := range personal {
			if bytes.Contains(without, []byte(p)) {
				t.Errorf("%s: without PII, the body holds %q: %s", e.Type, p, without)
			}
		}
		if _, ok := data["pii"]; ok {
			withPII++
			delete(data, "pii")
		}
		if !reflect.DeepEqual(data, dataWO) {
			t.Errorf("%s: without PII, data %v, want %v", e.Type, dataWO, data)
		}
	}
	// Sessions (8 statuses, step.updated, the tricky one) and calls (4) carry PII.
	if withPII != 14 {
		t.Errorf("%d events carry PII, want 14", withPII)
	}
	if got := string(events[0].Data(true)); !strings.Contains(got, `"pii":{"metadata":{"pii":{"a":1},"note":",\"pii\":{"},"applicantFirstName":"Jane","applicantEmail":"jane@example.com"}`) {
		t.Errorf("with PII: %s", got)
	}
	if got := string(events[0].Data(false)); got != `{"sessionId":9,"status":"PENDING","applicantId":"a,\"pii\":{x"}` {
		t.Errorf("without PII: %s", got)
	}
	if got := string((verigate.Event{Type: verigate.EventWebhookTest}).Data(false)); got != "{}" {
		t.Errorf("an empty payload's data is %s", got)
	}
	// A type that needs escaping is still a JSON string.
	if b, err := (verigate.Event{Type: "a\"<b>", CreatedAt: t0}).WebhookBody(false); err != nil || decode(t, b)["type"] != "a\"<b>" {
		t.Errorf("escaped type: %s, %v", b, err)
	}
}

// TestReconbankerBody: assistance.required and the two kinds of
// connection failure in Reconbanker's notification shape; nothing else.
func TestReconbankerBody(t *testing.T) {
	step := int64(7)
	conn := &verigate.Connection{ID: "acct-1", OrgID: "org-1", Mode: verigate.ModeLive, SourceID: 5, StepID: &step, SessionID: 3}
	req := &verigate.AssistanceRequest{ID: "req_1", Type: "otp", Descriptor: verigate.Descriptor{Length: 6, Type: "numeric", Purpose: "login"},
		Status: verigate.AssistPending, ExpiresAt: t0.Add(5 * time.Minute)}
	conn.Status = verigate.ConnAwaiting
	required := verigate.NewAssistanceEvent(conn, req, t0)
	failed := func(kind verigate.FailureKind, reason string) verigate.OutboxEvent {
		c := *conn
		c.Status, c.FailureReason = verigate.ConnFailed, reason
		return verigate.NewConnectionFailed(&c, kind, t0.Add(time.Second))
	}
	for _, tc := range []struct {
		name string
		ev   verigate.OutboxEvent
		want string
	}{
		{"assistance required", required, `{"account_id":"acct-1","type":"assistance_required","status":"awaiting_code",` +
			`"data":{"request_id":"req_1","type":"otp","descriptor":{"length":6,"type":"numeric","purpose":"login"},"expires_at":"2026-11-22T09:05:00Z"},` +
			`"occurred_at":"2026-11-22T09:00:00Z"}`},
		{"login failure", failed(verigate.FailureLogin, "invalid credentials"),
			`{"account_id":"acct-1","type":"login_failed","status":"failed","data":{"reason":"invalid credentials"},"occurred_at":"2026-11-22T09:00:01Z"}`},
		{"scrape failure", failed(verigate.FailureScrape, "logged in, but the bank's data could not be read"),
			`{"account_id":"acct-1","type":"scrape_failed","status":"failed","data":{"reason":"logged in, but the bank's data could not be read"},"occurred_at":"2026-11-22T09:00:01Z"}`},
	} {
		body, ok, err := render(t, tc.ev).ReconbankerBody()
		if err != nil || !ok || string(body) != tc.want {
			t.Errorf("%s: %s, %v, %v\nwant %s", tc.name, body, ok, err, tc.want)
		}
	}
	for _, w := range verigate.WebhookEventTypes {
		o, ok := verigate.SampleEvent(w.Type, "org-1", verigate.ModeLive, t0)
		if !ok || w.Type == verigate.EventAssistanceRequired || w.Type == verigate.EventConnectionFailed {
			continue
		}
		if body, ok, err := render(t, o).ReconbankerBody(); ok || body != nil || err != nil {
			t.Errorf("%s has a Reconbanker body: %s %v", w.Type, body, err)
		}
	}
}

// BenchmarkWebhookBody measures rendering a session event's body at
// dispatch, with and without its personal data.
func BenchmarkWebhookBody(b *testing.B) {
	o, _ := verigate.SampleEvent(verigate.EventStepUpdated, "org-1", verigate.ModeLive, t0)
	e, err := o.Render()
	if err != nil {
		b.Fatal(err)
	}
	for _, pii := range []bool{true, false} {
		b.Run(map[bool]string{true: "pii", false: "nopii"}[pii], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.WebhookBody(pii); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
