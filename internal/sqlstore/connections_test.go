package sqlstore_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// TestStoreConnections is the contract for connections, assistance
// requests and connection events.
func TestStoreConnections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		c := seedConnection(t, db)
		due, err := db.DueConnections(ctx, t0, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due: %v %v", due, err)
		}
		lease := t0.Add(30 * time.Second)
		c.LeaseUntil = &lease
		if err := db.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c}); err != nil {
			t.Fatal(err)
		}
		if due, _ := db.DueConnections(ctx, t0.Add(time.Second), 10); len(due) != 0 {
			t.Fatal("a leased connection is due")
		}
		if due, _ := db.DueConnections(ctx, t0.Add(31*time.Second), 10); len(due) != 1 {
			t.Fatal("a connection whose lease ran out is not due")
		}
		stale := *c
		stale.Version--
		code(t, db.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: &stale}), verigate.ECONFLICT)

		r := &verigate.AssistanceRequest{ID: "req_1", ConnectionID: "c1", Type: "otp", Descriptor: verigate.Descriptor{Length: 6, Type: "numeric", Purpose: "login"},
			Status: verigate.AssistPending, CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
		c.Status, c.NextRunAt, c.LeaseUntil = verigate.ConnAwaiting, nil, nil
		stream := []verigate.ConnectionEvent{{ConnectionID: "c1", Type: "assistance_required", Data: json.RawMessage(`{"request_id":"req_1"}`), CreatedAt: t0}}
		if err := db.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c, NewRequest: r, Stream: stream}); err != nil {
			t.Fatal(err)
		}
		// At most one pending request per connection.
		r2 := *r
		r2.ID = "req_2"
		code(t, db.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c, NewRequest: &r2}), verigate.ECONFLICT)
		got, err := db.PendingRequest(ctx, "c1")
		if err != nil || got.ID != "req_1" || got.Descriptor.Purpose != "login" {
			t.Fatalf("pending: %+v %v", got, err)
		}
		if exp, _ := db.ExpiredRequests(ctx, t0.Add(6*time.Minute), 10); len(exp) != 1 {
			t.Fatal("expired request not found")
		}
		got.Status = verigate.AssistFulfilled
		c.Status = verigate.ConnConnected
		if err := db.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c, Request: got, NewRequest: &r2}); err != nil {
			t.Fatalf("fulfil one, open the next: %v", err)
		}
		evs, _ := db.ConnectionEvents(ctx, "c1", 0, 10)
		if len(evs) != 1 || evs[0].Type != "assistance_required" {
			t.Fatalf("events: %+v", evs)
		}
		if more, _ := db.ConnectionEvents(ctx, "c1", evs[0].ID, 10); len(more) != 0 {
			t.Fatal("events after the last")
		}
		list, _ := db.ListConnections(ctx, []string{"r1"}, verigate.ModeTest, nil, 10, 0)
		if len(list) != 1 || list[0].Status != verigate.ConnConnected || string(list[0].Credentials) != "\x01\x02" {
			t.Fatalf("list: %+v", list)
		}
		if only, _ := db.ListConnections(ctx, []string{"r1"}, verigate.ModeTest, []string{"nope"}, 10, 0); len(only) != 0 {
			t.Fatal("a restricted list shows others")
		}
		if live, _ := db.ListConnections(ctx, []string{"r1"}, verigate.ModeLive, nil, 10, 0); len(live) != 0 {
			t.Fatal("a test connection listed as live")
		}
		if orgs, err := db.ConnectionOrgs(ctx, []string{"c1", "nope", "r1"}); err != nil || len(orgs) != 1 || orgs["c1"] != "r1" {
			t.Fatalf("ConnectionOrgs = %v, %v", orgs, err)
		}
	})
}

