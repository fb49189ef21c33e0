package delivery_test

import (
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

// verifies reports whether an attempt carries a signature key checks.
func verifies(key []byte, a sent) bool {
	h := http.Header{}
	for k, v := range a.Delivery.Header {
		h.Set(k, v)
	}
	return webhook.Verify(key, h, a.Delivery.Body, a.At) == nil
}

// TestSessionEndpoint: a verification's own webhookUrl receives that
// session's events only, signed with its organization's verification
// secret (made with the first such endpoint, shown by a rotation, the
// old one still signing for the overlap); it is never listed and changes
// only with its verification.
func TestSessionEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, delivery.Options{RotationOverlap: time.Hour})
		_, err := e.svc.VerificationSecret(e.inst, "")
		code(t, err, verigate.ENOTFOUND)

		_, err = e.svc.SessionEndpoint(e.inst, "i1", verigate.ModeLive, "https://private.example/hook")
		field(t, err, "url")
		_, err = e.svc.SessionEndpoint(e.inst, "i1", verigate.ModeLive, "http://plain.example/hook")
		field(t, err, "url") // live mode needs https
		ep, err := e.svc.SessionEndpoint(e.inst, "i1", verigate.ModeLive, "https://session.example/hook")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.CreateSessionEndpoint(e.inst, ep, 7); err != nil {
			t.Fatal(err)
		}
		made, err := e.svc.VerificationSecret(e.inst, "")
		if err != nil || made.OrgID != "i1" || !made.CreatedAt.Equal(t0) || !made.Keys.PreviousUntil.IsZero() || made.Keys.Secret != nil {
			t.Fatalf("secret after the first session endpoint: %+v %v", made, err)
		}
		// A second endpoint keeps the organization's secret.
		ep2, _ := e.svc.SessionEndpoint(e.inst, "i1", verigate.ModeLive, "https://session.example/other")
		if err := e.svc.CreateSessionEndpoint(e.inst, ep2, 8); err != nil {
			t.Fatal(err)
		}
		std := e.create(t, e.inst, delivery.EndpointInput{URL: "https://std.example"})
		if list, _ := e.svc.List(e.inst, "", 100); len(list) != 1 || list[0].ID != std.Endpoint.ID {
			t.Fatalf("listing shows session endpoints: %+v", list)
		}

		// The secret is shown by a rotation; the one made with the
		// endpoint (never shown) still signs for the overlap.
		rotated, secret, err := e.svc.RotateVerificationSecret(e.inst, "")
		if err != nil || !strings.HasPrefix(secret, "whsec_") || !rotated.Keys.PreviousUntil.Equal(t0.Add(time.Hour)) {
			t.Fatalf("rotate: %+v %q %v", rotated, secret, err)
		}
		key, _ := webhook.ParseSecret(secret)
		e.emit(t, "i1", verigate.EventVerificationCompleted, "7")
		e.emit(t, "i1", verigate.EventVerificationCompleted, "9")
		e.emit(t, "i2", verigate.EventVerificationCompleted, "7") // another organization's session 7
		e.work(t)
		got := e.sender.to("https://session.example/hook")
		if len(got) != 1 || !strings.Contains(string(got[0].Delivery.Body), `"subject":"7"`) {
			t.Fatalf("session endpoint got %d messages: %v", len(got), got)
		}
		if sigs := strings.Fields(got[0].Delivery.Header[webhook.HeaderSignature]); len(sigs) != 2 || !verifies(key, got[0]) {
			t.Fatalf("during the overlap: %d signatures, verifies with the rotated secret: %v", len(sigs), verifies(key, got[0]))
		}
		if n := len(e.sender.to("https://session.example/other")); n != 0 {
			t.Fatalf("session 8's endpoint got %d messages", n)
		}
		if stdKey, _ := webhook.ParseSecret(std.Secret); verifies(stdKey, got[0]) {
			t.Fatal("signed with an endpoint secret")
		}

		e.clock.Advance(time.Hour)
		e.emit(t, "i1", verigate.EventStepUpdated, "7")
		e.work(t)
		got = e.sender.to("https://session.example/hook")
		if len(got) != 2 || len(strings.Fields(got[1].Delivery.Header[webhook.HeaderSignature])) != 1 || !verifies(key, got[1]) {
			t.Fatalf("after the overlap: %d messages %v", len(got), got)
		}

		// The endpoint follows its verification: readable, not changed
		// on its own.
		if _, err := e.svc.Get(e.inst, ep.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.RotateSecret(e.inst, ep.ID)
		code(t, err, verigate.ECONFLICT)
		off := false
		_, err = e.svc.Update(e.inst, ep.ID, delivery.EndpointUpdate{Enabled: &off})
		code(t, err, verigate.ECONFLICT)
		code(t, e.svc.Delete(e.inst, ep.ID), verigate.ECONFLICT)

		// Another tenant reaches neither the secret nor the endpoint.
		_, _, err = e.svc.RotateVerificationSecret(e.rival, "i1")
		field(t, err, "organization")
		_, err = e.svc.VerificationSecret(e.rival, "i1")
		field(t, err, "organization")
		_, err = e.svc.Get(e.rival, ep.ID)
		code(t, err, verigate.ENOTFOUND)
		// The reseller reaches its institution's secret.
		if sec, err := e.svc.VerificationSecret(e.admin, "i1"); err != nil || sec.OrgID != "i1" {
			t.Fatalf("reseller: %+v %v", sec, err)
		}
	})
}
