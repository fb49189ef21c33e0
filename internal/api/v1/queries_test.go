package v1_test

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
)

// authQueries is what authenticating a warm API key costs in queries: the
// verified-credential cache serves it (the cache's generation is read at
// most every 250 ms, which the bound below leaves room for).
const authQueries = 0

// statusQueries bounds connect.Service.Status: the connection and its
// pending request, in one join.
const statusQueries = 1

// readQueries bounds an authenticated read on a warm cache, authentication
// included (issue 10).
const readQueries = 2

// TestStatusQueries counts the statements a status read runs on a warm
// cache: the service's own, and the whole HTTP request's (at most 2 once
// authentication is cached).
func TestStatusQueries(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		id := f.connect(t, "otp")
		f.work(t)
		if s := f.status(t, id); s.PendingAssistance == nil {
			t.Fatalf("no pending request to read: %+v", s) // also warms every cache
		}

		_, p, err := e.App.Access.VerifyAPIKey(context.Background(), f.key)
		if err != nil {
			t.Fatal(err)
		}
		ctx, n := apptest.CountQueries(verigate.WithPrincipal(context.Background(), p))
		c, r, err := e.App.Connect.Status(ctx, id)
		if err != nil || c.ID != id || r == nil {
			t.Fatalf("Status = %+v, %+v, %v", c, r, err)
		}
		if got := atomic.LoadInt64(n); got > statusQueries {
			t.Errorf("connect.Service.Status ran %d queries, want at most %d", got, statusQueries)
		}

		ctx, n = apptest.CountQueries(context.Background())
		req := httptest.NewRequestWithContext(ctx, "GET", "/v1/accounts/"+id+"/status", nil)
		req.Header.Set("Authorization", "Api-Key "+f.key)
		if res := e.Raw(req); res.Status != 200 {
			t.Fatalf("status: %d %s", res.Status, res.Body)
		}
		if got := atomic.LoadInt64(n); got > readQueries+authQueries {
			t.Errorf("GET status ran %d queries, want at most %d + %d for authentication", got, readQueries, authQueries)
		} else {
			t.Logf("GET status ran %d queries", got)
		}
	})
}
