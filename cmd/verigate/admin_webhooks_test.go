package main

import (
	"strings"
	"testing"
)

// TestAdminWebhook: admin webhook create shows the secret once and the
// endpoint lists in its mode only; a loopback URL is refused (private
// targets are not allowed here).
func TestAdminWebhook(t *testing.T) {
	c := cli{t: t, dataDir: t.TempDir()}
	c.ok(nil, "", "admin", "org", "create", "--kind", "reseller", "--key", "acme", "--name", "Acme")
	var created struct{ ID, Secret, Mode string }
	c.ok(&created, "", "admin", "webhook", "create", "--org", "acme", "--url", "https://93.184.215.14/hooks", "--events", "verification.created")
	if !strings.HasPrefix(created.Secret, "whsec_") || created.Mode != "live" {
		t.Fatalf("create: %+v", created)
	}
	var live, test []struct{ ID, URL string }
	c.ok(&live, "", "admin", "webhook", "list", "--org", "acme")
	c.ok(&test, "", "admin", "webhook", "list", "--org", "acme", "--mode", "test")
	if len(live) != 1 || live[0].ID != created.ID || len(test) != 0 {
		t.Fatalf("live %+v, test %+v", live, test)
	}
	if strings.Contains(c.dump(), created.Secret) {
		t.Fatal("the secret is stored in plain text")
	}
	for _, args := range [][]string{
		{"admin", "webhook", "create", "--org", "acme", "--url", "http://127.0.0.1:9/"},
		{"admin", "webhook", "create", "--org", "acme", "--url", "https://93.184.215.14/", "--events", "no.such"},
		{"admin", "webhook", "create", "--org", "acme", "--url", "https://93.184.215.14/", "--mode", "staging"},
		{"admin", "webhook", "list", "--org", "nope"},
	} {
		if code, _, errs := c.run("", args...); code == 0 || errs == "" {
			t.Errorf("verigate %s: exit %d, stderr %q; want a refusal", strings.Join(args, " "), code, errs)
		}
	}
}
