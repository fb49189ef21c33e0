package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/verigate/verigate/internal/webhook"
)

// line reads the child's next line of standard output.
func (c *child) line(t *testing.T) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		s, _ := c.stdout.ReadString('\n')
		got <- s
	}()
	select {
	case s := <-got:
		return s
	case <-time.After(30 * time.Second):
		t.Fatalf("no line on stdout after 30s:\n%s", c.logs())
	}
	return ""
}

var listeningRE = regexp.MustCompile(`^Listening for webhooks on (http://127\.0\.0\.1:\d+/) `)

// listen starts verigate webhook listen and returns its URL.
func listen(t *testing.T, env []string, args ...string) (*child, string) {
	t.Helper()
	c := startChild(t, t.TempDir(), env, append([]string{"webhook", "listen", "--addr", "127.0.0.1:0"}, args...)...)
	first := c.line(t)
	m := listeningRE.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first line %q; want Listening for webhooks on http://127.0.0.1:PORT/", first)
	}
	return c, m[1]
}

// TestWebhookListen runs verigate webhook listen as its own process, posts
// it messages signed by the sender's code, and stops it with SIGINT.
func TestWebhookListen(t *testing.T) {
	secret, other := webhook.NewSecret(), webhook.NewSecret()
	key, _ := webhook.ParseSecret(secret)
	otherKey, _ := webhook.ParseSecret(other)
	c, url := listen(t, nil, "--secret", secret)
	client := webhook.NewClient(webhook.Guard{AllowPrivate: true}, 5*time.Second)
	body := []byte(`{"type": "webhook.test", "timestamp": "2026-03-01T12:00:00Z", "data": {}}`)

	r := client.Send(context.Background(), webhook.Delivery{URL: url, Header: webhook.StandardHeaders("msg_cli1", time.Now(), body, key), Body: body})
	if r.Status != http.StatusNoContent {
		t.Fatalf("signed message: %+v\n%s", r, c.logs())
	}
	if l := c.line(t); !strings.HasSuffix(l, `  msg_cli1  webhook.test  signature ok  {"type":"webhook.test","timestamp":"2026-03-01T12:00:00Z","data":{}}`+"\n") {
		t.Fatalf("printed %q", l)
	}
	r = client.Send(context.Background(), webhook.Delivery{URL: url, Header: webhook.StandardHeaders("msg_cli2", time.Now(), body, otherKey), Body: body})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "no webhook-signature matches") {
		t.Fatalf("message signed with another secret: %+v", r)
	}
	if l := c.line(t); !strings.Contains(l, "  msg_cli2  webhook.test  REJECTED: no webhook-signature matches the body  {") {
		t.Fatalf("printed %q", l)
	}
	c.cmd.Process.Signal(syscall.SIGINT)
	if code := c.wait(t); code != 0 {
		t.Fatalf("exit %d after SIGINT:\n%s", code, c.logs())
	}
}

// Without --secret, VERIGATE_WEBHOOK_SECRET holds the secrets (two while
// one is rotated); SIGTERM stops the listener cleanly too.
func TestWebhookListenSecretFromEnv(t *testing.T) {
	oldSecret, newSecret := webhook.NewSecret(), webhook.NewSecret()
	newKey, _ := webhook.ParseSecret(newSecret)
	c, url := listen(t, []string{"VERIGATE_WEBHOOK_SECRET=" + oldSecret + ", " + newSecret})
	body := []byte(`{"type":"step.updated"}`)
	r := webhook.NewClient(webhook.Guard{AllowPrivate: true}, 5*time.Second).Send(context.Background(),
		webhook.Delivery{URL: url, Header: webhook.StandardHeaders("msg_env", time.Now(), body, newKey), Body: body})
	if r.Status != http.StatusNoContent {
		t.Fatalf("%+v", r)
	}
	if l := c.line(t); !strings.Contains(l, "  msg_env  step.updated  signature ok  ") {
		t.Fatalf("printed %q", l)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	if code := c.wait(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, c.logs())
	}
}

// Without any secret the listener says so and prints messages unverified.
func TestWebhookListenUnverified(t *testing.T) {
	c, url := listen(t, []string{"VERIGATE_WEBHOOK_SECRET="})
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"type":"call.queued"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("unsigned message: %d", resp.StatusCode)
	}
	if l := c.line(t); !strings.Contains(l, `  -  call.queued  unverified  {"type":"call.queued"}`) {
		t.Fatalf("printed %q", l)
	}
	c.cmd.Process.Signal(syscall.SIGINT)
	if code := c.wait(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// A malformed secret is a usage error that does not echo the secret.
func TestWebhookListenBadSecret(t *testing.T) {
	c := cli{t: t, dataDir: t.TempDir()}
	code, out, errs := c.run("", "webhook", "listen", "--addr", "127.0.0.1:0", "--secret", webhook.NewSecret(), "--secret", "whsec_c2VjcmV0")
	if code != 2 || out != "" || !strings.Contains(errs, "--secret: secret 2 is malformed") || strings.Contains(errs, "c2VjcmV0") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
