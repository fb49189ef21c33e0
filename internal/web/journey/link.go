package journey

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/verification"
	"github.com/verigate/verigate/internal/web/ui"
)

// Link is the browser side of GET /partner/verification/verify: it
// exchanges the link token for the applicant cookie and redirects (303)
// into the journey, which drops the token from the address bar. A link
// that does not open gets a page saying why and what to do.
func (h *Handler) Link(w http.ResponseWriter, r *http.Request) {
	if err := h.link(w, r); err != nil {
		h.linkProblem(w, r, err)
	}
}

func (h *Handler) link(w http.ResponseWriter, r *http.Request) error {
	if err := httpapi.LimitClient(r, h.Limiter, "journey:link", LinkLimit, h.Now()); err != nil {
		e := verigate.Errorf(verigate.ERATELIMITED, "Too many attempts. Please wait %d seconds and try again.",
			httpapi.CeilSeconds(verigate.RetryAfter(err)))
		e.RetryAfter = verigate.RetryAfter(err)
		return e
	}
	id, err := httpapi.QueryID(r, "sessionId")
	if err != nil || id <= 0 {
		return &verification.LinkError{Problem: verification.LinkInvalid}
	}
	token, err := httpapi.QueryString(r, "token")
	if err != nil {
		return &verification.LinkError{Problem: verification.LinkInvalid}
	}
	applicant, expires, sess, err := h.Verification.OpenJourney(r.Context(), token, id)
	if err != nil {
		return err
	}
	h.setCookie(w, r, applicant, expires)
	http.Redirect(w, r, sessionPath(sess.ID, ""), http.StatusSeeOther)
	return nil
}

// linkPages say, for each link problem, what happened and what to do.
var linkPages = map[verification.LinkProblem][2]string{
	verification.LinkInvalid: {"This link is not valid",
		"It may have been copied incompletely. Open the link from the original message again, or ask the organization that sent it for a new one."},
	verification.LinkRotated: {"This link has been replaced",
		"A newer link was sent for this verification, and this one no longer works. Use the most recent message you received."},
	verification.LinkExpired: {"This link has expired",
		"The verification ran out of time. Ask the organization that sent it for a new link."},
	verification.LinkCancelled: {"This verification was cancelled",
		"The request was cancelled by the organization that sent it. Contact them if you think this is a mistake."},
	verification.LinkFinished: {"You have already finished",
		"This verification is complete, so there is nothing more to do. You can close this page."},
}

func (h *Handler) linkProblem(w http.ResponseWriter, r *http.Request, err error) {
	var le *verification.LinkError
	if !errors.As(err, &le) {
		if verigate.ErrorCode(err) == verigate.EINTERNAL {
			httpapi.LogInternal(h.Log, r, err)
		}
		h.renderError(w, r, err)
		return
	}
	text := linkPages[le.Problem]
	v := &view{Title: text[0], Problem: string(le.Problem), Heading: text[0], Message: text[1]}
	if le.OrgName != "" {
		// A page in the colours of whoever sent the link, naming them.
		v.J = &verification.Journey{OrgName: le.OrgName, Settings: le.Settings}
		v.Message = strings.ReplaceAll(v.Message, "the organization that sent it", le.OrgName)
	}
	render(w, http.StatusUnauthorized, "problem", v)
}

// setCookie sets the applicant cookie: HttpOnly; SameSite=Lax, so that it
// is sent on the redirect that follows a click in an email; Secure behind
// TLS.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: Cookie, Value: token, Path: "/journey/", Expires: expires, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: ui.Secure(r)})
}
