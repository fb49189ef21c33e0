package delivery_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
	"github.com/verigate/verigate/internal/webhook"
)

// TestEndpoints: the endpoint use cases, their validation, and the one
// rule (another tenant's endpoint answers exactly as a missing one).
func TestEndpoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, delivery.Options{})
		ctx := e.admin
		for _, c := range []struct {
			field string
			in    delivery.EndpointInput
		}{
			{"url", delivery.EndpointInput{URL: "https://private.example"}},
			{"url", delivery.EndpointInput{URL: "http://plain.example"}},
			{"url", delivery.EndpointInput{URL: ""}},
			{"event_types", delivery.EndpointInput{URL: "https://a.example", EventTypes: []verigate.EventType{"nope.never"}}},
			{"event_types", delivery.EndpointInput{URL: "https://a.example", EventTypes: []verigate.EventType{"step.failed", "step.failed"}}},
			{"description", delivery.EndpointInput{URL: "https://a.example", Description: strings.Repeat("d", 501)}},
			{"rate_limit", delivery.EndpointInput{URL: "https://a.example", RateLimit: 1001}},
			{"rate_limit", delivery.EndpointInput{URL: "https://a.example", RateLimit: -1}},
			{"flavour", delivery.EndpointInput{URL: "https://a.example", Flavour: "svix"}},
			{"auth_scheme", delivery.EndpointInput{URL: "https://a.example", AuthScheme: "Basic", AuthToken: "x"}},
			{"auth_token", delivery.EndpointInput{URL: "https://a.example", AuthScheme: verigate.AuthBearer}},
			{"auth_token", delivery.EndpointInput{URL: "https://a.example", AuthToken: "orphan"}},
		} {
			_, err := e.svc.Create(ctx, c.in)
			field(t, err, c.field)
		}
		_, err := e.svc.Create(ctx, delivery.EndpointInput{URL: "https://a.example", OrgID: "r2"})
		code(t, err, verigate.EINVALID) // an organization out of reach
		if list, _ := e.svc.List(ctx, "", 100); len(list) != 0 {
			t.Fatalf("bad input wrote endpoints: %v", list)
		}

		made := e.create(t, ctx, delivery.EndpointInput{URL: "https://a.example/hook", Description: "ours", IncludeChildren: true,
			EventTypes: []verigate.EventType{verigate.EventVerificationCompleted}, AuthScheme: verigate.AuthBearer, AuthToken: "tok-123"})
		ep := made.Endpoint
		if !strings.HasPrefix(made.Secret, "whsec_") || ep.OrgID != "r1" || ep.Mode != verigate.ModeLive || !ep.Enabled ||
			ep.Flavour != verigate.FlavourStandard {
			t.Fatalf("created: %+v %q", ep, made.Secret)
		}
		key, err := webhook.ParseSecret(made.Secret)
		if err != nil || len(key) != 32 {
			t.Fatalf("secret: %v", err)
		}
		dump := storetest.Dump(t, db)
		if strings.Contains(dump, made.Secret) || strings.Contains(dump, "tok-123") {
			t.Fatal("the secret or auth token is stored in the clear")
		}
		if got, err := e.svc.Get(ctx, ep.ID); err != nil || got.Description != "ours" {
			t.Fatalf("get: %+v %v", got, err)
		}
		inst := e.create(t, e.inst, delivery.EndpointInput{URL: "https://i1.example"}).Endpoint
		if list, _ := e.svc.List(ctx, "", 100); len(list) != 2 {
			t.Fatalf("the reseller lists its own and its child's: %v", list)
		}
		if list, _ := e.svc.List(e.inst, "", 100); len(list) != 1 || list[0].ID != inst.ID {
			t.Fatalf("the institution lists its own only: %v", list)
		}

		// Another tenant: every use case answers not found.
		_, err = e.svc.Get(e.rival, ep.ID)
		code(t, err, verigate.ENOTFOUND)
		if err.Error() != delivery.ErrNotFound.Error() {
			t.Fatalf("foreign endpoint answered differently from a missing one: %v", err)
		}
		_, missing := e.svc.Get(e.rival, "no-such-endpoint")
		if missing.Error() != err.Error() {
			t.Fatalf("missing %v, foreign %v", missing, err)
		}
		_, err = e.svc.Update(e.rival, ep.ID, delivery.EndpointUpdate{})
		code(t, err, verigate.ENOTFOUND)
		code(t, e.svc.Delete(e.rival, ep.ID), verigate.ENOTFOUND)
		_, err = e.svc.RotateSecret(e.rival, ep.ID)
		code(t, err, verigate.ENOTFOUND)
		_, err = e.svc.Messages(e.rival, ep.ID, delivery.MessageFilter{Limit: 10})
		code(t, err, verigate.ENOTFOUND)
		_, err = e.svc.SendTest(e.rival, ep.ID, "")
		code(t, err, verigate.ENOTFOUND)
		_, err = e.svc.Replay(e.rival, ep.ID, t0, false)
		code(t, err, verigate.ENOTFOUND)
		if list, _ := e.svc.List(e.rival, "", 100); len(list) != 0 {
			t.Fatalf("the rival lists: %v", list)
		}
		// The child reaches not its parent's endpoint.
		_, err = e.svc.Get(e.inst, ep.ID)
		code(t, err, verigate.ENOTFOUND)
		// A reader may read, not change.
		reader := verigate.WithPrincipal(context.Background(), &verigate.Principal{Kind: verigate.PrincipalAPIKey, ID: "k",
			OrgID: "r1", Orgs: []string{"r1"}, Mode: verigate.ModeLive, Permissions: []verigate.Permission{"webhooks.read"}})
		if _, err := e.svc.Get(reader, ep.ID); err != nil {
			t.Fatal(err)
		}
		code(t, e.svc.Delete(reader, ep.ID), verigate.EFORBIDDEN)
		_, err = e.svc.Create(reader, delivery.EndpointInput{URL: "https://a.example"})
		code(t, err, verigate.EFORBIDDEN)
		// The test mode sees not the live mode's.
		test := verigate.WithPrincipal(context.Background(), &verigate.Principal{Kind: verigate.PrincipalAPIKey, ID: "kt",
			OrgID: "r1", Orgs: []string{"r1"}, Mode: verigate.ModeTest, Permissions: []verigate.Permission{"webhooks.read"}})
		_, err = e.svc.Get(test, ep.ID)
		code(t, err, verigate.ENOTFOUND)

		// Update: partial, validated, all or nothing.
		bad := "https://private.example"
		_, err = e.svc.Update(ctx, ep.ID, delivery.EndpointUpdate{URL: &bad})
		field(t, err, "url")
		limit := 5000
		_, err = e.svc.Update(ctx, ep.ID, delivery.EndpointUpdate{RateLimit: &limit})
		field(t, err, "rate_limit")
		desc, off, none := "changed", false, verigate.AuthNone
		got, err := e.svc.Update(ctx, ep.ID, delivery.EndpointUpdate{Description: &desc, Enabled: &off, AuthScheme: &none})
		if err != nil || got.Description != "changed" || got.Enabled || got.DisabledReason == "" || got.AuthScheme != verigate.AuthNone ||
			got.URL != "https://a.example/hook" {
			t.Fatalf("update: %+v %v", got, err)
		}
		apiKey := verigate.AuthAPIKey
		_, err = e.svc.Update(ctx, ep.ID, delivery.EndpointUpdate{AuthScheme: &apiKey})
		field(t, err, "auth_token") // the token was dropped with the scheme
		if err := e.svc.Delete(ctx, ep.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Get(ctx, ep.ID)
		code(t, err, verigate.ENOTFOUND)
		audit, _ := db.ListAuditEvents(context.Background(), verigate.AuditFilter{TargetID: ep.ID})
		if len(audit) != 3 || audit[0].Action != "webhook_endpoint.delete" || audit[2].ActorID != "u-r1" {
			t.Fatalf("audit: %+v", audit)
		}
	})
}

