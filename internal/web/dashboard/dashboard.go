// Package dashboard is the operator dashboard: the server-rendered pages
// (html/template, embedded; no JavaScript needed) where reviewers,
// operators, developers and admins work, and where Confirm's login-as
// and user-token URLs land. Each handler decodes, makes one use-case call
// on a service shared with the JSON surfaces, and renders; the pages hold
// no business logic and check every page and action against the one
// permission table (authz.Routes), which also decides which links a
// person sees.
//
// A person is authenticated by an HttpOnly, SameSite=Lax cookie holding
// a dashboard session's secret (access.DashboardSession: 30 minutes idle,
// an absolute cap, revoked by signing out); every form carries a token
// bound to that cookie, checked before anything runs.
package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/authz"
	"github.com/verigate/verigate/internal/calls"
	"github.com/verigate/verigate/internal/connect"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/ratelimit"
	"github.com/verigate/verigate/internal/verification"
	"github.com/verigate/verigate/internal/web/ui"
)

// Handler serves /dashboard/.
type Handler struct {
	Access       *access.Service
	Verification *verification.Service
	Calls        *calls.Service
	Connect      *connect.Service
	Webhooks     *delivery.Service
	Limiter      ratelimit.Store
	Log          *slog.Logger
	// FormKey keys the form tokens (an HMAC of the session cookie).
	FormKey   []byte
	PublicURL string
	Now       func() time.Time
}

// Surface returns the surface, mounted at /dashboard/.
func (h *Handler) Surface(bodyLimit int64) *httpapi.Surface {
	s := httpapi.NewSurface(h.renderError, h.Log, bodyLimit, "/dashboard/")
	rt := &router{h: h, s: s}
	rt.public("GET /dashboard", h.home)
	rt.public("GET /dashboard/sign-in", h.signInPage)
	rt.public("POST /dashboard/sign-in", h.signIn)
	rt.public("GET /dashboard/sso", h.sso)
	rt.form("POST /dashboard/sso", h.ssoConfirm)
	rt.form("POST /dashboard/sign-out", h.signOut)
	rt.form("POST /dashboard/org", h.switchOrg)
	rt.form("POST /dashboard/mode", h.switchMode)
	rt.page("GET /dashboard/{$}", h.overview)
	for _, routes := range []func(*router){h.verificationRoutes, h.reviewRoutes, h.callRoutes, h.connectionRoutes,
		h.apiKeyRoutes, h.webhookRoutes, h.userRoutes, h.auditRoutes, h.settingsRoutes} {
		routes(rt)
	}
	return s
}

// router registers a surface's routes with the dashboard's auth chain.
type router struct {
	h *Handler
	s *httpapi.Surface
}

// pageFunc is a page or an action, for a signed-in person.
type pageFunc func(q *req) error

// page registers a GET page for a signed-in person.
func (rt *router) page(pattern string, fn pageFunc) { rt.s.Handle(pattern, rt.h.wrap(rt.s, fn, false)) }

// form registers a form's POST for a signed-in person: its token is
// checked before fn runs.
func (rt *router) form(pattern string, fn pageFunc) { rt.s.Handle(pattern, rt.h.wrap(rt.s, fn, true)) }

// public registers a route that needs no session (sign-in).
func (rt *router) public(pattern string, fn func(w http.ResponseWriter, r *http.Request) error) {
	rt.s.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			rt.s.Fail(w, r, err)
		}
	}))
}

// req is a signed-in request.
type req struct {
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	p      *verigate.Principal
	sess   *verigate.DashboardSession
	nonce  string
	csrf   string
	orgs   []*verigate.Organization // loaded on first use
	orgErr error
}

// Errors of the dashboard's own.
var (
	errSignedOut = verigate.Errorf(verigate.EUNAUTHENTICATED, "Sign in to continue.")
	errForm      = verigate.Errorf(verigate.EFORBIDDEN, "This form has expired or did not come from this dashboard. Nothing was changed.")
)

// reqKey carries the signed-in request to the error page, which then
// shows the navigation.
type reqKey struct{}

