package delivery_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
	"github.com/verigate/verigate/internal/webhook"
)

// counter is a receiver shared by replicas: it counts every attempt of
// every message, and the order each endpoint saw.
type counter struct {
	mu     sync.Mutex
	seen   map[string]int
	order  map[string][]string // by URL
	byName map[string]int      // attempts per replica
}

type replicaSender struct {
	c    *counter
	name string
}

func (s replicaSender) Send(_ context.Context, d webhook.Delivery) webhook.Result {
	s.c.mu.Lock()
	id := d.Header[webhook.HeaderID]
	s.c.seen[id]++
	s.c.order[d.URL] = append(s.c.order[d.URL], id)
	s.c.byName[s.name]++
	s.c.mu.Unlock()
	time.Sleep(200 * time.Microsecond) // a fast receiver, but not instant
	return webhook.Result{Status: 200}
}

// TestReplicas (PostgreSQL): two workers on one database share the work:
// every message is attempted exactly once, each endpoint's in order.
func TestReplicas(t *testing.T) {
	dsn := storetest.DSN(t, sqlstore.Postgres)
	ctx := context.Background()
	open := func() *sqlstore.DB {
		db, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db1, db2 := open(), open()
	if _, err := db1.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db1, delivery.Options{})
	const endpoints, events = 5, 100
	for i := range endpoints {
		e.create(t, e.inst, delivery.EndpointInput{URL: "https://replica.example/" + string(rune('a'+i))})
	}
	c := &counter{seen: map[string]int{}, order: map[string][]string{}, byName: map[string]int{}}
	run, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, db := range []*sqlstore.DB{db1, db2} {
		svc := delivery.New(db, strings.Repeat("k", 32), urls{}, delivery.Options{})
		w := delivery.NewWorker(svc, replicaSender{c: c, name: string(rune('1' + i))},
			delivery.WorkerOptions{Concurrency: 3, Batch: 7, Poll: 5 * time.Millisecond})
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(run) }()
	}
	// Events arrive while the workers run.
	for i := range events {
		emitAt(t, db1, "i1", verigate.EventVerificationCompleted, "s", time.Now())
		if i%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.seen)
		c.mu.Unlock()
		if n == endpoints*events || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	wg.Wait()
	if len(c.seen) != endpoints*events {
		t.Fatalf("%d messages delivered, want %d", len(c.seen), endpoints*events)
	}
	for id, n := range c.seen {
		if n != 1 {
			t.Fatalf("message %s attempted %d times", id, n)
		}
	}
	for url, ids := range c.order {
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Fatalf("%s got %s after %s", url, ids[i], ids[i-1])
			}
		}
	}
	if st, _ := db2.WebhookQueueStats(ctx); st.Depth != 0 {
		t.Fatalf("left in the queue: %+v", st)
	}
	t.Logf("attempts per replica: %v", c.byName)
}
