package dashboard

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
)

// apiKeyRoutes registers the pages of this section: the API keys of the
// organization the session acts in. A key made here acts as the
// signed-in person, so it never carries a scope the person lacks.
func (h *Handler) apiKeyRoutes(rt *router) {
	rt.page("GET /dashboard/api-keys", h.apiKeys)
	rt.form("POST /dashboard/api-keys", h.createAPIKey)
	rt.form("POST /dashboard/api-keys/{id}/revoke", h.revokeAPIKey)
}

type rateWindow struct {
	Value, Label string
	TTL          time.Duration
}

// rateWindows are the windows a key's rate limit may count over; a
// client over the limit waits one window.
var rateWindows = []rateWindow{
	{"1s", "second", time.Second},
	{"1m", "minute", time.Minute},
	{"1h", "hour", time.Hour},
	{"24h", "day", 24 * time.Hour},
}

// apiKeyForm is the new-key form's entries.
type apiKeyForm struct {
	Name      string
	Scopes    []string
	Accounts  string
	Mode      string
	RateLimit string
	Window    string
	Expires   string
}

// apiKeysView is the page.
type apiKeysView struct {
	Org       *verigate.Organization
	Keys      []apiKeyRow
	Scopes    []string // what the person may grant
	Windows   []rateWindow
	Form      apiKeyForm
	Error     string
	Secret    string // a new key, shown this once
	SecretFor string
}

type apiKeyRow struct {
	*verigate.APIKey
	Prefix, Rate string
}

// Checked tells whether the form has scope sc ticked.
func (f apiKeyForm) Checked(sc string) bool { return slices.Contains(f.Scopes, sc) }

func newAPIKeyForm() apiKeyForm {
	return apiKeyForm{Mode: string(verigate.ModeLive), RateLimit: strconv.Itoa(verigate.DefaultRateLimit.Limit), Window: "1m"}
}

func (h *Handler) apiKeys(q *req) error {
	return h.renderAPIKeys(q, http.StatusOK, apiKeysView{Form: newAPIKeyForm()})
}

// keyOrg is the organization whose keys the page manages: the one the
// session acts in, when it is the person's own (a key acts as its person,
// who belongs there). Elsewhere — a child institution chosen with the
// switcher, or the one a sign-in link opened — it renders a page saying
// where keys are managed, and returns nil.
func (q *req) keyOrg() (*verigate.Organization, error) {
	org, err := q.Org()
	if err != nil || org.ID == q.sess.UserOrgID {
		return org, err
	}
	if q.r.Method != http.MethodGet {
		return nil, verigate.Errorf(verigate.ECONFLICT, "API keys act as you and belong to your own organization; switch to it to manage them.")
	}
	var home *verigate.Organization
	for _, o := range q.Orgs() {
		if o.ID == q.sess.UserOrgID {
			home = o
		}
	}
	return nil, q.render(http.StatusOK, "apikeys-elsewhere", "API keys", "/dashboard/api-keys", struct{ Org, Home *verigate.Organization }{org, home})
}

// renderAPIKeys lists the organization's keys around v's form.
func (h *Handler) renderAPIKeys(q *req, status int, v apiKeysView) error {
	org, err := q.keyOrg()
	if org == nil {
		return err
	}
	keys, _, err := h.Access.MyAPIKeys(q.ctx)
	if err != nil {
		return err
	}
	v.Org, v.Scopes, v.Windows = org, access.GrantableScopes(q.p), rateWindows
	for _, k := range keys {
		v.Keys = append(v.Keys, apiKeyRow{APIKey: k, Prefix: access.APIKeyPrefix(k.ID), Rate: ratePolicy(k.RateLimit)})
	}
	return q.render(status, "apikeys", "API keys", "/dashboard/api-keys", v)
}

// ratePolicy says a policy in words.
func ratePolicy(p verigate.RateLimitPolicy) string {
	s := fmt.Sprintf("%d per %s", p.Limit, p.TTL)
	for _, w := range rateWindows {
		if w.TTL == p.TTL {
			s = fmt.Sprintf("%d per %s", p.Limit, w.Label)
		}
	}
	if p.BlockDuration > 0 {
		s += ", then blocked " + p.BlockDuration.String()
	}
	return s
}

// input decodes the form into the service's input, or a field error.
func (f apiKeyForm) input(orgKey string) (access.APIKeyInput, error) {
	in := access.APIKeyInput{OrgKey: orgKey, Name: f.Name, Scopes: f.Scopes, Mode: verigate.Mode(f.Mode)}
	if f.Name == "" {
		return in, verigate.FieldError("name", "is required, so you can tell your keys apart")
	}
	for _, line := range strings.Split(f.Accounts, "\n") {
		if a := strings.TrimSpace(line); a != "" {
			in.Accounts = append(in.Accounts, a)
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(f.RateLimit))
	if err != nil {
		return in, verigate.FieldError("rateLimit.limit", "must be a whole number of requests")
	}
	i := slices.IndexFunc(rateWindows, func(w rateWindow) bool { return w.Value == f.Window })
	if i < 0 {
		return in, verigate.FieldError("rateLimit.ttl", "must be a second, a minute, an hour or a day")
	}
	in.RateLimit = &verigate.RateLimitPolicy{TTL: rateWindows[i].TTL, Limit: n, BlockDuration: rateWindows[i].TTL}
	if f.Expires != "" {
		d, err := time.Parse(time.DateOnly, f.Expires)
		if err != nil {
			return in, verigate.FieldError("expiresAt", "must be a date (YYYY-MM-DD)")
		}
		end := d.AddDate(0, 0, 1) // valid through that day, UTC
		in.ExpiresAt = &end
	}
	return in, nil
}

var keyIDPattern = regexp.MustCompile(`^[0-9a-f]{1,64}$`)

func (h *Handler) createAPIKey(q *req) error {
	org, err := q.keyOrg()
	if org == nil {
		return err
	}
	pf := q.r.PostForm
	f := apiKeyForm{Name: strings.TrimSpace(pf.Get("name")), Scopes: pf["scope"], Accounts: pf.Get("accounts"),
		Mode: pf.Get("mode"), RateLimit: pf.Get("rateLimit"), Window: pf.Get("window"), Expires: strings.TrimSpace(pf.Get("expires"))}
	in, err := f.input(org.Key)
	var secret string
	if err == nil {
		secret, _, err = h.Access.CreateMyAPIKey(q.ctx, in)
	}
	switch code := verigate.ErrorCode(err); {
	case err == nil:
		// Shown once, on this answer (no redirect: the page is not stored,
		// Cache-Control: no-store).
		return h.renderAPIKeys(q, http.StatusOK, apiKeysView{Form: newAPIKeyForm(), Secret: secret, SecretFor: in.Name})
	case code == verigate.EINVALID:
		return h.renderAPIKeys(q, http.StatusUnprocessableEntity, apiKeysView{Form: f, Error: verigate.ErrorMessage(err)})
	case code == verigate.EFORBIDDEN:
		return h.renderAPIKeys(q, http.StatusForbidden, apiKeysView{Form: f, Error: verigate.ErrorMessage(err)})
	}
	return err
}

func (h *Handler) revokeAPIKey(q *req) error {
	id := q.r.PathValue("id")
	if !keyIDPattern.MatchString(id) {
		return access.ErrAPIKeyNotFound
	}
	if err := h.Access.RevokeMyAPIKey(q.ctx, id); err != nil {
		return err
	}
	return q.redirect("/dashboard/api-keys", "API key "+access.APIKeyPrefix(id)+"… revoked. Requests with it are refused from now on.")
}
