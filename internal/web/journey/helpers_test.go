package journey_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

// fixture is a reseller's institution with a test-mode API key.
type fixture struct {
	e   *apptest.Env
	key string
}

func newFixture(t *testing.T, e *apptest.Env) *fixture {
	r := e.SeedReseller("acme", "acme-cu")
	scopes := []string{"verifications:create", "verifications:read", "verifications:update", "verifications:review", "sources:read"}
	k, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: "acme", UserEmail: r.Email, Scopes: scopes, Mode: verigate.ModeTest})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{e: e, key: k}
}

type session struct {
	ID    int64
	Token string
}

func (f *fixture) session(t *testing.T, params map[string]any) session {
	t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	params["expiryDate"] = f.e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)
	params["institutionKey"] = "acme-cu"
	resp := f.e.Do("POST", "/partner/session", map[string]any{"params": params}, "x-api-key", f.key)
	if resp.Status != 201 {
		t.Fatalf("create session: %d %s", resp.Status, resp.Body)
	}
	var c struct {
		Data struct {
			ID               int64
			VerificationLink struct{ Token string }
		}
	}
	resp.Decode(t, &c)
	return session{c.Data.ID, c.Data.VerificationLink.Token}
}

func (s session) link() string {
	return fmt.Sprintf("/partner/verification/verify?token=%s&sessionId=%d", url.QueryEscape(s.Token), s.ID)
}

// browser is a browser against the app: it keeps the journey cookie and
// the last page's form token.
type browser struct {
	t      *testing.T
	e      *apptest.Env
	cookie string
	csrf   string
	last   *page
}

type page struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(method, path string, form url.Values) *page {
	b.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	if b.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "vg_journey", Value: b.cookie})
	}
	rec := httptest.NewRecorder()
	b.e.App.Server.ServeHTTP(rec, req)
	// Every journey answer is in the OpenAPI document too.
	b.e.V.Check(b.t, req, rec.Code, rec.Header(), rec.Body.Bytes())
	p := &page{Status: rec.Code, Header: rec.Header(), Body: rec.Body.String(), Location: rec.Header().Get("Location")}
	for _, c := range rec.Result().Cookies() {
		if c.Name == "vg_journey" {
			b.cookie = c.Value
		}
	}
	if m := csrfField.FindStringSubmatch(p.Body); m != nil {
		b.csrf = html.UnescapeString(m[1])
	}
	b.last = p
	dump(b.t, p)
	return p
}

var dumped = 0

// dump writes each HTML page to $JOURNEY_PAGES_DIR, when set, to look at
// (a headless browser can screenshot them).
func dump(t *testing.T, p *page) {
	dir := os.Getenv("JOURNEY_PAGES_DIR")
	if dir == "" || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") || !strings.Contains(t.Name(), "sqlite") {
		return
	}
	dumped++
	title := regexp.MustCompile(`<title>([^<·]+)`).FindStringSubmatch(p.Body)
	name := fmt.Sprintf("%02d", dumped)
	if title != nil {
		name += "-" + strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(title[1]), "-"), "-")
	}
	os.WriteFile(filepath.Join(dir, name+".html"), []byte(p.Body), 0o644)
}

// get follows redirects (at most 10) and returns the last page.
func (b *browser) get(path string) *page {
	b.t.Helper()
	p := b.do("GET", path, nil)
	for i := 0; i < 10 && p.Status == http.StatusSeeOther; i++ {
		p = b.do("GET", p.Location, nil)
	}
	return p
}

// post sends a form with the page's token, then follows the redirect.
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf)
	}
	p := b.do("POST", path, form)
	if p.Status == http.StatusSeeOther {
		return b.get(p.Location)
	}
	return p
}

// wantPage checks a page: its status, its security headers, that it has
// one h1, and that it holds each of texts.
func wantPage(t *testing.T, p *page, status int, texts ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d\n%s", p.Status, status, p.Body)
	}
	csp := p.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'nonce-", "frame-ancestors", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if p.Header.Get("Referrer-Policy") != "no-referrer" || p.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers: %v", p.Header)
	}
	if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") || !strings.Contains(p.Body, `<html lang="en">`) {
		t.Errorf("not an HTML page with a language: %s", p.Header.Get("Content-Type"))
	}
	if n := strings.Count(p.Body, "<h1"); n != 1 {
		t.Errorf("%d h1 headings", n)
	}
	if !strings.Contains(p.Body, "<main") || !strings.Contains(p.Body, "<header") {
		t.Errorf("landmarks missing")
	}
	// Every input but hidden ones has a label.
	for _, m := range regexp.MustCompile(`<input [^>]*id="([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
		if !strings.Contains(p.Body, `for="`+m[1]+`"`) {
			t.Errorf("input %s has no label", m[1])
		}
	}
	for _, text := range texts {
		if !strings.Contains(p.Body, text) {
			t.Errorf("page lacks %q:\n%s", text, p.Body)
		}
	}
}

// open starts a browser on a session's link.
func (f *fixture) open(t *testing.T, s session) (*browser, *page) {
	b := &browser{t: t, e: f.e}
	p := b.do("GET", s.link(), nil)
	if p.Status != http.StatusSeeOther || p.Location != fmt.Sprintf("/journey/sessions/%d", s.ID) || b.cookie == "" {
		t.Fatalf("link: %d %v", p.Status, p.Header)
	}
	return b, b.get(p.Location)
}

// returnLink is the done page's link back to the partner.
func returnLink(t *testing.T, body string) *url.URL {
	t.Helper()
	m := regexp.MustCompile(`<a[^>]+href="(https://partner\.example/[^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no return link in %s", body)
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// liveState is the state a progress page shows (its data-state).
func liveState(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`data-state="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no live state in %s", body)
	}
	return html.UnescapeString(m[1])
}
