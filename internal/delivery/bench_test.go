package delivery_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
	"github.com/verigate/verigate/internal/webhook"
)

// okSender is an instant receiver that signs nothing off: the benchmark
// measures delivery's own work (dispatch, claim, sign, record).
type okSender struct{}

func (okSender) Send(context.Context, webhook.Delivery) webhook.Result {
	return webhook.Result{Status: 200, Body: "ok"}
}

// emitMany writes n events for org, a few hundred per statement.
func emitMany(b testing.TB, db *sqlstore.DB, org string, n int, at time.Time) {
	for name, p := range db.Pools() {
		if name == "read" {
			continue
		}
		for n > 0 {
			k := min(n, 200)
			var rows []string
			for range k {
				rows = append(rows, "('"+org+"', 'live', 'verification.completed', '1', '{\"sessionId\":1,\"status\":\"COMPLETED\"}', "+
					strconv.FormatInt(at.UnixMilli(), 10)+")")
			}
			if _, err := p.Exec(`INSERT INTO events (org_id, mode, type, subject, payload, created_at) VALUES ` + strings.Join(rows, ", ")); err != nil {
				b.Fatal(err)
			}
			n -= k
		}
		return
	}
}

// BenchmarkDeliver measures one message's way from an undispatched event
// to delivered and recorded — dispatch, claim, signing, the send to an
// instant receiver, record — on each engine, with 10 endpoints.
func BenchmarkDeliver(b *testing.B) {
	for _, engine := range []string{sqlstore.SQLite, sqlstore.Postgres} {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Open(b, engine)
			e := newEnv(b, db, delivery.Options{})
			w := delivery.NewWorker(e.svc, okSender{}, delivery.WorkerOptions{})
			e.svc.Now = time.Now
			const endpoints = 10
			for i := range endpoints {
				e.create(b, e.inst, delivery.EndpointInput{URL: "https://bench.example/" + strconv.Itoa(i)})
			}
			events := max(1, b.N/endpoints)
			emitMany(b, db, "i1", events, time.Now())
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			sent := 0
			for sent < events*endpoints {
				n, err := w.Work(ctx)
				if err != nil {
					b.Fatal(err)
				}
				sent += n
			}
			b.StopTimer()
			b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
