package dashboard

import (
	"net/http"
	"strings"

	"github.com/verigate/verigate"
)

// The acting organization's settings: its review policy, journey
// settings and redirect allow-list, each saved through its own use case
// of the verification service (which authorizes organizations.update on
// the organization).

// settingsRoutes registers the pages of this section.
func (h *Handler) settingsRoutes(rt *router) {
	rt.page("GET /dashboard/settings", h.settings)
	rt.form("POST /dashboard/settings", h.saveSettings)
}

// reviewPolicies are the review policies, with what each means.
var reviewPolicies = []struct{ Value, Label string }{
	{verigate.ReviewNever, "Never: sessions complete or fail on their own"},
	{verigate.ReviewOnFailure, "On failure: a reviewer decides sessions with a failed step"},
	{verigate.ReviewAlways, "Always: a reviewer decides every session"},
}

// settingsForm is the settings form, as shown or entered: lists one item
// a line.
type settingsForm struct {
	ReviewPolicy    string
	LogoURL         string
	FrameAncestors  string
	RedirectOrigins string
	Error           string
	Fields          map[string]string
}

type settingsView struct {
	Org      *verigate.Organization
	Form     settingsForm
	Policies []struct{ Value, Label string }
}

func (h *Handler) settings(q *req) error {
	org, err := q.Org()
	if err != nil {
		return err
	}
	set, err := h.Verification.Settings(q.ctx, org.Key)
	if err != nil {
		return err
	}
	f := settingsForm{ReviewPolicy: set.ReviewPolicy, LogoURL: set.Journey.LogoURL,
		FrameAncestors: strings.Join(set.Journey.FrameAncestors, "\n"), RedirectOrigins: strings.Join(set.RedirectOrigins, "\n")}
	return q.render(http.StatusOK, "settings", "Settings", "/dashboard/settings", settingsView{Org: org, Form: f, Policies: reviewPolicies})
}

// lines splits a textarea into its non-empty lines.
func lines(s string) []string {
	out := []string{}
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (h *Handler) saveSettings(q *req) error {
	org, err := q.Org()
	if err != nil {
		return err
	}
	f := settingsForm{ReviewPolicy: q.r.PostForm.Get("review_policy"), LogoURL: strings.TrimSpace(q.r.PostForm.Get("logo_url")),
		FrameAncestors: q.r.PostForm.Get("frame_ancestors"), RedirectOrigins: q.r.PostForm.Get("redirect_origins")}
	journey := verigate.JourneySettings{LogoURL: f.LogoURL, FrameAncestors: lines(f.FrameAncestors)}
	origins := lines(f.RedirectOrigins)
	// Every setting is checked by the domain's own rules before any is
	// saved, so that a refused form saves nothing.
	err = journey.Validate()
	if err == nil {
		_, err = verigate.ValidateRedirectOrigins(origins)
	}
	if err == nil {
		err = h.Verification.SetReviewPolicy(q.ctx, org.Key, f.ReviewPolicy)
	}
	if err == nil {
		err = h.Verification.SetJourneySettings(q.ctx, org.Key, journey)
	}
	if err == nil {
		err = h.Verification.SetRedirectOrigins(q.ctx, org.Key, origins)
	}
	if err != nil {
		if err := formError(err, &f.Error, &f.Fields); err != nil {
			return err
		}
		return q.render(http.StatusUnprocessableEntity, "settings", "Settings", "/dashboard/settings",
			settingsView{Org: org, Form: f, Policies: reviewPolicies})
	}
	return q.redirect("/dashboard/settings", "Settings saved.")
}
