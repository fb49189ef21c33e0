package sqlstore_test

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

func standardBody(e verigate.Event, ep *verigate.WebhookEndpoint) ([]byte, error) {
	if ep.Flavour != verigate.FlavourStandard {
		return nil, nil
	}
	return e.WebhookBody(ep.IncludePII)
}

func endpoint(id, orgID string, mut ...func(*verigate.WebhookEndpoint)) *verigate.WebhookEndpoint {
	e := &verigate.WebhookEndpoint{ID: id, OrgID: orgID, Mode: verigate.ModeLive, URL: "https://hooks.example/" + id,
		Flavour: verigate.FlavourStandard, Enabled: true, CreatedAt: t0, UpdatedAt: t0}
	for _, m := range mut {
		m(e)
	}
	return e
}

func addEvent(t *testing.T, db *sqlstore.DB, orgID string, typ verigate.EventType, subject string) {
	t.Helper()
	if err := db.Exec(context.Background(), `INSERT INTO events (org_id, mode, type, subject, payload, created_at)
		VALUES ($1, 'live', $2, $3, '{}', $4)`, orgID, string(typ), subject, t0.UnixMilli()); err != nil {
		t.Fatal(err)
	}
}

// queued returns the event types an endpoint has messages for, oldest first.
func queued(t *testing.T, db *sqlstore.DB, endpointID string) []*verigate.WebhookMessage {
	t.Helper()
	ms, err := db.ListWebhookMessages(context.Background(), verigate.WebhookMessageFilter{EndpointID: endpointID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(ms)
	return ms
}

func seedWebhookOrgs(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	for _, o := range []*verigate.Organization{org("p1", "platform", verigate.OrgPlatform, ""),
		org("r1", "acme", verigate.OrgReseller, "p1"), org("i1", "acme-cu", verigate.OrgInstitution, "r1"),
		org("i2", "other-cu", verigate.OrgInstitution, "r1"), org("r2", "rival", verigate.OrgReseller, "p1")} {
		if err := db.CreateOrganization(ctx, o, ev("organization.create", o.ID)); err != nil {
			t.Fatal(err)
		}
	}
}

func createEndpoints(t *testing.T, db *sqlstore.DB, eps ...*verigate.WebhookEndpoint) {
	t.Helper()
	for _, e := range eps {
		if err := db.CreateWebhookEndpoint(context.Background(), e, verigate.WebhookKeys{Secret: []byte("sealed " + e.ID)},
			ev("webhook_endpoint.create", e.ID)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStoreWebhookEndpoints is the contract for endpoint CRUD.
func TestStoreWebhookEndpoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		seedWebhookOrgs(t, db)
		a := endpoint("ep-a", "i1", func(e *verigate.WebhookEndpoint) {
			e.EventTypes = []verigate.EventType{verigate.EventVerificationCompleted}
			e.Description, e.IncludePII, e.RateLimit, e.AuthScheme = "mine", true, 10, verigate.AuthBearer
		})
		keys := verigate.WebhookKeys{Secret: []byte{1, 2}, AuthToken: []byte{3}}
		if err := db.CreateWebhookEndpoint(ctx, a, keys, ev("webhook_endpoint.create", "ep-a")); err != nil {
			t.Fatal(err)
		}
		createEndpoints(t, db, endpoint("ep-b", "i1"), endpoint("ep-s", "i1", func(e *verigate.WebhookEndpoint) { e.SessionID = 7 }),
			endpoint("ep-c", "i2"))
		got, err := db.GetWebhookEndpoint(ctx, "ep-a")
		if err != nil || got.Description != "mine" || !got.IncludePII || got.RateLimit != 10 || got.AuthScheme != verigate.AuthBearer ||
			len(got.EventTypes) != 1 || !got.CreatedAt.Equal(t0) || !got.FailingSince.IsZero() {
			t.Fatalf("round trip: %+v %v", got, err)
		}
		k, err := db.WebhookEndpointKeys(ctx, "ep-a")
		if err != nil || string(k.Secret) != "\x01\x02" || string(k.AuthToken) != "\x03" || k.Previous != nil {
			t.Fatalf("keys: %+v %v", k, err)
		}
		list, err := db.ListWebhookEndpoints(ctx, verigate.WebhookEndpointFilter{OrgIDs: []string{"i1"}, Mode: verigate.ModeLive, Limit: 10})
		if err != nil || len(list) != 2 || list[0].ID != "ep-a" || list[1].ID != "ep-b" {
			t.Fatalf("list (the session's endpoint hidden): %v %v", list, err)
		}
		page, _ := db.ListWebhookEndpoints(ctx, verigate.WebhookEndpointFilter{OrgIDs: []string{"i1", "i2"}, Mode: verigate.ModeLive, After: "ep-a", Limit: 1})
		if len(page) != 1 || page[0].ID != "ep-b" {
			t.Fatalf("cursor page: %v", page)
		}
		got.URL, got.Enabled, got.DisabledReason, got.UpdatedAt = "https://new.example", false, "paused", t0.Add(time.Hour)
		rotated := verigate.WebhookKeys{Secret: []byte{9}, Previous: []byte{1, 2}, PreviousUntil: t0.Add(24 * time.Hour)}
		if err := db.UpdateWebhookEndpoint(ctx, got, &rotated, ev("webhook_endpoint.update", "ep-a")); err != nil {
			t.Fatal(err)
		}
		again, _ := db.GetWebhookEndpoint(ctx, "ep-a")
		k, _ = db.WebhookEndpointKeys(ctx, "ep-a")
		if again.URL != "https://new.example" || again.Enabled || again.DisabledReason != "paused" ||
			string(k.Previous) != "\x01\x02" || !k.PreviousUntil.Equal(t0.Add(24*time.Hour)) || k.AuthToken != nil {
			t.Fatalf("after update: %+v %+v", again, k)
		}
		code(t, db.UpdateWebhookEndpoint(ctx, endpoint("nope", "i1"), nil, ev("x", "nope")), verigate.ENOTFOUND)
		if err := db.DeleteWebhookEndpoint(ctx, "ep-a", ev("webhook_endpoint.delete", "ep-a")); err != nil {
			t.Fatal(err)
		}
		_, err = db.GetWebhookEndpoint(ctx, "ep-a")
		code(t, err, verigate.ENOTFOUND)
		code(t, db.DeleteWebhookEndpoint(ctx, "ep-a", ev("webhook_endpoint.delete", "ep-a")), verigate.ENOTFOUND)
		audit, _ := db.ListAuditEvents(ctx, verigate.AuditFilter{TargetID: "ep-a"})
		if len(audit) != 3 {
			t.Fatalf("audit events for ep-a: %d, want create, update, delete", len(audit))
		}
	})
}

// TestStoreWebhookDispatch: which endpoints an event reaches, in order.
func TestStoreWebhookDispatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		seedWebhookOrgs(t, db)
		createEndpoints(t, db,
			endpoint("reseller-all", "r1", func(e *verigate.WebhookEndpoint) { e.IncludeChildren = true }),
			endpoint("reseller-own", "r1"),
			endpoint("inst", "i1", func(e *verigate.WebhookEndpoint) {
				e.EventTypes = []verigate.EventType{verigate.EventVerificationCompleted}
			}),
			endpoint("inst-off", "i1", func(e *verigate.WebhookEndpoint) { e.Enabled = false }),
			endpoint("inst-test", "i1", func(e *verigate.WebhookEndpoint) { e.Mode = verigate.ModeTest }),
			endpoint("session", "i1", func(e *verigate.WebhookEndpoint) { e.SessionID = 42 }),
			endpoint("rival", "r2", func(e *verigate.WebhookEndpoint) { e.IncludeChildren = true }),
			endpoint("recon", "i1", func(e *verigate.WebhookEndpoint) { e.Flavour = verigate.FlavourReconbanker }),
		)
		addEvent(t, db, "i1", verigate.EventVerificationCreated, "42")
		addEvent(t, db, "i1", verigate.EventVerificationCompleted, "43")
		addEvent(t, db, "r1", verigate.EventConnectionConnected, "conn-1")
		addEvent(t, db, "i2", verigate.EventVerificationCompleted, "42")
		n, msgs, err := db.Dispatch(ctx, t0, 100, standardBody)
		if err != nil || n != 4 || msgs != 7 {
			t.Fatalf("dispatch: %d events, %d messages, %v", n, msgs, err)
		}
		want := map[string][]verigate.EventType{
			"reseller-all": {verigate.EventVerificationCreated, verigate.EventVerificationCompleted, verigate.EventConnectionConnected, verigate.EventVerificationCompleted},
			"reseller-own": {verigate.EventConnectionConnected},
			"inst":         {verigate.EventVerificationCompleted},
			"session":      {verigate.EventVerificationCreated},
		}
		var all []string
		for _, id := range []string{"reseller-all", "reseller-own", "inst", "inst-off", "inst-test", "session", "rival", "recon"} {
			var types []verigate.EventType
			for _, m := range queued(t, db, id) {
				types = append(types, m.EventType)
				all = append(all, m.ID)
				if m.Status != verigate.MessagePending || !m.NextAttemptAt.Equal(t0) || m.Trigger != verigate.TriggerScheduled {
					t.Fatalf("new message: %+v", m)
				}
			}
			if !slices.Equal(types, want[id]) {
				t.Errorf("%s got %v, want %v", id, types, want[id])
			}
		}
		// Ids grow in event order (per endpoint: listed newest first, reversed).
		ra := queued(t, db, "reseller-all")
		for i := 1; i < len(ra); i++ {
			if ra[i].ID <= ra[i-1].ID || ra[i].EventID <= ra[i-1].EventID {
				t.Fatalf("out of order: %s after %s", ra[i].ID, ra[i-1].ID)
			}
		}
		var body map[string]any
		if err := json.Unmarshal(ra[0].Body, &body); err != nil || body["type"] != "verification.created" {
			t.Fatalf("body: %s", ra[0].Body)
		}
		if n, _, _ := db.Dispatch(ctx, t0, 100, standardBody); n != 0 {
			t.Fatal("dispatched the same events twice")
		}
		// The limit: in id order, the rest on the next call.
		for range 3 {
			addEvent(t, db, "i1", verigate.EventVerificationCompleted, "1")
		}
		if n, _, _ := db.Dispatch(ctx, t0, 2, standardBody); n != 2 {
			t.Fatalf("limit 2 dispatched %d", n)
		}
		if n, _, _ := db.Dispatch(ctx, t0, 2, standardBody); n != 1 {
			t.Fatalf("the rest: %d", n)
		}
		if got := len(queued(t, db, "inst")); got != 4 {
			t.Fatalf("inst has %d messages, want 4", got)
		}
	})
}