// TestDeliverSigned: a delivered message carries Standard Webhooks headers
// that verify with the endpoint's secret, its Authorization, and the log
// shows the attempt.
func TestDeliverSigned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		recon := func(e verigate.Event) ([]byte, error) {
			if e.Type != verigate.EventConnectionFailed {
				return nil, nil
			}
			return []byte(`{"account_id":"` + e.Subject + `","type":"login_failed"}`), nil
		}
		e := newEnv(t, db, delivery.Options{Reconbanker: recon})
		std := e.create(t, e.inst, delivery.EndpointInput{URL: "https://std.example", AuthScheme: verigate.AuthAPIKey, AuthToken: "k-1"})
		rb := e.create(t, e.inst, delivery.EndpointInput{URL: "https://rb.example", Flavour: verigate.FlavourReconbanker,
			AuthScheme: verigate.AuthBearer, AuthToken: "rb-token"})
		e.emit(t, "i1", verigate.EventVerificationCompleted, "5")
		e.emit(t, "i1", verigate.EventConnectionFailed, "conn-9")
		if n := e.work(t); n != 3 {
			t.Fatalf("%d attempts, want 2 standard and 1 Reconbanker", n)
		}
		key, _ := webhook.ParseSecret(std.Secret)
		for _, a := range e.sender.to("https://std.example") {
			h := http.Header{}
			for k, v := range a.Delivery.Header {
				h.Set(k, v)
			}
			if err := webhook.Verify(key, h, a.Delivery.Body, e.clock.Now()); err != nil {
				t.Fatalf("signature: %v", err)
			}
			if h.Get("Authorization") != "Api-Key k-1" || h.Get(webhook.HeaderReconbankerSignature) != "" {
				t.Fatalf("headers: %v", h)
			}
		}
		got := e.sender.to("https://rb.example")
		if len(got) != 1 {
			t.Fatalf("reconbanker got %d", len(got))
		}
		d := got[0].Delivery
		if string(d.Body) != `{"account_id":"conn-9","type":"login_failed"}` || d.Header["Authorization"] != "Bearer rb-token" ||
			d.Header[webhook.HeaderReconbankerSignature] != webhook.ReconbankerSignature([]byte(rb.Secret), t0, d.Body) ||
			d.Header[webhook.HeaderReconbankerTimestamp] != "1795341600" {
			t.Fatalf("reconbanker delivery: %s %v", d.Body, d.Header)
		}
		msgs, err := e.svc.Messages(e.inst, std.Endpoint.ID, delivery.MessageFilter{Limit: 10})
		if err != nil || len(msgs) != 2 || msgs[0].Status != verigate.MessageDelivered || msgs[0].ID != e.sender.to("https://std.example")[1].Delivery.Header[webhook.HeaderID] {
			t.Fatalf("log: %+v %v", msgs, err)
		}
		m, attempts, err := e.svc.Message(e.inst, std.Endpoint.ID, msgs[0].ID)
		if err != nil || m.Attempts != 1 || len(attempts) != 1 || attempts[0].StatusCode != 200 || attempts[0].Response != "ok" {
			t.Fatalf("message: %+v %+v %v", m, attempts, err)
		}
		_, _, err = e.svc.Message(e.inst, rb.Endpoint.ID, msgs[0].ID)
		code(t, err, verigate.ENOTFOUND) // another endpoint's message
		if n := e.work(t); n != 0 {
			t.Fatalf("delivered twice: %d", n)
		}
	})
}