// TestStoreConnectionStatus is the contract for ConnectionStatus: the
// connection and only its pending request, read in one query.
func TestStoreConnectionStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		c := seedConnection(t, db)
		status := func(wantRequest string) {
			t.Helper()
			qctx, n := sqlstore.CountQueries(ctx)
			got, r, err := db.ConnectionStatus(qctx, "c1")
			// Identity, reach and state; never the sealed credentials.
			if err != nil || got.ID != "c1" || got.OrgID != c.OrgID || got.Mode != c.Mode || got.Status != c.Status ||
				got.FailureReason != c.FailureReason || got.SessionID != c.SessionID || len(got.Credentials) != 0 {
				t.Fatalf("ConnectionStatus = %+v, %v", got, err)
			}
			if *n != 1 {
				t.Fatalf("ConnectionStatus ran %d queries, want 1", *n)
			}
			if wantRequest == "" {
				if r != nil {
					t.Fatalf("a request without one pending: %+v", r)
				}
				return
			}
			want, err := db.PendingRequest(ctx, "c1")
			if want != nil {
				want.Code = nil // a submitted code is sealed and not a status's business
			}
			if err != nil || r == nil || !reflect.DeepEqual(r, want) || r.ID != wantRequest {
				t.Fatalf("request = %+v, want %+v (%v)", r, want, err)
			}
		}
		status("")
		if _, _, err := db.ConnectionStatus(ctx, "nope"); verigate.ErrorCode(err) != verigate.ENOTFOUND {
			t.Fatalf("missing connection: %v", err)
		}

		r := &verigate.AssistanceRequest{ID: "req_1", ConnectionID: "c1", Type: "otp", Descriptor: verigate.Descriptor{Length: 6, Type: "numeric", Purpose: "login"},
			Attempts: 1, Status: verigate.AssistPending, Code: []byte{9}, CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
		c.Status, c.NextRunAt = verigate.ConnAwaiting, nil
		if err := db.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c, NewRequest: r}); err != nil {
			t.Fatal(err)
		}
		status("req_1")
		// A resolved request is not the pending one; the next is.
		done := t0.Add(time.Minute)
		r.Status, r.ResolvedAt = verigate.AssistFulfilled, &done
		r2 := &verigate.AssistanceRequest{ID: "req_2", ConnectionID: "c1", Type: "otp", Descriptor: verigate.Descriptor{Length: 8, Type: "alphanumeric"},
			Status: verigate.AssistPending, CreatedAt: done, ExpiresAt: done.Add(5 * time.Minute)}
		if err := db.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c, Request: r}); err != nil {
			t.Fatal(err)
		}
		status("")
		if err := db.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c, NewRequest: r2}); err != nil {
			t.Fatal(err)
		}
		status("req_2")
	})
}

// seedConnection stores reseller r1 (under platform p1), the Sandbox Bank
// source and a queued test-mode connection c1 of r1.
func seedConnection(t *testing.T, db *sqlstore.DB) *verigate.Connection {
	t.Helper()
	ctx := context.Background()
	for _, o := range []*verigate.Organization{org("p1", "platform", verigate.OrgPlatform, ""), org("r1", "acme", verigate.OrgReseller, "p1")} {
		db.CreateOrganization(ctx, o, ev("organization.create", o.ID))
	}
	db.UpsertVerificationTypes(ctx, []verigate.VerificationType{{ID: 4, Name: "Bank", Description: "d"}})
	db.UpsertSources(ctx, []*verigate.DataSource{{ID: 18, SourceName: "Sandbox Bank", Name: "Sandbox Bank", Kind: "connector",
		VerificationTypeID: 4, CreatedAt: t0, UpdatedAt: t0}}, nil)
	c := &verigate.Connection{ID: "c1", OrgID: "r1", UserID: "u", APIKeyID: "k", Mode: verigate.ModeTest, SourceID: 18,
		Credentials: []byte{1, 2}, Status: verigate.ConnQueued, NextRunAt: &t0, CreatedAt: t0, UpdatedAt: t0}
	if err := db.CreateConnection(ctx, c, verigate.ConnectionChange{Connection: c}); err != nil {
		t.Fatal(err)
	}
	return c
}
