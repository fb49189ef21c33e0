// Package journey is the hosted applicant journey: the server-rendered
// pages behind every verification link (html/template, embedded; no
// JavaScript needed, a little progressive script with a CSP nonce). Each
// handler decodes, makes one use-case call on verification.Service, and
// renders; the pages hold no verification logic.
//
// The applicant is authenticated by an HttpOnly, SameSite=Lax cookie
// holding the applicant token that opening the link gave (the link token
// itself leaves the address bar by the redirect that sets it). Every form
// carries a token bound to that cookie (an HMAC of it), checked before
// anything runs. The one route without the cookie is the Reclaim app's
// callback, a JSON route authenticated by a key in its path (callback.go).
package journey

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/authz"
	"github.com/verigate/verigate/internal/ratelimit"
	"github.com/verigate/verigate/internal/verification"
	"github.com/verigate/verigate/internal/web/ui"
)

// Cookie is the applicant cookie of the journey.
const Cookie = "vg_journey"

// Handler serves /journey/ and the browser side of the verification link.
type Handler struct {
	Verification *verification.Service
	Limiter      ratelimit.Store
	Log          *slog.Logger
	// FormKey keys the form tokens (an HMAC of the applicant cookie).
	FormKey []byte
	// Return is where the done page sends the applicant back to the
	// partner ("" for nowhere): the session's redirect URL, signed.
	Return func(ctx context.Context, sessionID int64) (string, error)
	// Draining ends the live-progress streams when shutdown begins.
	Draining <-chan struct{}
	Now      func() time.Time
}

// Rate limits.
var (
	// LinkLimit bounds link openings per client address (a guessed token
	// costs as much as a right one).
	LinkLimit = ratelimit.Policy{TTL: time.Minute, Limit: 30, BlockDuration: time.Minute}
	// PageLimit bounds each session's journey requests.
	PageLimit = ratelimit.Policy{TTL: time.Minute, Limit: 300, BlockDuration: time.Minute}
	// FormLimit bounds each session's credential and code submissions
	// (the connection limits codes per login too).
	FormLimit = ratelimit.Policy{TTL: time.Minute, Limit: 10, BlockDuration: 5 * time.Minute}
)

// Surface returns the surface, mounted at /journey/.
func (h *Handler) Surface(bodyLimit int64) *httpapi.Surface {
	s := httpapi.NewSurface(h.renderError, h.Log, bodyLimit, "/journey/")
	page := func(pattern string, fn pageFunc) { s.Handle(pattern, h.wrap(s, fn, false)) }
	form := func(pattern string, fn pageFunc) { s.Handle(pattern, h.wrap(s, fn, true)) }
	page("GET /journey/sessions/{sessionId}", h.resume)
	page("GET /journey/sessions/{sessionId}/consent", h.consentPage)
	form("POST /journey/sessions/{sessionId}/consent", h.consent)
	page("GET /journey/sessions/{sessionId}/sources", h.sourcesPage)
	form("POST /journey/sessions/{sessionId}/sources", h.selectSources)
	page("GET /journey/sessions/{sessionId}/progress", h.progress)
	page("GET /journey/sessions/{sessionId}/events", h.events)
	page("GET /journey/sessions/{sessionId}/done", h.done)
	form("POST /journey/steps/{stepId}/initiate", h.initiate)
	page("GET /journey/steps/{stepId}/connect", h.connectPage)
	form("POST /journey/steps/{stepId}/connect", h.connect)
	form("POST /journey/steps/{stepId}/code", h.code)
	page("GET /journey/steps/{stepId}/reclaim", h.reclaimPage)
	page("GET /journey/steps/{stepId}/sandbox", h.sandboxPage)
	form("POST /journey/steps/{stepId}/proof", h.proof)
	// The Reclaim app's callback: no cookie, its own key (callback.go).
	s.Handle("POST /journey/steps/{stepId}/callback/{key}", http.HandlerFunc(h.callback))
	return s
}

// req is a journey request, authenticated.
type req struct {
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	nonce  string
	form   string // this applicant's form token
	sessID int64  // the applicant's session
}

type pageFunc func(q *req) error

