package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// BenchmarkConnectionStatus measures the status read's one query, with
// the statement cache and without, on each engine (PostgreSQL when
// VERIGATE_TEST_POSTGRES_URL is set), 50 goroutines at once.
func BenchmarkConnectionStatus(b *testing.B) {
	for _, engine := range []string{sqlstore.SQLite, sqlstore.Postgres} {
		for _, mode := range []string{"prepared", "unprepared"} {
			b.Run(engine+"/"+mode, func(b *testing.B) {
				db := storetest.Open(b, engine)
				if mode == "unprepared" {
					db.Unprepared()
				}
				ctx := context.Background()
				db.CreateOrganization(ctx, org("p1", "platform", verigate.OrgPlatform, ""), ev("organization.create", "p1"))
				db.UpsertVerificationTypes(ctx, []verigate.VerificationType{{ID: 4, Name: "Bank", Description: "d"}})
				db.UpsertSources(ctx, []*verigate.DataSource{{ID: 18, SourceName: "Sandbox Bank", Name: "Sandbox Bank", Kind: "connector",
					VerificationTypeID: 4, CreatedAt: t0, UpdatedAt: t0}}, nil)
				c := &verigate.Connection{ID: "c1", OrgID: "p1", UserID: "u", APIKeyID: "k", Mode: verigate.ModeTest, SourceID: 18,
					Credentials: []byte{1}, Status: verigate.ConnAwaiting, CreatedAt: t0, UpdatedAt: t0}
				r := &verigate.AssistanceRequest{ID: "req_1", ConnectionID: "c1", Type: "otp", Descriptor: verigate.Descriptor{Length: 6, Type: "numeric"},
					Status: verigate.AssistPending, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
				if err := db.CreateConnection(ctx, c, verigate.ConnectionChange{Connection: c, NewRequest: r}); err != nil {
					b.Fatal(err)
				}
				b.SetParallelism(25)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, r, err := db.ConnectionStatus(ctx, "c1"); err != nil || r == nil {
							b.Fatal(r, err)
						}
					}
				})
			})
		}
	}
}
