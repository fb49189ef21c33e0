package main

import (
	"strings"
	"testing"
)

func TestAdminOrgJourney(t *testing.T) {
	c := cli{t: t, dataDir: t.TempDir()}
	c.ok(nil, "", "admin", "org", "create", "--kind", "reseller", "--key", "acme", "--name", "Acme Reseller")
	var out struct {
		Journey struct {
			LogoURL        string
			FrameAncestors []string
		}
	}
	c.ok(&out, "", "admin", "org", "journey", "acme", "--logo-url", "https://cdn.acme.example/logo.png", "--frame-ancestors", "https://app.acme.example/, https://www.acme.example")
	if out.Journey.LogoURL != "https://cdn.acme.example/logo.png" || strings.Join(out.Journey.FrameAncestors, " ") != "https://app.acme.example https://www.acme.example" {
		t.Fatalf("org journey: %+v", out)
	}
	if !strings.Contains(c.dump(), "https://app.acme.example https://www.acme.example") {
		t.Fatalf("the settings were not stored")
	}
	for _, bad := range [][]string{{"--logo-url", "http://cdn.acme.example/logo.png"}, {"--frame-ancestors", "https://a.example/path"}, {"--frame-ancestors", "*"}} {
		if code, _, errs := c.run("", append([]string{"admin", "org", "journey", "acme"}, bad...)...); code == 0 || !strings.Contains(errs, "https") {
			t.Errorf("org journey %v: exit %d %s", bad, code, errs)
		}
	}
	if code, _, _ := c.run("", "admin", "org", "journey", "nope"); code == 0 {
		t.Errorf("org journey for a missing organization succeeded")
	}
}
