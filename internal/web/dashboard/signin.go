package dashboard

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/web/ui"
)

// home sends the bare prefix to the overview.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/dashboard/", http.StatusSeeOther)
	return nil
}

// signInView is the sign-in page.
type signInView struct {
	Email, Next, Error string
	SignedOut          bool
}

// signInPage shows the form; a person already signed in goes on. The
// form is bound to a cookie of its own (login CSRF: nobody can post
// their own credentials through someone else's browser).
func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(cookieName(r)); err == nil {
		if _, _, err := h.Access.DashboardSession(r.Context(), c.Value); err == nil {
			http.Redirect(w, r, nextPath(r.URL.Query().Get("next")), http.StatusSeeOther)
			return nil
		}
	}
	v := signInView{Next: nextPath(r.URL.Query().Get("next")), SignedOut: r.URL.Query().Has("signed_out")}
	if v.SignedOut {
		v.Next = "/dashboard/"
	}
	h.renderSignIn(w, r, http.StatusOK, v)
	return nil
}

func (h *Handler) renderSignIn(w http.ResponseWriter, r *http.Request, status int, v signInView) {
	b := make([]byte, 18)
	rand.Read(b)
	bind := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: bind, Path: "/dashboard/", MaxAge: 3600, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: ui.Secure(r)})
	renderPage(w, status, "signin", &page{Title: "Sign in", Nonce: ui.Nonce(), CSRF: h.formToken("sign-in", bind), Data: v})
}

// signIn checks the credentials (the per-address limit first, then the
// account lockout of every sign-in) and opens a new session: a new
// secret every time, and the old one, if any, ended.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) error {
	if err := httpapi.LimitClient(r, h.Limiter, "signin", httpapi.SignInLimit, h.Now()); err != nil {
		return err
	}
	bind, _ := r.Cookie(signInCookie)
	token := "-"
	if bind != nil && bind.Value != "" {
		token = h.formToken("sign-in", bind.Value)
	}
	if err := h.readForm(r, token); err != nil {
		return err
	}
	v := signInView{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: nextPath(r.PostForm.Get("next"))}
	secret, _, err := h.Access.SignInDashboard(r.Context(), v.Email, r.PostForm.Get("password"))
	switch {
	case err == access.ErrBadCredentials:
		v.Error = "That email and password do not match an active account."
		h.renderSignIn(w, r, http.StatusUnauthorized, v)
		return nil
	case verigate.ErrorCode(err) == verigate.ERATELIMITED:
		httpapi.SetRetryAfter(w, err)
		v.Error = verigate.ErrorMessage(err)
		h.renderSignIn(w, r, http.StatusTooManyRequests, v)
		return nil
	case err != nil:
		return err
	}
	h.endOldSession(r)
	setCookie(w, r, secret)
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
	return nil
}

// sso opens the dashboard with a single-use login token: the URL
// Confirm's login-as and user-token calls return. The token is used up
// here; the address bar loses it by the redirect.
func (h *Handler) sso(w http.ResponseWriter, r *http.Request) error {
	if err := httpapi.LimitClient(r, h.Limiter, "signin", httpapi.SignInLimit, h.Now()); err != nil {
		return err
	}
	token, err := httpapi.QueryString(r, "token")
	if err != nil {
		return err
	}
	// Followed from another site by a browser already signed in: someone
	// may be slipping their link in to move this person into their
	// dashboard. Ask first; the link is not used until the person says so.
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		if c, err := r.Cookie(cookieName(r)); err == nil {
			if sess, _, err := h.Access.DashboardSession(r.Context(), c.Value); err == nil {
				renderPage(w, http.StatusOK, "sso-confirm", &page{Title: "Open another dashboard?", Nonce: ui.Nonce(),
					CSRF: h.formToken("session", c.Value), Data: struct{ Token, User string }{token, sess.RequestedBy}})
				return nil
			}
		}
	}
	return h.useLoginToken(w, r, token)
}

// ssoConfirm uses a login link the signed-in person chose to follow.
func (h *Handler) ssoConfirm(q *req) error {
	return h.useLoginToken(q.w, q.r, q.r.PostForm.Get("token"))
}

// useLoginToken opens the session a login token gives, in place of the
// one the browser held.
func (h *Handler) useLoginToken(w http.ResponseWriter, r *http.Request, token string) error {
	secret, _, err := h.Access.SignInDashboardWithLoginToken(r.Context(), token)
	if err != nil {
		return err
	}
	h.endOldSession(r)
	setCookie(w, r, secret)
	http.Redirect(w, r, "/dashboard/", http.StatusSeeOther)
	return nil
}

// endOldSession ends the session a browser signing in again still holds.
func (h *Handler) endOldSession(r *http.Request) {
	c, err := r.Cookie(cookieName(r))
	if err != nil {
		return
	}
	if sess, p, err := h.Access.DashboardSession(r.Context(), c.Value); err == nil {
		h.Access.SignOutDashboard(verigate.WithPrincipal(r.Context(), p), sess)
	}
}

func (h *Handler) signOut(q *req) error {
	if err := q.h.Access.SignOutDashboard(q.ctx, q.sess); err != nil && verigate.ErrorCode(err) != verigate.ECONFLICT {
		return err
	}
	clearCookie(q.w, q.r)
	return q.redirect("/dashboard/sign-in?signed_out=1", "")
}

// switchOrg moves the session to another organization it may act in.
func (h *Handler) switchOrg(q *req) error {
	if err := h.Access.SwitchDashboardOrg(q.ctx, q.sess, q.r.PostForm.Get("org")); err != nil {
		return err
	}
	return q.redirect("/dashboard/", "Switched organization.")
}

// switchMode shows live or test data.
func (h *Handler) switchMode(q *req) error {
	mode := verigate.Mode(q.r.PostForm.Get("mode"))
	if err := h.Access.SwitchDashboardMode(q.ctx, q.sess, mode); err != nil {
		return err
	}
	// Back to the section the person was in (its list: an object of one
	// mode is not found in the other).
	back := nextPath(q.r.PostForm.Get("back"))
	if mode == verigate.ModeTest {
		return q.redirect(back, "Showing test data.")
	}
	return q.redirect(back, "Showing live data.")
}

// nextPath is where to go after signing in: a dashboard path only.
func nextPath(next string) string {
	if strings.HasPrefix(next, "/dashboard/") && !strings.ContainsAny(next, "\\\r\n") && !strings.HasPrefix(next, "//") && len(next) < 500 {
		return next
	}
	return "/dashboard/"
}
