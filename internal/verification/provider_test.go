package verification_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/reclaim"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
	"github.com/verigate/verigate/internal/verification"
)

// TestProofBoundToSource: a validly signed proof that carries the step's
// nonce is still refused when it comes from a provider the step's source
// does not accept; importing the provider hash makes it acceptable.
func TestProofBoundToSource(t *testing.T) {
	e := apptest.New(t, storetest.Open(t, sqlstore.SQLite))
	e.SeedReseller("acme", "acme-cu")
	key, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: "acme", UserEmail: "svc@acme.test",
		Scopes: []string{"verifications:create"}, Mode: verigate.ModeTest})
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := e.App.Access.VerifyAPIKey(e.System, key)
	partner := verigate.WithPrincipal(context.Background(), p)
	v := e.App.Verify
	step := func() (*verigate.Step, context.Context) {
		sess, token, err := v.CreateSession(partner, verification.SessionInput{ExpiryDate: e.Clock.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		csrf, _, _, _ := v.OpenLink(context.Background(), token, sess.ID)
		ap, _ := v.Applicant(context.Background(), csrf)
		ctx := verigate.WithPrincipal(context.Background(), ap)
		steps, err := v.SelectSources(ctx, sess.ID, []int64{1}) // PayPal
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := v.InitiateStep(ctx, steps[0].ID); err != nil {
			t.Fatal(err)
		}
		return steps[0], ctx
	}
	forged := func(st *verigate.Step, providerHash string) reclaim.Proof {
		ctxJSON, _ := json.Marshal(map[string]any{"contextMessage": st.Nonce, "providerHash": providerHash,
			"extractedParameters": map[string]string{"username": "someone"}})
		c := reclaim.ClaimData{Provider: "http", Parameters: `{"url":"https://www.kaggle.com/api"}`, Owner: "0x" + strings.Repeat("ab", 20),
			TimestampS: e.Clock.Now().Unix(), Context: string(ctxJSON), Epoch: 1}
		c.Identifier, _ = reclaim.Identifier(c.Provider, string(c.Parameters), c.Context)
		return reclaim.Proof{Identifier: c.Identifier, ClaimData: c, Signatures: []string{v.SignAsSandbox(c)}}
	}
	kaggle := "0x4c20776ae89ab7eead49e4e393f4e07348a4d85e21869201aa6eea6e2bc07f5b"
	st, ctx := step()
	_, _, err = v.SubmitProofs(ctx, st.ID, []reclaim.Proof{forged(st, kaggle)})
	if err == nil || !strings.Contains(err.Error(), "does not accept") {
		t.Fatalf("a Kaggle proof for a PayPal step: %v", err)
	}
	// Provider hashes are Reclaim's: anything else is refused at import.
	for _, bad := range []string{``, `0x12`, `4c20776ae89ab7eead49e4e393f4e07348a4d85e21869201aa6eea6e2bc07f5b`} {
		c := `{"sources":[{"sourceName":"PayPal","name":"PayPal","kind":"reclaim","verificationTypeId":1,"providerId":"paypal-income","providerHashes":["` + bad + `"]}]}`
		if _, err := v.ImportSources(e.System, []byte(c)); verigate.ErrorCode(err) != verigate.EINVALID || !strings.Contains(err.Error(), "providerHashes") {
			t.Fatalf("provider hash %q: %v", bad, err)
		}
	}
	// The deployment says which provider proves PayPal.
	catalog := `{"sources":[{"sourceName":"PayPal","name":"PayPal","kind":"reclaim","verificationTypeId":1,"providerId":"paypal-income","providerHashes":["` + kaggle + `"]}]}`
	if _, err := v.ImportSources(e.System, []byte(catalog)); err != nil {
		t.Fatal(err)
	}
	if err := v.SyncCatalog(e.System); err != nil { // a restart keeps the import
		t.Fatal(err)
	}
	st, ctx = step()
	if _, _, err := v.SubmitProofs(ctx, st.ID, []reclaim.Proof{forged(st, kaggle)}); err != nil {
		t.Fatalf("an accepted provider's proof: %v", err)
	}
}
