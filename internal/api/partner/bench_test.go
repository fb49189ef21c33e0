package partner_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

// BenchmarkSessionCreate measures POST /partner/session over loopback HTTP
// through the whole server (authentication, the catalog, the write
// transaction and its commit) on SQLite, with 50 concurrent clients in all
// (SetParallelism multiplies by GOMAXPROCS), as `wrk -c50` drives it.
func BenchmarkSessionCreate(b *testing.B) {
	e := apptest.SQLite(b)
	r := e.SeedReseller("acme", "acme-cu")
	key, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: "acme", UserEmail: r.Email,
		Scopes: partnerScopes, Mode: verigate.ModeLive,
		RateLimit: &verigate.RateLimitPolicy{TTL: time.Second, Limit: 1_000_000, BlockDuration: time.Second}})
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"params": map[string]any{
		"expiryDate": e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339), "applicantId": "bench"}})
	srv := httptest.NewServer(e.App.Server)
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	url := srv.URL + "/partner/session"
	b.SetParallelism(max(1, 50/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
			req.Header.Set("x-api-key", key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
