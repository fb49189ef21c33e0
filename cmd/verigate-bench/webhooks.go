package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/webhook"
)

// The webhook-delivery case: a receiver in the bench process verifies
// every signature, and the bench measures
//   - throughput: a burst of events committed at once (written straight
//     into the outbox, as a change's transaction would, a few hundred per
//     statement, by the bench on the server's database), timed from the
//     first write to the last message received: signed deliveries/s, with
//     one endpoint and then with several (each endpoint is served by one
//     worker slot, its messages sent one after another, in order);
//   - latency: sessions created over HTTP at a steady rate, each timed
//     from the request being sent to its verification.created message
//     arriving.
// A ratio to bare means nothing here: these are their own rows.

const (
	caseWebhook       = "webhook-delivery"
	webhookBurst      = 20000 // messages per throughput run
	webhookLatencyRPS = 200
	webhookLatencyFor = 5 * time.Second
)

type webhookResult struct {
	Throughput []webhookThroughput `json:"throughput"`
	Latency    webhookLatency      `json:"latency"`
}

type webhookThroughput struct {
	Endpoints     int     `json:"endpoints"`
	Events        int     `json:"events"`
	Messages      int     `json:"messages"`
	Seconds       float64 `json:"seconds"`
	DeliveriesSec float64 `json:"deliveriesPerSecond"`
}

type webhookLatency struct {
	EventsPerSecond int     `json:"eventsPerSecond"`
	Events          int     `json:"events"`
	P50Ms           float64 `json:"p50Ms"`
	P99Ms           float64 `json:"p99Ms"`
	MaxMs           float64 `json:"maxMs"`
}

// benchReceiver verifies and records every message, by endpoint path.
type benchReceiver struct {
	mu      sync.Mutex
	keys    map[string][]byte // path → secret
	count   map[string]int
	last    time.Time
	arrived map[int64]time.Time // latency run: session id → arrival
	bad     int
	srv     *http.Server
	url     string
}

func startBenchReceiver() (*benchReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &benchReceiver{keys: map[string][]byte{}, count: map[string]int{}, arrived: map[int64]time.Time{}, url: "http://" + ln.Addr().String()}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *benchReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	now := time.Now()
	r.mu.Lock()
	key := r.keys[req.URL.Path]
	r.mu.Unlock()
	if err := webhook.Check(key, webhook.SignatureFrom(req.Header), body, now); err != nil {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		w.WriteHeader(400)
		return
	}
	var sid int64
	if i := bytes.Index(body, []byte(`"sessionId":`)); i >= 0 && strings.HasSuffix(req.URL.Path, "/latency") {
		rest := body[i+len(`"sessionId":`):]
		j := bytes.IndexAny(rest, ",}")
		sid, _ = strconv.ParseInt(string(rest[:max(j, 0)]), 10, 64)
	}
	r.mu.Lock()
	r.count[req.URL.Path]++
	r.last = now
	if sid != 0 {
		r.arrived[sid] = now
	}
	r.mu.Unlock()
	w.WriteHeader(204)
}

