package app_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/webhook"
)

// TestWebhooksRun: with RunWebhooks running, a session created over HTTP
// reaches an endpoint's receiver signed, the attempt shows in the
// metrics, and RunWebhooks returns once stopped.
func TestWebhooksRun(t *testing.T) {
	apptest.EachWithEnv(t, map[string]string{"VERIGATE_WEBHOOK_ALLOW_PRIVATE": "true", "VERIGATE_WEBHOOK_ALLOW_HTTP": "true"},
		func(t *testing.T, e *apptest.Env) {
			k := e.SeedKeys("acme")
			var mu sync.Mutex
			var got []string
			arrived := make(chan struct{}, 10)
			rv := &webhook.Receiver{Now: e.Clock.Now, OnMessage: func(id string, body []byte) {
				mu.Lock()
				got = append(got, string(body))
				mu.Unlock()
				arrived <- struct{}{}
			}}
			srv := httptest.NewServer(rv)
			defer srv.Close()
			org, err := e.App.Access.Organization(e.System, "acme")
			if err != nil {
				t.Fatal(err)
			}
			ep, err := e.App.Webhooks.Create(e.System, delivery.EndpointInput{OrgID: org.ID, URL: srv.URL + "/hooks",
				EventTypes: []verigate.EventType{verigate.EventVerificationCreated}, IncludeChildren: true})
			if err != nil {
				t.Fatal(err)
			}
			key, _ := webhook.ParseSecret(ep.Secret)
			rv.Secrets = [][]byte{key}

			ctx, stop := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			go func() { defer close(stopped); e.App.RunWebhooks(ctx) }()
			resp := e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{
				"expiryDate": e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)}}, "x-api-key", k.APIKey)
			if resp.Status != 201 {
				t.Fatalf("create session: %d %s", resp.Status, resp.Body)
			}
			// Two sessions: SeedKeys's, whose event waited undispatched
			// for the worker (the endpoint was there by then), and this one.
			for range 2 {
				select {
				case <-arrived:
				case <-time.After(10 * time.Second):
					t.Fatalf("webhooks received: %q; logs:\n%s", got, e.Logs)
				}
			}
			mu.Lock()
			if len(got) != 2 || !strings.Contains(got[1], `"type":"verification.created"`) {
				t.Fatalf("received %q", got)
			}
			mu.Unlock()
			stop()
			select {
			case <-stopped:
			case <-time.After(20 * time.Second):
				t.Fatal("RunWebhooks did not return once stopped")
			}

			metrics := httptest.NewRecorder()
			e.App.Server.ServeHTTP(metrics, httptest.NewRequest("GET", "/metrics", nil))
			body, _ := io.ReadAll(metrics.Body)
			for _, want := range []string{`verigate_webhook_attempts_total{outcome="delivered"} 2`,
				`verigate_webhook_attempts_total{outcome="failed_retrying"} 0`, "verigate_webhook_delivery_seconds_count 2",
				"verigate_webhook_queue_depth 0", "verigate_webhook_oldest_pending_seconds 0"} {
				if !strings.Contains(string(body), want+"\n") {
					t.Errorf("/metrics lacks %q:\n%s", want, body)
				}
			}
		})
}
