package webhook

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// The receivers here listen on 127.0.0.1, so the positive tests use a
// Guard that allows private addresses.
var local = Guard{AllowPrivate: true}

// receiver is an httptest server counting its requests and connections.
type receiver struct {
	*httptest.Server
	hits, conns atomic.Int64
}

func newReceiver(t *testing.T, h http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		h(w, req)
	}))
	r.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			r.conns.Add(1)
		}
	}
	r.Start()
	t.Cleanup(r.Close)
	return r
}

func answer(status int, header map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func send(t *testing.T, c *Client, u string) Result {
	t.Helper()
	return c.Send(context.Background(), Delivery{URL: u, Body: []byte(`{"type":"webhook.test"}`)})
}

// A 2xx is OK; the request carries the body as sent, a JSON Content-Type
// (whatever the headers say), the User-Agent and every header given, and
// its signature verifies.
func TestSendOK(t *testing.T) {
	k := key(t)
	body := []byte(`{"type":"verification.completed","data":{"id":"vs_1","name":"Zoë"}}`)
	var seen http.Header
	var got []byte
	rv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		got, _ = io.ReadAll(r.Body)
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if err := Verify(k, r.Header, got, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "thanks")
	})
	h := StandardHeaders("msg_1", time.Now(), body, k)
	h["Authorization"] = "Bearer tok_1"
	h["Content-Type"] = "text/plain"
	c := NewClient(local, 0)
	r := c.Send(context.Background(), Delivery{URL: rv.URL + "/hooks", Header: h, Body: body})
	if !r.OK() || r.Status != 200 || r.Body != "thanks" || r.Err != nil || r.Abort || r.RetryAfter != 0 || r.Latency <= 0 {
		t.Fatalf("Send = %+v", r)
	}
	if string(got) != string(body) || seen.Get("Content-Type") != "application/json" || seen.Get("User-Agent") != "Verigate-Webhooks/1" ||
		seen.Get("Authorization") != "Bearer tok_1" || seen.Get("webhook-id") != "msg_1" {
		t.Fatalf("received %q with headers %v", got, seen)
	}
	rv.Config.Handler = answer(http.StatusNoContent, nil, "")
	if r := send(t, c, rv.URL); !r.OK() || r.Status != 204 {
		t.Fatalf("204: %+v", r)
	}
	if c.timeout != 15*time.Second {
		t.Fatalf("default timeout %v", c.timeout)
	}
	if tr := c.http.Transport.(*http.Transport); tr.Proxy != nil || tr.MaxIdleConnsPerHost != 16 {
		t.Fatal("the transport uses a proxy from the environment, or keeps too few connections alive")
	}
}

// A redirect is a failure and is never followed.
func TestSendDoesNotFollowRedirects(t *testing.T) {
	target := newReceiver(t, answer(200, nil, "followed"))
	c := NewClient(local, 0)
	for _, status := range []int{301, 302, 303, 307, 308} {
		rv := newReceiver(t, answer(status, map[string]string{"Location": target.URL + "/elsewhere"}, ""))
		r := send(t, c, rv.URL)
		if r.OK() || r.Status != status || r.Err != nil {
			t.Fatalf("%d: %+v", status, r)
		}
	}
	if n := target.hits.Load(); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
}