// waitFor waits until the paths have n messages in all; it returns the
// last arrival.
func (r *benchReceiver) waitFor(ctx context.Context, paths []string, n int, within time.Duration) (time.Time, error) {
	deadline := time.Now().Add(within)
	for {
		r.mu.Lock()
		got, last, bad := 0, r.last, r.bad
		for _, p := range paths {
			got += r.count[p]
		}
		r.mu.Unlock()
		if bad > 0 {
			return time.Time{}, fmt.Errorf("%d webhook signatures did not verify", bad)
		}
		if got >= n {
			return last, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%d of %d webhook messages received after %v", got, n, within)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// endpoint creates an endpoint at path for one event type with the
// admin CLI and registers its secret with the receiver.
func (r *benchReceiver) endpoint(ctx context.Context, s *server, path, eventType string) error {
	var got struct{ Secret string }
	if err := adminJSON(ctx, s, &got, "webhook", "create", "--org", "bench", "--mode", "test", "--include-children",
		"--events", eventType, "--url", r.url+path); err != nil {
		return err
	}
	key, err := webhook.ParseSecret(got.Secret)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.keys[path] = key
	r.mu.Unlock()
	return nil
}

// runWebhookCase measures webhook delivery on the running server s.
func runWebhookCase(ctx context.Context, s *server, f *fixture, dsn string, logf func(string, ...any)) (*webhookResult, error) {
	rv, err := startBenchReceiver()
	if err != nil {
		return nil, err
	}
	defer rv.srv.Close()
	var orgs []struct{ ID, Key string }
	if err := adminJSON(ctx, s, &orgs, "org", "list"); err != nil {
		return nil, err
	}
	org := ""
	for _, o := range orgs {
		if o.Key == "bench" {
			org = o.ID
		}
	}
	db, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	res := &webhookResult{}
	// Each run has endpoints of its own, subscribed to an event type of
	// its own, so earlier runs' endpoints receive nothing.
	for i, n := range []int{1, 4} {
		typ := []string{"verification.completed", "verification.failed"}[i]
		var paths []string
		for k := range n {
			p := fmt.Sprintf("/burst%d/%d", n, k)
			if err := rv.endpoint(ctx, s, p, typ); err != nil {
				return nil, err
			}
			paths = append(paths, p)
		}
		events := webhookBurst / n
		start := time.Now()
		if err := writeEvents(ctx, db, org, typ, events); err != nil {
			return nil, err
		}
		written := time.Since(start)
		last, err := rv.waitFor(ctx, paths, events*n, 5*time.Minute)
		if err != nil {
			return nil, err
		}
		secs := last.Sub(start).Seconds()
		t := webhookThroughput{Endpoints: n, Events: events, Messages: events * n, Seconds: secs, DeliveriesSec: float64(events*n) / secs}
		res.Throughput = append(res.Throughput, t)
		logf("webhooks: %d events × %d endpoint(s) written in %.2f s, all delivered %.2f s after the first write: %.0f deliveries/s",
			events, n, written.Seconds(), secs, t.DeliveriesSec)
	}

	if err := rv.endpoint(ctx, s, "/latency", "verification.created"); err != nil {
		return nil, err
	}
	sent := map[int64]time.Time{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / webhookLatencyRPS)
	total := int(webhookLatencyFor.Seconds()) * webhookLatencyRPS
	errs := make(chan error, total)
	for range total {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := time.Now()
			var created struct {
				Data struct{ ID int64 } `json:"data"`
			}
			if err := f.call(ctx, "POST", "/partner/session", []string{"x-api-key", f.partnerKey}, json.RawMessage(sessionBody()), 201, &created); err != nil {
				errs <- err
				return
			}
			mu.Lock()
			sent[created.Data.ID] = at
			mu.Unlock()
		}()
	}
	tick.Stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		return nil, err
	}
	if _, err := rv.waitFor(ctx, []string{"/latency"}, total, time.Minute); err != nil {
		return nil, err
	}
	var lat []time.Duration
	rv.mu.Lock()
	for id, at := range sent {
		if got, ok := rv.arrived[id]; ok {
			lat = append(lat, got.Sub(at))
		}
	}
	rv.mu.Unlock()
	if len(lat) != total {
		return nil, fmt.Errorf("latency: %d of %d sessions' messages matched", len(lat), total)
	}
	slices.Sort(lat)
	res.Latency = webhookLatency{EventsPerSecond: webhookLatencyRPS, Events: total, P50Ms: ms(percentile(lat, 0.5)),
		P99Ms: ms(percentile(lat, 0.99)), MaxMs: ms(lat[len(lat)-1])}
	logf("webhooks: %d sessions at %d/s: created → delivered p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		total, webhookLatencyRPS, res.Latency.P50Ms, res.Latency.P99Ms, res.Latency.MaxMs)
	return res, nil
}

// writeEvents commits n events of type typ for org in the outbox, a few
// hundred per statement, on the database's write pool.
func writeEvents(ctx context.Context, db *sqlstore.DB, org, typ string, n int) error {
	pools := db.Pools()
	pool := pools["write"]
	if pool == nil {
		pool = pools["main"]
	}
	status := strings.ToUpper(strings.TrimPrefix(typ, "verification."))
	for i := 0; i < n; {
		k := min(n-i, 500)
		var rows []string
		now := strconv.FormatInt(time.Now().UnixMilli(), 10)
		for j := range k {
			rows = append(rows, fmt.Sprintf(`('%s', 'test', '%s', '%d', '{"sessionId":%d,"status":"%s"}', %s)`, org, typ, i+j+1, i+j+1, status, now))
		}
		if _, err := pool.ExecContext(ctx, `INSERT INTO events (org_id, mode, type, subject, payload, created_at) VALUES `+strings.Join(rows, ", ")); err != nil {
			return err
		}
		i += k
	}
	return nil
}