// TestStoreWebhookDispatchLate (PostgreSQL): an event that commits after
// one with a higher id was dispatched is dispatched all the same, and one
// dispatcher runs at a time.
func TestStoreWebhookDispatchLate(t *testing.T) {
	db := storetest.Open(t, sqlstore.Postgres)
	ctx := context.Background()
	seedWebhookOrgs(t, db)
	createEndpoints(t, db, endpoint("inst", "i1"))
	slow, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback()
	if _, err := slow.Exec(`INSERT INTO events (org_id, mode, type, subject, payload, created_at)
		VALUES ('i1', 'live', 'verification.created', 'late', '{}', 1)`); err != nil {
		t.Fatal(err)
	}
	addEvent(t, db, "i1", verigate.EventVerificationCompleted, "early")
	if n, _, err := db.Dispatch(ctx, t0, 100, standardBody); err != nil || n != 1 {
		t.Fatalf("dispatch: %d %v", n, err)
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	if n, _, err := db.Dispatch(ctx, t0, 100, standardBody); err != nil || n != 1 {
		t.Fatalf("the late event: %d %v", n, err)
	}
	ms := queued(t, db, "inst")
	if len(ms) != 2 || ms[1].EventType != verigate.EventVerificationCreated {
		t.Fatalf("messages: %v", ms)
	}

	holder, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	if _, err := holder.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(current_schema(), $1))`, int64(0x7665726967617465)); err != nil {
		t.Fatal(err)
	}
	addEvent(t, db, "i1", verigate.EventVerificationCompleted, "x")
	if n, _, err := db.Dispatch(ctx, t0, 100, standardBody); err != nil || n != 0 {
		t.Fatalf("dispatched beside another dispatcher: %d %v", n, err)
	}
	holder.Rollback()
	if n, _, _ := db.Dispatch(ctx, t0, 100, standardBody); n != 1 {
		t.Fatalf("after the other dispatcher: %d", n)
	}
}

func TestMessageIDsOnlyGoUp(t *testing.T) {
	ids := sqlstore.MessageIDs("", t0, 1000)
	ids = append(ids, sqlstore.MessageIDs(ids[len(ids)-1], t0.Add(-time.Hour), 1000)...) // a clock gone back
	ids = append(ids, sqlstore.MessageIDs(ids[len(ids)-1], t0.Add(time.Millisecond), 10)...)
	ids = append(ids, sqlstore.MessageIDs("01900000-0000-7fff-bfff-ffffffffffff", time.UnixMilli(0x01900000), 2)...)
	if !sort.StringsAreSorted(ids[:2010]) {
		t.Fatal("ids do not only go up")
	}
	for i := 1; i < 2010; i++ {
		if ids[i] == ids[i-1] {
			t.Fatal("repeated id")
		}
	}
	if got := ids[2010]; got != "01900000-0001-7000-8000-000000000000" {
		t.Fatalf("counter overflow carries into the milliseconds: %s", got)
	}
	for _, id := range ids {
		if len(id) != 36 || id[14] != '7' || !strings.ContainsAny(id[19:20], "89ab") {
			t.Fatalf("not a UUIDv7: %s", id)
		}
	}
}