func (h *Handler) wrap(s *httpapi.Surface, fn pageFunc, isForm bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := h.authenticate(w, r, isForm)
		if err == nil {
			r = r.WithContext(context.WithValue(r.Context(), reqKey{}, q))
			q.r = r
			err = fn(q)
		}
		if err != nil {
			s.Fail(w, r, err)
		}
	})
}

// authenticate reads the session cookie, checks the permission table and,
// for a form, its token and text.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request, isForm bool) (*req, error) {
	c, err := r.Cookie(cookieName(r))
	if err != nil || c.Value == "" {
		return nil, errSignedOut
	}
	sess, p, err := h.Access.DashboardSession(r.Context(), c.Value)
	if err != nil {
		if verigate.ErrorCode(err) == verigate.EUNAUTHENTICATED {
			clearCookie(w, r)
			return nil, errSignedOut
		}
		return nil, err
	}
	q := &req{h: h, w: w, r: r, ctx: verigate.WithPrincipal(r.Context(), p), p: p, sess: sess, nonce: ui.Nonce(),
		csrf: h.formToken("session", c.Value)}
	if err := authz.Check(r.Pattern, p); err != nil {
		return q, err
	}
	if isForm {
		if err := h.readForm(r, q.csrf); err != nil {
			return q, err
		}
	}
	return q, nil
}

// readForm parses a posted form bound to token (ui.ReadForm).
func (h *Handler) readForm(r *http.Request, token string) error {
	return ui.ReadForm(r, token, errForm)
}

// formToken binds a form to a cookie: an HMAC of it, so that only a page
// that could read the cookie's session can post.
func (h *Handler) formToken(purpose, cookie string) string {
	m := hmac.New(sha256.New, h.FormKey)
	m.Write([]byte("verigate dashboard " + purpose + "\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Cookies. Over HTTPS the session cookie takes the __Host- prefix: the
// browser then only accepts it Secure, for this host and path /.
const (
	sessionCookie = "vg_dash"
	signInCookie  = "vg_dash_signin" // binds the sign-in form
	flashCookie   = "vg_dash_flash"  // a one-time notice after a redirect
)

func cookieName(r *http.Request) string {
	if ui.Secure(r) {
		return "__Host-" + sessionCookie
	}
	return sessionCookie
}

func setCookie(w http.ResponseWriter, r *http.Request, secret string) {
	http.SetCookie(w, &http.Cookie{Name: cookieName(r), Value: secret, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: ui.Secure(r)})
}

func clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName(r), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: ui.Secure(r)})
}

// flash leaves a notice for the next page this person sees.
func (q *req) flash(msg string) {
	http.SetCookie(q.w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/dashboard/", MaxAge: 60,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: ui.Secure(q.r)})
}

// takeFlash reads and clears the notice.
func (q *req) takeFlash() string {
	c, err := q.r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(q.w, &http.Cookie{Name: flashCookie, Value: "", Path: "/dashboard/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: ui.Secure(q.r)})
	msg, err := url.QueryUnescape(c.Value)
	if err != nil || !utf8.ValidString(msg) || len(msg) > 300 {
		return ""
	}
	return msg
}

// redirect answers a form or a page that moved on: 303 to path, with an
// optional notice for the page.
func (q *req) redirect(path, notice string) error {
	if notice != "" {
		q.flash(notice)
	}
	http.Redirect(q.w, q.r, path, http.StatusSeeOther)
	return nil
}

// Orgs are the organizations this session may switch to.
func (q *req) Orgs() []*verigate.Organization {
	if q.orgs == nil && q.orgErr == nil {
		q.orgs, q.orgErr = q.h.Access.DashboardOrgs(q.ctx, q.sess)
	}
	return q.orgs
}

// Org is the organization the session acts in.
func (q *req) Org() (*verigate.Organization, error) {
	for _, o := range q.Orgs() {
		if o.ID == q.sess.OrgID {
			return o, nil
		}
	}
	if q.orgErr != nil {
		return nil, q.orgErr
	}
	return nil, errSignedOut // the organization left the session's reach
}
