package delivery_test

import (
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
	"github.com/verigate/verigate/internal/webhook"
)

// TestLog: the delivery log pairs each message with its latest attempt,
// and answers another tenant's endpoint as a missing one.
func TestLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, delivery.Options{})
		ep := e.create(t, e.admin, delivery.EndpointInput{OrgID: "r1"})
		if _, err := e.svc.SendTest(e.admin, ep.Endpoint.ID, ""); err != nil {
			t.Fatal(err)
		}
		log, err := e.svc.Log(e.admin, ep.Endpoint.ID, delivery.MessageFilter{Limit: 10})
		if err != nil || len(log) != 1 || log[0].Last != nil {
			t.Fatalf("before sending: %+v %v", log, err)
		}
		e.sender.respond = func(webhook.Delivery) webhook.Result { return webhook.Result{Status: 500, Body: "no"} }
		e.work(t)
		e.sender.respond = nil
		m := log[0].Message
		e.clock.Advance(1e12)
		e.work(t)
		log, err = e.svc.Log(e.admin, ep.Endpoint.ID, delivery.MessageFilter{Limit: 10})
		if err != nil || len(log) != 1 || log[0].Message.ID != m.ID || log[0].Last == nil || log[0].Last.StatusCode != 200 || log[0].Last.N != 2 {
			t.Fatalf("after two attempts: %+v %v", log, err)
		}
		_, err = e.svc.Log(e.rival, ep.Endpoint.ID, delivery.MessageFilter{Limit: 10})
		code(t, err, verigate.ENOTFOUND)
	})
}
