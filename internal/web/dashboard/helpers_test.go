package dashboard_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

// seedUser creates a person with a built-in role in organization org
// (created as a reseller when missing) and returns email and password.
func seedUser(t *testing.T, e *apptest.Env, org, role string) (string, string) {
	t.Helper()
	if _, err := e.App.Access.Organization(e.System, org); err != nil {
		e.SeedReseller(org, org+"-cu")
	}
	email, password := role+"@"+org+".test", "password of "+role+" at "+org
	if _, err := e.App.Access.CreateUser(e.System, access.UserInput{OrgKey: org, Email: email, Username: role + "-" + org,
		Password: password, Roles: []string{role}}); err != nil {
		t.Fatal(err)
	}
	return email, password
}

// browser is a person's browser against the app: it keeps cookies and
// the last page's form token, and follows no redirects by itself.
type browser struct {
	t       *testing.T
	e       *apptest.Env
	cookies map[string]string
	csrf    string
	remote  string
	header  http.Header
}

func newBrowser(t *testing.T, e *apptest.Env) *browser {
	return &browser{t: t, e: e, cookies: map[string]string{}, remote: "192.0.2.10:1234", header: http.Header{}}
}

// page is a response, its body as text.
type page struct {
	Status int
	Header http.Header
	Body   string
}

// Location is where a redirect goes.
func (p *page) Location() string { return p.Header.Get("Location") }

// Text is the page's text with tags removed, spaces collapsed.
func (p *page) Text() string {
	s := regexp.MustCompile(`(?s)<style.*?</style>|<[^>]+>`).ReplaceAllString(p.Body, " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	req.RemoteAddr = b.remote
	for k, vs := range b.header {
		req.Header[k] = vs
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.e.App.Server.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	p := &page{Status: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
	if m := csrfField.FindStringSubmatch(p.Body); m != nil {
		b.csrf = html.UnescapeString(m[1])
	}
	if p.Status >= 500 {
		b.t.Errorf("%s %s = %d\n%s", req.Method, req.URL, p.Status, p.Text())
	}
	return p
}

// get fetches a page.
func (b *browser) get(path string) *page {
	b.t.Helper()
	return b.do(httptest.NewRequest("GET", path, nil))
}

// post submits a form with the last page's token.
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// follow fetches where a redirect goes.
func (b *browser) follow(p *page) *page {
	b.t.Helper()
	if p.Status != http.StatusSeeOther && p.Status != http.StatusFound {
		b.t.Fatalf("not a redirect: %d %s", p.Status, p.Text())
	}
	return b.get(p.Location())
}

// signIn signs a person in through the sign-in form.
func signIn(t *testing.T, e *apptest.Env, email, password string) *browser {
	t.Helper()
	b := newBrowser(t, e)
	b.get("/dashboard/sign-in")
	p := b.post("/dashboard/sign-in", url.Values{"email": {email}, "password": {password}})
	if p.Status != http.StatusSeeOther || p.Location() != "/dashboard/" {
		t.Fatalf("sign in as %s: %d %s %s", email, p.Status, p.Location(), p.Text())
	}
	return b
}

// mode shows the person live or test data.
func (b *browser) mode(m string) {
	b.t.Helper()
	b.get("/dashboard/")
	if p := b.post("/dashboard/mode", url.Values{"mode": {m}}); p.Status != http.StatusSeeOther {
		b.t.Fatalf("mode %s: %d %s", m, p.Status, p.Text())
	}
}

// as signs in a new person with a built-in role in org.
func as(t *testing.T, e *apptest.Env, org, role string) *browser {
	t.Helper()
	email, password := seedUser(t, e, org, role)
	return signIn(t, e, email, password)
}

// save writes a page's HTML under tmp/pages for a person to look at.
func save(t *testing.T, name string, p *page) {
	dir := filepath.Join("..", "..", "..", "tmp", "pages")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name+".html"), []byte(p.Body), 0o644)
}
