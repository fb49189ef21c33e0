package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// TestStoreReseller is the contract for SSO and login tokens, calls and
// members, on every engine.
func TestStoreReseller(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		for _, o := range []*verigate.Organization{org("p1", "platform", verigate.OrgPlatform, ""),
			org("r1", "acme", verigate.OrgReseller, "p1"), org("i1", "acme-cu", verigate.OrgInstitution, "r1"),
			org("i2", "other-cu", verigate.OrgInstitution, "r1")} {
			if err := db.CreateOrganization(ctx, o, ev("organization.create", o.ID)); err != nil {
				t.Fatal(err)
			}
		}
		// Within: an organization and its descendants, by key.
		for within, want := range map[string][]string{"p1": {"acme", "acme-cu", "other-cu", "platform"}, "r1": {"acme", "acme-cu", "other-cu"}, "i1": {"acme-cu"}} {
			got, err := db.ListOrganizations(ctx, verigate.OrgFilter{Within: within})
			var keys []string
			for _, o := range got {
				keys = append(keys, o.Key)
			}
			if err != nil || strings.Join(keys, ",") != strings.Join(want, ",") {
				t.Errorf("within %s: %v %v", within, keys, err)
			}
		}
		u := &verigate.User{ID: "u1", OrgID: "r1", Email: "svc@acme.test", Username: "svc", PasswordHash: "x",
			Status: verigate.StatusActive, CreatedAt: t0, UpdatedAt: t0}
		if err := db.CreateUser(ctx, u, ev("user.create", "u1")); err != nil {
			t.Fatal(err)
		}

		t.Run("sso tokens slide forward only, once a minute", func(t *testing.T) {
			tok := &verigate.SSOToken{ID: "s1", Hash: []byte("h1"), UserID: "u1", OrgID: "r1", CreatedAt: t0, LastUsedAt: t0,
				ExpiresAt: t0.Add(30 * time.Minute), AbsoluteExpiresAt: t0.Add(12 * time.Hour)}
			if err := db.CreateSSOToken(ctx, tok, ev("sso_token.issue", "s1")); err != nil {
				t.Fatal(err)
			}
			db.SlideSSOToken(ctx, "s1", t0.Add(30*time.Second), t0.Add(30*time.Minute+30*time.Second)) // too soon
			got, _ := db.GetSSOTokenByHash(ctx, []byte("h1"))
			if !got.ExpiresAt.Equal(t0.Add(30 * time.Minute)) {
				t.Fatalf("slid within a minute: %v", got.ExpiresAt)
			}
			db.SlideSSOToken(ctx, "s1", t0.Add(10*time.Minute), t0.Add(40*time.Minute))
			got, _ = db.GetSSOTokenByHash(ctx, []byte("h1"))
			if !got.ExpiresAt.Equal(t0.Add(40*time.Minute)) || !got.LastUsedAt.Equal(t0.Add(10*time.Minute)) {
				t.Fatalf("after slide: %+v", got)
			}
			if err := db.RevokeSSOToken(ctx, "s1", ev("sso_token.revoke", "s1")); err != nil {
				t.Fatal(err)
			}
			db.SlideSSOToken(ctx, "s1", t0.Add(20*time.Minute), t0.Add(50*time.Minute))
			got, _ = db.GetSSOTokenByHash(ctx, []byte("h1"))
			if got.RevokedAt == nil || !got.ExpiresAt.Equal(t0.Add(40*time.Minute)) {
				t.Fatalf("a revoked token slid: %+v", got)
			}
		})

		t.Run("login tokens redeem once", func(t *testing.T) {
			lt := &verigate.LoginToken{ID: "l1", Hash: []byte("lh"), OrgID: "i1", IssuedBy: "u1", RequestedBy: "jdoe",
				CreatedAt: t0, ExpiresAt: t0.Add(30 * time.Minute)}
			if err := db.CreateLoginToken(ctx, lt, ev("login_token.issue", "l1")); err != nil {
				t.Fatal(err)
			}
			got, err := db.RedeemLoginToken(ctx, []byte("lh"), t0.Add(time.Minute), ev("login_token.redeem", ""))
			if err != nil || got.RequestedBy != "jdoe" || got.OrgID != "i1" {
				t.Fatalf("first redemption: %+v %v", got, err)
			}
			_, err = db.RedeemLoginToken(ctx, []byte("lh"), t0.Add(2*time.Minute), ev("login_token.redeem", ""))
			code(t, err, verigate.ENOTFOUND)
			lt2 := &verigate.LoginToken{ID: "l2", Hash: []byte("lh2"), OrgID: "i1", IssuedBy: "u1", RequestedBy: "jdoe",
				CreatedAt: t0, ExpiresAt: t0.Add(30 * time.Minute)}
			db.CreateLoginToken(ctx, lt2, ev("login_token.issue", "l2"))
			_, err = db.RedeemLoginToken(ctx, []byte("lh2"), t0.Add(30*time.Minute), ev("login_token.redeem", ""))
			code(t, err, verigate.ENOTFOUND)
		})

		t.Run("calls", func(t *testing.T) {
			call := func(id, inst, phone, name string, at time.Time) *verigate.PhoneCall {
				return &verigate.PhoneCall{VoiceID: id, InstitutionID: inst, Provider: "sandbox", ProviderCallID: "p-" + id,
					PhoneNumber: phone, CallerName: name, ReceivedAt: at, Status: verigate.CallQueued,
					Risk: verigate.Risk{Score: 10, Level: "low"}, CreatedAt: at, UpdatedAt: at,
					Events: []verigate.CallEvent{{Type: "call.queued", At: at}}}
			}
			c1 := call("v1", "i1", "+15550001", "Jane 100% Roe", t0)
			c2 := call("v2", "i1", "+15550002", "JOSÉ Poe", t0.Add(time.Minute))
			c3 := call("v3", "i2", "+15550001", "Other", t0)
			for _, c := range []*verigate.PhoneCall{c1, c2, c3} {
				if err := db.CreateCall(ctx, c, ev("call.received", c.VoiceID), nil); err != nil {
					t.Fatal(err)
				}
			}
			dup := call("v9", "i1", "+1", "x", t0)
			dup.ProviderCallID = "p-v1"
			code(t, db.CreateCall(ctx, dup, ev("call.received", "v9"), nil), verigate.ECONFLICT)
			_, err := db.GetCall(ctx, "i2", "v1")
			code(t, err, verigate.ENOTFOUND)
			list, total, err := db.ListCalls(ctx, verigate.CallFilter{InstitutionID: "i1", Statuses: []verigate.CallStatus{verigate.CallQueued}, Limit: 10})
			if err != nil || total != 2 || len(list) != 2 || list[0].VoiceID != "v1" || len(list[0].Events) != 1 {
				t.Fatalf("ListCalls = %v, %d, %v", list, total, err)
			}
			for search, want := range map[string]int{"100%": 1, "POE": 1, "josé": 1, "5550001": 1, "_": 0, "nobody": 0} {
				_, n, err := db.ListCalls(ctx, verigate.CallFilter{InstitutionID: "i1", Search: search, Limit: 10})
				if err != nil || n != want {
					t.Errorf("search %q: %d, %v; want %d", search, n, err, want)
				}
			}
			// Rows folded by SQL LOWER (ASCII only) before 00007 are
			// refolded from Go by it.
			c4 := call("v4", "i1", "+15550004", "ÉMILE Ünal", t0)
			if err := db.CreateCall(ctx, c4, ev("call.received", "v4"), nil); err != nil {
				t.Fatal(err)
			}
			if err := db.Exec(ctx, `UPDATE phone_calls SET search_text = '+15550004 Émile Ünal' WHERE voice_id = 'v4'`); err != nil {
				t.Fatal(err)
			}
			if _, n, _ := db.ListCalls(ctx, verigate.CallFilter{InstitutionID: "i1", Search: "émile ü", Limit: 10}); n != 0 {
				t.Fatal("the ASCII-folded row already matches")
			}
			if err := db.RedoMigration(ctx, 7); err != nil {
				t.Fatal(err)
			}
			if _, n, _ := db.ListCalls(ctx, verigate.CallFilter{InstitutionID: "i1", Search: "émile ü", Limit: 10}); n != 1 {
				t.Fatalf("after refolding, %d calls match", n)
			}
			from := t0.Add(30 * time.Second)
			if _, n, _ := db.ListCalls(ctx, verigate.CallFilter{InstitutionID: "i1", From: &from, Limit: 10}); n != 1 {
				t.Errorf("from filter: %d", n)
			}
			byPhone, err := db.FindCallByPhone(ctx, "i1", "+15550001")
			if err != nil || byPhone.VoiceID != "v1" {
				t.Fatalf("FindCallByPhone = %v, %v", byPhone, err)
			}
			got, err := db.GetCallByProviderID(ctx, "i1", "sandbox", "p-v2")
			if err != nil || got.VoiceID != "v2" {
				t.Fatalf("GetCallByProviderID = %v, %v", got, err)
			}

			at := t0.Add(time.Hour)
			m := &verigate.Member{InstitutionID: "i1", PersonID: "M1", Name: "Jane", CreatedAt: at, UpdatedAt: at}
			c1.Status, c1.PersonID, c1.UpdatedAt = verigate.CallAssigned, "M1", at
			assign := verigate.CallChange{Call: c1, FromStatus: verigate.CallQueued, FromPersonID: "", Member: m,
				Events: []verigate.CallEvent{{Type: "call.assigned", At: at}}, Audit: []verigate.AuditEvent{ev("AssignCall", "v1")}}
			if err := db.UpdateCall(ctx, assign); err != nil {
				t.Fatal(err)
			}
			// The same change again finds the call moved on and writes nothing.
			code(t, db.UpdateCall(ctx, assign), verigate.ECONFLICT)
			got, _ = db.GetCall(ctx, "i1", "v1")
			if got.Status != verigate.CallAssigned || got.Member == nil || got.Member.Name != "Jane" || len(got.Events) != 2 {
				t.Fatalf("after assign: %+v", got)
			}
			m.VoiceEnrolled, m.EnrolledVoiceID, m.EnrolledAt, m.VerificationCount, m.LastVerifiedAt = true, "v1", &at, 1, &at
			c1.Status, c1.Verified, c1.ValidationType, c1.DecidedBy, c1.DecidedAt = verigate.CallEnrolled, true, "otp", "jdoe", &at
			if err := db.UpdateCall(ctx, verigate.CallChange{Call: c1, FromStatus: verigate.CallAssigned, FromPersonID: "M1", Member: m,
				MemberEnrollment: true, Verification: &verigate.MemberVerification{InstitutionID: "i1", PersonID: "M1", VoiceID: "v1", ValidationType: "otp", RequestedBy: "jdoe", CreatedAt: at},
				Audit: []verigate.AuditEvent{ev("AcceptCallerVoice", "v1"), ev("FullAuthentication", "M1")}}); err != nil {
				t.Fatal(err)
			}
			mem, err := db.GetMember(ctx, "i1", "M1")
			if err != nil || !mem.VoiceEnrolled || mem.VerificationCount != 1 || mem.EnrolledVoiceID != "v1" {
				t.Fatalf("member: %+v %v", mem, err)
			}
			// A rejection that read the member before that enrollment
			// writes its enrollment columns, never the verification time.
			stale := *m
			earlier := at.Add(-time.Hour)
			stale.VoiceEnrolled, stale.EnrolledVoiceID, stale.EnrolledAt, stale.LastVerifiedAt = false, "", nil, &earlier
			c2.Status, c2.PersonID, c2.UpdatedAt = verigate.CallRejected, "M1", at
			db.Exec(ctx, `UPDATE phone_calls SET status = 'assigned', person_id = 'M1' WHERE voice_id = 'v2'`)
			if err := db.UpdateCall(ctx, verigate.CallChange{Call: c2, FromStatus: verigate.CallAssigned, FromPersonID: "M1", Member: &stale,
				MemberEnrollment: true}); err != nil {
				t.Fatal(err)
			}
			mem, _ = db.GetMember(ctx, "i1", "M1")
			if mem.LastVerifiedAt == nil || !mem.LastVerifiedAt.Equal(at) || mem.VerificationCount != 1 || mem.VoiceEnrolled {
				t.Fatalf("member after a stale rejection: %+v", mem)
			}
			_, err = db.GetMember(ctx, "i2", "M1")
			code(t, err, verigate.ENOTFOUND)
		})
	})
}
