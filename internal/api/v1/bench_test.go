package v1_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/verigate/verigate/internal/app/apptest"
)

// BenchmarkVerifyAPIKey measures authenticating an API key against the
// real SQLite store: checksum, lookup by id, constant-time hash compare,
// the user's and organizations' state, the key's reach.
func BenchmarkVerifyAPIKey(b *testing.B) {
	e := apptest.SQLite(b)
	f := newFixture(b, e)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.App.Access.VerifyAPIKey(ctx, f.key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatusEndToEnd measures GET /v1/accounts/:id/status over
// loopback HTTP through the whole server: middleware, authentication, rate
// limit, the store, JSON.
func BenchmarkStatusEndToEnd(b *testing.B) {
	e := apptest.SQLite(b)
	f := newFixture(b, e)
	id := f.connect(b, "otp")
	f.work(b)
	key := makeKey(b, e, "acme", accessInput(1_000_000))
	srv := httptest.NewServer(e.App.Server)
	defer srv.Close()
	client := srv.Client()
	url := srv.URL + "/v1/accounts/" + id + "/status"
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Api-Key "+key)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
