package delivery_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// TestEvents: the event stream lists the principal's organization and the
// descendants in its reach, in its mode, by id after a cursor, filtered
// by type; it needs events.read, and checks its input.
func TestEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, delivery.Options{})
		reader := func(ctx context.Context) context.Context {
			p := *verigate.PrincipalFrom(ctx)
			p.Permissions = append(p.Permissions, "events.read")
			return verigate.WithPrincipal(context.Background(), &p)
		}
		admin, inst, rival := reader(e.admin), reader(e.inst), reader(e.rival)
		e.emit(t, "r1", verigate.EventVerificationCreated, "s1")
		e.emit(t, "i1", verigate.EventStepUpdated, "s2")
		e.emit(t, "r2", verigate.EventVerificationCreated, "s3") // another tenant's
		e.emit(t, "i2", verigate.EventVerificationCompleted, "s4")
		for name, p := range db.Pools() { // a test-mode event of r1's: not the live principal's
			if name != "read" {
				if _, err := p.Exec(`INSERT INTO events (org_id, mode, type, subject, payload, created_at) VALUES ('r1', 'test', 'verification.created', 's5', '{}', $1)`, t0.UnixMilli()); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
		subjects := func(evs []verigate.Event) string {
			var out []string
			for _, ev := range evs {
				out = append(out, ev.Subject)
			}
			return fmt.Sprint(out)
		}
		all, err := e.svc.Events(admin, delivery.EventFilter{Limit: 100})
		if err != nil || subjects(all) != "[s1 s2 s4]" {
			t.Fatalf("the reseller's stream = %s, %v", subjects(all), err)
		}
		page, _ := e.svc.Events(admin, delivery.EventFilter{Limit: 2})
		next, _ := e.svc.Events(admin, delivery.EventFilter{Limit: 2, After: page[1].ID})
		if subjects(page) != "[s1 s2]" || subjects(next) != "[s4]" {
			t.Fatalf("pages = %s then %s", subjects(page), subjects(next))
		}
		if got, _ := e.svc.Events(admin, delivery.EventFilter{Limit: 100, Type: verigate.EventStepUpdated}); subjects(got) != "[s2]" {
			t.Fatalf("by type = %s", subjects(got))
		}
		if got, _ := e.svc.Events(inst, delivery.EventFilter{Limit: 100}); subjects(got) != "[s2]" {
			t.Fatalf("the institution's stream = %s", subjects(got))
		}
		if got, _ := e.svc.Events(rival, delivery.EventFilter{Limit: 100}); subjects(got) != "[s3]" {
			t.Fatalf("the rival's stream = %s", subjects(got))
		}
		if got, err := e.svc.Events(rival, delivery.EventFilter{Limit: 100, After: all[len(all)-1].ID}); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("past the end = %v, %v (want an empty list)", got, err)
		}

		_, err = e.svc.Events(e.admin, delivery.EventFilter{Limit: 10}) // without events.read
		code(t, err, verigate.EFORBIDDEN)
		for f, in := range map[string]delivery.EventFilter{"limit": {Limit: 0}, "after": {Limit: 10, After: -1},
			"type": {Limit: 10, Type: "step.nope"}} {
			_, err := e.svc.Events(admin, in)
			field(t, err, f)
		}
		if _, err := e.svc.Events(admin, delivery.EventFilter{Limit: 101}); verigate.ErrorCode(err) != verigate.EINVALID {
			t.Fatalf("limit 101: %v", err)
		}
	})
}