func TestSendStatuses(t *testing.T) {
	c := NewClient(local, 0)
	future := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		name   string
		h      http.HandlerFunc
		status int
		after  [2]time.Duration // bounds
		abort  bool
	}{
		{"410", answer(410, nil, "gone"), 410, [2]time.Duration{}, false},
		{"500", answer(500, map[string]string{"Retry-After": "30"}, ""), 500, [2]time.Duration{}, false}, // only 429 and 503
		{"429 seconds", answer(429, map[string]string{"Retry-After": "120"}, ""), 429, [2]time.Duration{120 * time.Second, 120 * time.Second}, false},
		{"429 date", answer(429, map[string]string{"Retry-After": future}, ""), 429, [2]time.Duration{88 * time.Second, 90 * time.Second}, false},
		{"429 garbage", answer(429, map[string]string{"Retry-After": "soon"}, ""), 429, [2]time.Duration{}, false},
		{"429 none", answer(429, nil, ""), 429, [2]time.Duration{}, false},
		{"503 seconds", answer(503, map[string]string{"Retry-After": "7"}, ""), 503, [2]time.Duration{7 * time.Second, 7 * time.Second}, false},
		{"503 negative", answer(503, map[string]string{"Retry-After": "-7"}, ""), 503, [2]time.Duration{}, false},
		{"abort", answer(400, map[string]string{"Webhook-Delivery": "Abort-Message"}, "no thanks"), 400, [2]time.Duration{}, true},
		{"abort lower", answer(422, map[string]string{"webhook-delivery": " abort-message "}, ""), 422, [2]time.Duration{}, true},
		{"not abort", answer(400, map[string]string{"webhook-delivery": "abort"}, ""), 400, [2]time.Duration{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rv := newReceiver(t, tc.h)
			r := send(t, c, rv.URL)
			if r.OK() || r.Err != nil || r.Status != tc.status || r.Abort != tc.abort || r.RetryAfter < tc.after[0] || r.RetryAfter > tc.after[1] {
				t.Fatalf("Send = %+v; want status %d, Retry-After in %v, abort %v", r, tc.status, tc.after, tc.abort)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                               0,
		"0":                              0,
		"5":                              5 * time.Second,
		" 7 ":                            7 * time.Second,
		"36000":                          10 * time.Hour,
		"36001":                          10 * time.Hour, // capped at the schedule's longest step
		"99999999999999999999999":        10 * time.Hour,
		"-5":                             0,
		"+5":                             0,
		"1.5":                            0,
		"5s":                             0,
		"soon":                           0,
		"Sun, 01 Mar 2026 12:02:00 GMT":  2 * time.Minute,
		"Sunday, 01-Mar-26 12:00:30 GMT": 30 * time.Second, // RFC 850
		"Sun Mar  1 12:01:00 2026":       time.Minute,      // ANSI C
		"Sun, 01 Mar 2026 11:59:00 GMT":  0,                // past
		"Mon, 02 Mar 2026 12:00:00 GMT":  10 * time.Hour,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

// The body kept is the first 4 KiB, as valid UTF-8 without NUL; a longer
// response within the drain bound leaves its connection reusable, one
// beyond it does not.
func TestSendResponseBody(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 640) // 10 KiB
	rv := newReceiver(t, answer(400, nil, big))
	c := NewClient(local, 0)
	for range 3 {
		if r := send(t, c, rv.URL); r.Body != big[:MaxResponseBody] || r.Status != 400 {
			t.Fatalf("kept %d bytes: %.40q…", len(r.Body), r.Body)
		}
	}
	if n := rv.conns.Load(); n != 1 {
		t.Fatalf("3 deliveries with 10 KiB answers took %d connections; want 1 kept alive", n)
	}
	huge := newReceiver(t, answer(200, nil, strings.Repeat("x", 1<<20)))
	for range 2 {
		if r := send(t, c, huge.URL); !r.OK() || len(r.Body) != MaxResponseBody {
			t.Fatalf("1 MiB answer: %d bytes kept, %+v", len(r.Body), r.Err)
		}
	}
	if n := huge.conns.Load(); n != 2 {
		t.Fatalf("1 MiB answers took %d connections; want each closed (2), not drained", n)
	}

	for _, tc := range []struct{ in, want string }{
		{strings.Repeat("a", MaxResponseBody-1) + "é", strings.Repeat("a", MaxResponseBody-1)}, // é split by the limit
		{strings.Repeat("a", MaxResponseBody-3) + "😀", strings.Repeat("a", MaxResponseBody-3)}, // not a U+FFFD for it
		{"ok\x00\xffdone", "ok\uFFFD\uFFFDdone"},
		{strings.Repeat("\xff", MaxResponseBody), ""}, // checked below: valid and within the bound
	} {
		rv := newReceiver(t, answer(500, nil, tc.in))
		r := send(t, c, rv.URL)
		if !utf8.ValidString(r.Body) || strings.ContainsRune(r.Body, 0) || len(r.Body) > MaxResponseBody || tc.want != "" && r.Body != tc.want {
			t.Fatalf("body %.60q kept as %.60q (%d bytes)", tc.in, r.Body, len(r.Body))
		}
	}
}

// An attempt that outlives the timeout fails saying so; a canceled one
// says it was canceled.
func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	rv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // so the server notices the client leave
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	r := send(t, NewClient(local, 150*time.Millisecond), rv.URL)
	if r.OK() || r.Status != 0 || !errors.Is(r.Err, ErrTimeout) || r.Err.Error() != "timeout after 150ms" ||
		r.Latency < 150*time.Millisecond || r.Latency > 3*time.Second {
		t.Fatalf("Send = %+v (%v)", r, r.Err)
	}
	// Headers in time, then a body that never ends: still a timeout.
	slowBody := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // before the servers close
	if r := send(t, NewClient(local, 150*time.Millisecond), slowBody.URL); r.Status != 200 || r.Latency > 3*time.Second {
		t.Fatalf("slow body: %+v", r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	r = NewClient(local, 0).Send(ctx, Delivery{URL: rv.URL})
	if !errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, ErrTimeout) {
		t.Fatalf("canceled: %v", r.Err)
	}
}

// Without AllowPrivate the dialer refuses the receiver's address at
// connect time, naming it, and no request arrives: whether the URL names
// the address, or a name that resolved public when it was checked and
// resolves to loopback now (DNS rebinding).
func TestSendRefusesPrivateAtConnect(t *testing.T) {
	rv := newReceiver(t, answer(200, nil, "reached"))
	port := rv.Listener.Addr().(*net.TCPAddr).Port
	hostURL := func(host string) string { return "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/hooks" }

	r := send(t, NewClient(Guard{}, 0), rv.URL)
	var refused *RefusedAddressError
	if !errors.As(r.Err, &refused) || refused.Addr.String() != rv.Listener.Addr().String() || r.Status != 0 ||
		r.Err.Error() != "refused to connect to "+rv.Listener.Addr().String()+": 127.0.0.1 is a loopback address; webhook endpoints must be public" {
		t.Fatalf("Send to 127.0.0.1 without AllowPrivate = %+v (%v)", r, r.Err)
	}

	res := newResolver().
		set("rebind.example", "93.184.216.34", "127.0.0.1").
		set("mapped.example", "::ffff:127.0.0.1").
		set("hooks.example", "127.0.0.1")
	g := Guard{Resolver: res}
	if err := g.CheckURL(context.Background(), hostURL("rebind.example"), false); err != nil {
		t.Fatalf("rebind.example resolved public at first: %v", err)
	}
	c := NewClient(g, 0)
	for _, host := range []string{"rebind.example", "mapped.example"} {
		r := send(t, c, hostURL(host))
		if !errors.As(r.Err, &refused) || !strings.Contains(r.Err.Error(), "127.0.0.1 is a loopback address") {
			t.Fatalf("%s: %+v (%v)", host, r, r.Err)
		}
	}
	if n := rv.hits.Load(); n != 0 {
		t.Fatalf("the receiver got %d requests", n)
	}
	// The same resolver with AllowPrivate reaches it, under its name.
	var host string
	rv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { host = r.Host })
	if r := send(t, NewClient(Guard{AllowPrivate: true, Resolver: res}, 0), hostURL("hooks.example")); !r.OK() || host != "hooks.example:"+strconv.Itoa(port) {
		t.Fatalf("AllowPrivate through the resolver: %+v (%v), Host %q", r, r.Err, host)
	}
	// A name that does not resolve at connect time is a connection error.
	if r := send(t, NewClient(Guard{Resolver: res}, 0), hostURL("gone.example")); r.Err == nil || !strings.Contains(r.Err.Error(), "no such host") {
		t.Fatalf("gone.example: %+v", r)
	}
}

func TestSendBadURL(t *testing.T) {
	if r := NewClient(local, 0).Send(context.Background(), Delivery{URL: "http://[::1"}); r.Err == nil || r.OK() {
		t.Fatalf("Send to a malformed URL = %+v", r)
	}
	if r := NewClient(local, 0).Send(context.Background(), Delivery{URL: "ftp://example.com/"}); r.Err == nil {
		t.Fatalf("Send over ftp = %+v", r)
	}
}
