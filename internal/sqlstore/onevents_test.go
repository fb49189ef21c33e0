package sqlstore_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// TestOnEvents: the hook runs once per committed write that wrote events
// (on SQLite, concurrent writes share a group commit), and never for a
// write without events or one that failed.
func TestOnEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		seedWebhookOrgs(t, db)
		var calls atomic.Int64
		db.OnEvents(func() { calls.Add(1) })
		session := func(link string) *verigate.Session {
			return &verigate.Session{OrgID: "r1", Mode: verigate.ModeTest, Status: verigate.SessionPending, ExpiryDate: t0.Add(time.Hour),
				Metadata: json.RawMessage(`{}`), LinkHash: []byte(link), CreatedBy: "k", CreatedAt: t0, UpdatedAt: t0}
		}
		create := func(s *verigate.Session, events bool) error {
			var out []verigate.OutboxEvent
			if events {
				out = []verigate.OutboxEvent{verigate.NewVerificationCreated(s, t0)}
			}
			return db.CreateSession(ctx, s, nil, []verigate.AuditEvent{ev("verification.create", "")}, out)
		}
		if err := create(session("quiet"), false); err != nil {
			t.Fatal(err)
		}
		if n := calls.Load(); n != 0 {
			t.Fatalf("a write without events called the hook %d times", n)
		}
		if err := create(session("loud"), true); err != nil {
			t.Fatal(err)
		}
		if n := calls.Load(); n != 1 {
			t.Fatalf("a write with events called the hook %d times, want 1", n)
		}
		// The same link hash again: the insert fails, nothing commits.
		if err := create(session("loud"), true); err == nil {
			t.Fatal("a duplicate link hash was accepted")
		}
		if n := calls.Load(); n != 1 {
			t.Fatalf("a failed write called the hook (%d calls)", n)
		}
		// Concurrent writes, with and without events, grouped on SQLite.
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := create(session("c"+string(rune('A'+i))), i%2 == 0); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := calls.Load(); n != 21 {
			t.Fatalf("the hook ran %d times for 21 writes with events", n)
		}
	})
}
