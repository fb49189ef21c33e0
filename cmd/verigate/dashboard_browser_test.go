package main

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/web/webtest"
)

// dashboardPassword is every seeded person's password.
const dashboardPassword = "dashboard password 1"

// seedPeople gives Northwind a person of every built-in role
// (<role>@northwind.test) and an institution, Northwind Credit Union.
func seedPeople(t *testing.T) func(a *app.App, sys context.Context) {
	return func(a *app.App, sys context.Context) {
		if _, err := a.Access.CreateOrganization(sys, access.OrgInput{Kind: verigate.OrgInstitution, Key: "northwind-cu",
			Name: "Northwind Credit Union", ParentKey: "northwind", Core: "Symitar"}); err != nil {
			t.Fatal(err)
		}
		for _, role := range verigate.BuiltinRoles {
			if _, err := a.Access.CreateUser(sys, access.UserInput{OrgKey: "northwind", Email: role + "@northwind.test",
				Username: role, Password: dashboardPassword, Roles: []string{role}}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// signInDashboard signs a person in through the form, in a browser
// whose earlier session is ended first.
func (s *journeyServer) signInDashboard(t *testing.T, ctx context.Context, email string) {
	t.Helper()
	webtest.Navigate(t, ctx, s.base+"/dashboard/")
	if signedIn, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('form[action="/dashboard/sign-out"]')`)); signedIn {
		webtest.Click(t, ctx, `form[action="/dashboard/sign-out"] button`)
		webtest.WaitURL(t, ctx, s.base+"/dashboard/sign-in")
	}
	webtest.Navigate(t, ctx, s.base+"/dashboard/sign-in")
	webtest.Type(t, ctx, "#email", email)
	webtest.Type(t, ctx, "#password", dashboardPassword)
	webtest.Click(t, ctx, `form[action="/dashboard/sign-in"] button`)
	s.page(t, ctx, "/dashboard/", "Overview", "")
}

var idInPath = regexp.MustCompile(`/[0-9a-f-]{8,}|/[0-9]+`)

// crawlDashboard opens every dashboard page reachable by links from the
// overview, as the person signed in: each answers 200 (no page the role
// may not use is linked) and, the first time its kind of page is seen,
// passes the page checks (axe-core, overflow, console, CSP) and is
// screenshot as <role>-<page>.
func (s *journeyServer) crawlDashboard(t *testing.T, ctx context.Context, role string, checked map[string]bool) {
	t.Helper()
	queue, visited := []string{"/dashboard/"}, map[string]bool{}
	for len(queue) > 0 && len(visited) < 60 {
		path := queue[0]
		queue = queue[1:]
		if visited[path] {
			continue
		}
		visited[path] = true
		if code := webtest.Navigate(t, ctx, s.base+path); code != 200 {
			t.Errorf("%s: linked page %s answered %d", role, path, code)
			continue
		}
		kind := idInPath.ReplaceAllString(strings.SplitN(path, "?", 2)[0], "/id")
		if !checked[kind] {
			checked[kind] = true
			name := strings.Trim(strings.ReplaceAll(strings.TrimPrefix(kind, "/dashboard"), "/", "-"), "-")
			if name == "" {
				name = "overview"
			}
			checkPage(t, ctx, role+"-"+name)
		}
		links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('a[href^="/dashboard/"]')).map(a => a.getAttribute("href"))`))
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(links)
		for _, l := range links {
			if l = strings.SplitN(l, "#", 2)[0]; !visited[l] && !strings.HasPrefix(l, "/dashboard/sign-in") {
				queue = append(queue, l)
			}
		}
	}
	t.Logf("%s: %d pages", role, len(visited))
}

// TestBrowserDashboard works the dashboard in headless chromium against
// the real binary, as every built-in role.
func TestBrowserDashboard(t *testing.T) {
	ctx := webtest.New(t)
	s := startJourneyServer(t, seedPeople(t))
	webtest.Desktop(t, ctx)

	// The sign-in page, on a phone and a desktop.
	webtest.Navigate(t, ctx, s.base+"/dashboard/sign-in")
	s.page(t, ctx, "/dashboard/sign-in", "Sign in", "sign-in-desktop")
	webtest.Phone(t, ctx)
	checkPage(t, ctx, "sign-in")
	webtest.Desktop(t, ctx)

	t.Run("crawl", func(t *testing.T) {
		s.create(t, "st-crawl", "Sandbox Bank", "Sandbox Reclaim")
		checked := map[string]bool{}
		for _, role := range verigate.BuiltinRoles {
			s.signInDashboard(t, ctx, role+"@northwind.test")
			// Northwind's verifications are test data.
			webtest.Click(t, ctx, `form[action="/dashboard/mode"] button`)
			webtest.WaitVisible(t, ctx, "p.notice")
			s.crawlDashboard(t, ctx, role, checked)
		}
	})
}
