package journey_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/verification"
)

// setCookie is the journey cookie an answer sets, nil when none.
func setCookie(p *page) *http.Cookie {
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == "vg_journey" {
			return c
		}
	}
	return nil
}

// TestCookieSlides: an applicant working through the journey is not
// signed out after ApplicantTokenTTL: past half of it, a page renews the
// cookie (same value, so a form already on screen still posts), up to
// ApplicantMaxAge after the link was opened.
func TestCookieSlides(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		s := f.session(t, nil)
		opened := e.Clock.Now()
		b, _ := f.open(t, s)
		home := fmt.Sprintf("/journey/sessions/%d", s.ID)
		consent := home + "/consent" // a page that answers 200 itself
		form := b.csrf

		e.Clock.Advance(verification.ApplicantTokenTTL / 3)
		if p := b.do("GET", consent, nil); p.Status != 200 || setCookie(p) != nil {
			t.Fatalf("renewed before half the TTL: %d %v", p.Status, setCookie(p))
		}
		e.Clock.Advance(verification.ApplicantTokenTTL / 3)
		p := b.do("GET", consent, nil)
		c := setCookie(p)
		if want := e.Clock.Now().Add(verification.ApplicantTokenTTL); p.Status != 200 || c == nil || c.Value != b.cookie ||
			!c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Expires.Unix() != want.Unix() {
			t.Fatalf("after two thirds of the TTL: %d %+v, want the same cookie until %v", p.Status, c, want)
		}
		// Past the first expiry the form rendered at the start still posts.
		e.Clock.Advance(verification.ApplicantTokenTTL / 2)
		p = b.post(consent, url.Values{"csrf": {form}})
		wantPage(t, p, 200, "Choose an account to connect")

		// Renewals stop at ApplicantMaxAge: then the applicant opens the
		// link again.
		for i := 0; i < 100; i++ {
			e.Clock.Advance(verification.ApplicantTokenTTL * 2 / 3)
			if p = b.get(home); p.Status != 200 {
				break
			}
		}
		if age := e.Clock.Now().Sub(opened); p.Status != http.StatusUnauthorized || age <= verification.ApplicantMaxAge-verification.ApplicantTokenTTL ||
			age > verification.ApplicantMaxAge+verification.ApplicantTokenTTL {
			t.Fatalf("after %v: %d, want 401 at about ApplicantMaxAge (%v)", age, p.Status, verification.ApplicantMaxAge)
		}
		b2, p := f.open(t, s)
		if p.Status != 200 || b2.cookie == b.cookie {
			t.Fatalf("opening the link again: %d", p.Status)
		}
	})
}