// TestRotation: during the overlap every message carries both
// signatures; after it, the new one only.
func TestRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, delivery.Options{RotationOverlap: time.Hour})
		made := e.create(t, e.inst, delivery.EndpointInput{URL: "https://r.example"})
		rotated, err := e.svc.RotateSecret(e.inst, made.Endpoint.ID)
		if err != nil || rotated.Secret == made.Secret {
			t.Fatal(err)
		}
		oldKey, _ := webhook.ParseSecret(made.Secret)
		newKey, _ := webhook.ParseSecret(rotated.Secret)
		e.emit(t, "i1", verigate.EventVerificationCompleted, "1")
		e.work(t)
		e.clock.Advance(time.Hour)
		e.emit(t, "i1", verigate.EventVerificationCompleted, "2")
		e.work(t)
		got := e.sender.attempts()
		if len(got) != 2 {
			t.Fatalf("%d attempts", len(got))
		}
		for i, a := range got {
			h := http.Header{}
			for k, v := range a.Delivery.Header {
				h.Set(k, v)
			}
			sigs := strings.Fields(h.Get(webhook.HeaderSignature))
			oldOK := webhook.Verify(oldKey, h, a.Delivery.Body, a.At) == nil
			newOK := webhook.Verify(newKey, h, a.Delivery.Body, a.At) == nil
			if want := 2 - i; len(sigs) != want || !newOK || oldOK != (i == 0) {
				t.Fatalf("attempt %d: %d signatures (want %d), new verifies %v, old verifies %v", i, len(sigs), want, newOK, oldOK)
			}
		}
	})
}