// wrap authenticates the applicant cookie, rate-limits, checks the
// permission table and, for a form, its token; then runs fn.
func (h *Handler) wrap(s *httpapi.Surface, fn pageFunc, isForm bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, err := h.serve(w, r, fn, isForm); err != nil {
			if id != 0 {
				// The error page leads back into the applicant's session.
				r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, id))
			}
			s.Fail(w, r, err)
		}
	})
}

// Errors of the journey's own.
var (
	errNoCookie = verigate.Errorf(verigate.EUNAUTHENTICATED, "Your secure session has ended.")
	errForm     = verigate.Errorf(verigate.EFORBIDDEN, "This form has expired or did not come from this page.")
)

// sessionKey carries the applicant's session to the error page.
type sessionKey struct{}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, fn pageFunc, isForm bool) (int64, error) {
	c, err := r.Cookie(Cookie)
	if err != nil || c.Value == "" {
		return 0, errNoCookie
	}
	p, renewed, err := h.Verification.KeepApplicant(r.Context(), c.Value)
	if err != nil {
		if verigate.ErrorCode(err) == verigate.EUNAUTHENTICATED {
			return 0, errNoCookie
		}
		return 0, err
	}
	if !renewed.IsZero() {
		h.setCookie(w, r, c.Value, renewed)
	}
	if err := h.limit(w, r, "journey:session:"+strconv.FormatInt(p.SessionID, 10), PageLimit); err != nil {
		return p.SessionID, err
	}
	if err := authz.Check(r.Pattern, p); err != nil {
		return p.SessionID, err
	}
	q := &req{w: w, r: r, ctx: verigate.WithPrincipal(r.Context(), p), nonce: ui.Nonce(), form: h.formToken(c.Value), sessID: p.SessionID}
	if isForm {
		// Before anything runs: a form from elsewhere changes nothing.
		if err := ui.ReadForm(r, q.form, errForm); err != nil {
			return p.SessionID, err
		}
	}
	return p.SessionID, fn(q)
}

// formToken is the form token of an applicant cookie: an HMAC of it, so
// that only a page that could read the cookie's session can post.
func (h *Handler) formToken(cookie string) string {
	m := hmac.New(sha256.New, h.FormKey)
	m.Write([]byte("verigate journey form\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// limit applies a rate policy; a limiter outage lets the request through.
func (h *Handler) limit(w http.ResponseWriter, r *http.Request, key string, p ratelimit.Policy) error {
	res, err := h.Limiter.Hit(r.Context(), key, p, h.Now())
	if err != nil {
		h.Log.Error("rate limiter", "err", err, "request_id", verigate.RequestIDFrom(r.Context()))
		return nil
	}
	if res.Allowed {
		return nil
	}
	secs := httpapi.CeilSeconds(res.RetryAfter)
	e := verigate.Errorf(verigate.ERATELIMITED, "Too many attempts. Please wait %d seconds and try again.", secs)
	e.RetryAfter = time.Duration(secs) * time.Second
	return e
}

// pathID reads a numeric path parameter.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, verigate.Errorf(verigate.ENOTFOUND, "Not found")
	}
	return id, nil
}

// redirect answers a form or a page that moved on: 303 to path.
func redirect(q *req, path string) error {
	http.Redirect(q.w, q.r, path, http.StatusSeeOther)
	return nil
}

func sessionPath(id int64, page string) string {
	p := "/journey/sessions/" + strconv.FormatInt(id, 10)
	if page != "" {
		p += "/" + page
	}
	return p
}

func stepPath(id int64, page string) string {
	return "/journey/steps/" + strconv.FormatInt(id, 10) + "/" + page
}

// csp is the Content-Security-Policy of a page: nothing but its own
// nonce'd script and style, images from here (and the organization's
// logo), forms and event streams to here, framed only where the
// organization allows.
func csp(nonce string, settings verigate.JourneySettings) string {
	img := "'self' data:"
	if u, err := url.Parse(settings.LogoURL); err == nil && settings.LogoURL != "" {
		img += " " + u.Scheme + "://" + u.Host
	}
	frames := "'none'"
	if len(settings.FrameAncestors) > 0 {
		frames = strings.Join(settings.FrameAncestors, " ")
	}
	return "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'nonce-" + nonce + "'; img-src " + img +
		"; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors " + frames
}
