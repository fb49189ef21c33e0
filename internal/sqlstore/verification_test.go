package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// TestStoreVerification is the contract for sessions, steps, proofs,
// CSRF tokens, idempotency keys, the catalog and the outbox.
func TestStoreVerification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		for _, o := range []*verigate.Organization{org("p1", "platform", verigate.OrgPlatform, ""), org("r1", "acme", verigate.OrgReseller, "p1")} {
			if err := db.CreateOrganization(ctx, o, ev("organization.create", o.ID)); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.UpsertVerificationTypes(ctx, []verigate.VerificationType{{ID: 1, Name: "Income", Description: "d"}}); err != nil {
			t.Fatal(err)
		}
		src := &verigate.DataSource{ID: 7, SourceName: "PayPal", Name: "PayPal", Kind: "reclaim", ProviderID: "p", VerificationTypeID: 1,
			LoginFlow: []verigate.LoginStep{{Step: 1, Action: "login", Description: "Login"}}, Builtin: true, CreatedAt: t0, UpdatedAt: t0}
		imported := &verigate.DataSource{SourceName: "Acme Pay", Name: "Acme Pay", Kind: "reclaim", ProviderID: "q", VerificationTypeID: 1, CreatedAt: t0, UpdatedAt: t0}
		if err := db.UpsertSources(ctx, []*verigate.DataSource{src, imported}, nil); err != nil {
			t.Fatal(err)
		}
		if imported.ID != sqlstore.FirstImportedSourceID {
			t.Fatalf("imported source id = %d", imported.ID)
		}
		src.Name = "PayPal (renamed)"
		db.UpsertSources(ctx, []*verigate.DataSource{src}, nil)
		all, _ := db.ListSources(ctx)
		if len(all) != 2 || all[0].Name != "PayPal (renamed)" || all[0].LoginFlow[0].Action != "login" {
			t.Fatalf("sources: %+v", all)
		}
		if err := db.SetSourceEnabled(ctx, "r1", 7, false, ev("sources.set_enabled", "7")); err != nil {
			t.Fatal(err)
		}
		settings, _ := db.SourceSettings(ctx, []string{"r1", "p1"})
		if on, ok := settings["r1"][7]; !ok || on {
			t.Fatalf("settings: %v", settings)
		}

		s := &verigate.Session{OrgID: "r1", Mode: verigate.ModeTest, Status: verigate.SessionPending, ExpiryDate: t0.Add(time.Hour),
			Metadata: json.RawMessage(`{"a":1}`), AllowedSources: []int64{7}, LinkHash: []byte("link"), CreatedBy: "k",
			CreatedAt: t0, UpdatedAt: t0}
		events := []verigate.OutboxEvent{verigate.NewVerificationCreated(s, t0)}
		if err := db.CreateSession(ctx, s, nil, []verigate.AuditEvent{ev("verification.create", "")}, events); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetSessionByLinkHash(ctx, []byte("link"))
		if err != nil || got.ID != s.ID || string(got.Metadata) != `{"a":1}` || got.TeamID == 0 || got.AllowedSources[0] != 7 {
			t.Fatalf("session: %+v %v", got, err)
		}
		step := &verigate.Step{DataSourceID: 7, Type: "reclaim", Status: verigate.StepPending, Nonce: "n", CreatedAt: t0, UpdatedAt: t0}
		got.Status = verigate.SessionProcessing
		if err := db.ApplySessionChange(ctx, verigate.SessionChange{Session: got, NewSteps: []*verigate.Step{step}}); err != nil {
			t.Fatal(err)
		}
		// A change made on a stale read is refused whole.
		stale := *s
		stale.Status = verigate.SessionExpired
		code(t, db.ApplySessionChange(ctx, verigate.SessionChange{Session: &stale, Events: events}), verigate.ECONFLICT)
		if cur, _ := db.GetSession(ctx, s.ID); cur.Status != verigate.SessionProcessing {
			t.Fatalf("stale change applied: %s", cur.Status)
		}
		step.Status = verigate.StepVerified
		proof := verigate.ProofRecord{Identifier: "0xabc", StepID: step.ID, Signer: "0x1", CreatedAt: t0}
		if err := db.ApplySessionChange(ctx, verigate.SessionChange{Session: got,
			Steps: []verigate.StepUpdate{{Step: step, FromStatus: verigate.StepPending}}, Proofs: []verigate.ProofRecord{proof}}); err != nil {
			t.Fatal(err)
		}
		if used, _ := db.ProofUsed(ctx, "0xabc"); !used {
			t.Fatal("proof not recorded")
		}
		code(t, db.ApplySessionChange(ctx, verigate.SessionChange{Session: got, Proofs: []verigate.ProofRecord{proof}}), verigate.ECONFLICT)
		steps, _ := db.ListSteps(ctx, s.ID)
		if len(steps) != 1 || steps[0].Status != verigate.StepVerified {
			t.Fatalf("steps: %+v", steps)
		}
		list, total, err := db.ListSessions(ctx, verigate.SessionFilter{OrgIDs: []string{"r1"}, Mode: verigate.ModeTest, Limit: 10, SortBy: "status", SortOrder: "asc"})
		if err != nil || total != 1 || len(list) != 1 {
			t.Fatalf("ListSessions = %d, %v", total, err)
		}
		if _, n, _ := db.ListSessions(ctx, verigate.SessionFilter{OrgIDs: []string{"r1"}, Mode: verigate.ModeLive, Limit: 10}); n != 0 {
			t.Fatal("a test session listed as live")
		}
		if due, _ := db.DueSessions(ctx, t0.Add(2*time.Hour), s.ID, 10); len(due) != 0 {
			t.Fatalf("due after its own id: %v", due)
		}
		if due, _ := db.DueSessions(ctx, t0.Add(2*time.Hour), 0, 10); len(due) != 1 || due[0] != s.ID {
			t.Fatalf("due: %v", due)
		}

		if err := db.CreateCSRFToken(ctx, []byte("csrf"), s.ID, []byte("link"), t0, t0.Add(15*time.Minute)); err != nil {
			t.Fatal(err)
		}
		code(t, db.CreateCSRFToken(ctx, []byte("csrf2"), s.ID, []byte("old link"), t0, t0.Add(15*time.Minute)), verigate.ENOTFOUND)
		if sid, exp, err := db.GetCSRFToken(ctx, []byte("csrf")); err != nil || sid != s.ID || !exp.Equal(t0.Add(15*time.Minute)) {
			t.Fatalf("csrf: %d %v %v", sid, exp, err)
		}
		rec, err := db.ClaimIdempotencyKey(ctx, "k", "key-1", []byte("h"), t0, t0.Add(-24*time.Hour))
		if err != nil || rec != nil {
			t.Fatalf("first claim: %+v %v", rec, err)
		}
		rec, _ = db.ClaimIdempotencyKey(ctx, "k", "key-1", []byte("h"), t0, t0.Add(-24*time.Hour))
		if rec == nil || rec.Status != 0 {
			t.Fatalf("second claim while running: %+v", rec)
		}
		db.FinishIdempotencyKey(ctx, "k", "key-1", 201, []byte(`{"ok":true}`))
		rec, _ = db.ClaimIdempotencyKey(ctx, "k", "key-1", []byte("h"), t0, t0.Add(-24*time.Hour))
		if rec == nil || rec.Status != 201 || rec.Body != `{"ok":true}` {
			t.Fatalf("claim after finish: %+v", rec)
		}
		if rec, _ := db.ClaimIdempotencyKey(ctx, "k", "key-1", []byte("h"), t0.Add(25*time.Hour), t0.Add(time.Hour)); rec != nil {
			t.Fatalf("a key older than a day still counts: %+v", rec)
		}
		if err := db.PurgeExpired(ctx, t0.Add(time.Hour), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.GetCSRFToken(ctx, []byte("csrf")); verigate.ErrorCode(err) != verigate.ENOTFOUND {
			t.Fatalf("expired csrf not purged: %v", err)
		}
		// A renewed link is remembered until RetiredLinkKeep after its
		// session's expiry.
		for name, p := range db.Pools() {
			if name == "read" {
				continue
			}
			if _, err := p.Exec(`UPDATE verification_sessions SET link_hash = $1 WHERE id = $2`, []byte("new link"), s.ID); err != nil {
				t.Fatal(err)
			}
			break
		}
		for _, c := range []struct {
			at   time.Time
			kept bool
		}{{s.ExpiryDate.Add(sqlstore.RetiredLinkKeep - time.Hour), true}, {s.ExpiryDate.Add(sqlstore.RetiredLinkKeep + time.Hour), false}} {
			if err := db.PurgeExpired(ctx, c.at, t0); err != nil {
				t.Fatal(err)
			}
			if id, err := db.RetiredLink(ctx, []byte("link")); (err == nil && id == s.ID) != c.kept {
				t.Fatalf("purge at %v: retired link %d %v, want kept %v", c.at, id, err, c.kept)
			}
		}
		// The event about the new session names it, though it was made
		// before the session had an id.
		evs, _ := db.ListEvents(ctx, "r1", 0, 10)
		want := fmt.Sprintf(`{"sessionId":%d,"status":"PENDING","applicantId":"","pii":{"metadata":{"a":1}}}`, s.ID)
		if len(evs) != 1 || evs[0].Type != verigate.EventVerificationCreated || evs[0].Subject != fmt.Sprint(s.ID) || string(evs[0].Payload) != want {
			t.Fatalf("outbox: %+v", evs)
		}
		if all, err := db.OutboxAfter(ctx, 0, 10); err != nil || len(all) != 1 || all[0].ID != evs[0].ID {
			t.Fatalf("OutboxAfter = %+v, %v", all, err)
		}
	})
}
