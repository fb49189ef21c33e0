package sqlstore_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// BenchmarkCreateSession measures the session create's transaction (the
// session, its audit event and its outbox event) from 50 goroutines at
// once, as the create load drives it: on SQLite through the group commit.
// cpu-us/op is the process's CPU time (user and system) per create, which
// a shared machine disturbs less than the wall time; loop-us/op is the
// group-commit loop's time per write (its serial section), and
// writes/group how many writes shared a COMMIT.
func BenchmarkCreateSession(b *testing.B) {
	for _, engine := range []string{sqlstore.SQLite, sqlstore.Postgres} {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Open(b, engine)
			ctx := context.Background()
			if err := db.CreateOrganization(ctx, org("p1", "platform", verigate.OrgPlatform, ""), ev("organization.create", "p1")); err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.SetParallelism(25)
			b.ReportAllocs()
			cpu0 := cpuTime()
			busy0, writes0, groups0 := db.WriterStats()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					s := &verigate.Session{OrgID: "p1", Mode: verigate.ModeLive, Status: verigate.SessionPending,
						ExpiryDate: t0.Add(time.Hour), Metadata: json.RawMessage(`{}`), ApplicantID: "bench",
						AllowedSources: []int64{}, LinkHash: []byte("link" + strconv.FormatInt(i, 10)), CreatedBy: "k",
						CreatedAt: t0, UpdatedAt: t0}
					events := []verigate.OutboxEvent{verigate.NewVerificationCreated(s, t0)}
					if err := db.CreateSession(ctx, s, nil, []verigate.AuditEvent{ev("verification.create", "")}, events); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/op")
			if busy, writes, groups := db.WriterStats(); writes > writes0 {
				b.ReportMetric(float64(busy-busy0)/float64(time.Microsecond)/float64(writes-writes0), "loop-us/op")
				b.ReportMetric(float64(writes-writes0)/float64(groups-groups0), "writes/group")
			}
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
