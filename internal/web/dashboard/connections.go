package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/connect"
)

// connectionRoutes registers the pages of this section: the Reconbanker
// accounts (connections) of the organization the session acts in and its
// descendants, with the use cases /v1/accounts calls.
func (h *Handler) connectionRoutes(rt *router) {
	rt.page("GET /dashboard/connections", h.connections)
	rt.page("GET /dashboard/connections/{accountId}", h.connection)
	rt.form("POST /dashboard/connections/{accountId}/otp", h.submitCode)
}

// connectionsPerPage is the list's page size.
const connectionsPerPage = 50

// connectionsView is the list page.
type connectionsView struct {
	Mode        verigate.Mode
	Connections []connectionRow
	Prev, Next  string
}

type connectionRow struct {
	*verigate.Connection
	Org, Source string
}

// names maps organization ids to names (the session's organizations) and
// source ids to names (the catalog), for the tables; an unknown one shows
// its id.
type names struct {
	orgs    map[string]string
	sources map[int64]string
}

func (h *Handler) names(q *req, ctx context.Context) names {
	n := names{orgs: map[string]string{}, sources: map[int64]string{}}
	for _, o := range q.Orgs() {
		n.orgs[o.ID] = o.Name
	}
	if srcs, err := h.Verification.Sources(ctx); err == nil {
		for _, s := range srcs {
			n.sources[s.ID] = s.Name
		}
	}
	return n
}

func (n names) row(c *verigate.Connection) connectionRow {
	r := connectionRow{Connection: c, Org: n.orgs[c.OrgID], Source: n.sources[c.SourceID]}
	if r.Org == "" {
		r.Org = c.OrgID
	}
	if r.Source == "" {
		r.Source = "Source " + strconv.FormatInt(c.SourceID, 10)
	}
	return r
}

func (h *Handler) connections(q *req) error {
	ctx, m := q.ctx, q.p.Mode
	offset, err := httpapi.QueryInt(q.r, "offset", 0)
	if err != nil {
		return err
	}
	// One more than a page: whether there is a next one.
	list, err := h.Connect.List(ctx, connectionsPerPage+1, offset)
	if err != nil {
		return err
	}
	v := connectionsView{Mode: m}
	link := func(off int) string {
		u := url.Values{}
		if off > 0 {
			u.Set("offset", strconv.Itoa(off))
		}
		if len(u) == 0 {
			return "/dashboard/connections"
		}
		return "/dashboard/connections?" + u.Encode()
	}
	if len(list) > connectionsPerPage {
		list = list[:connectionsPerPage]
		v.Next = link(offset + connectionsPerPage)
	}
	if offset > 0 {
		v.Prev = link(max(0, offset-connectionsPerPage))
	}
	n := h.names(q, ctx)
	for _, c := range list {
		v.Connections = append(v.Connections, n.row(c))
	}
	return q.render(http.StatusOK, "connections", "Connections", "/dashboard/connections", v)
}

// connectionView is a connection's page.
type connectionView struct {
	Mode    verigate.Mode
	Conn    connectionRow
	Pending *verigate.AssistanceRequest
	Error   string
}

// Delivering tells whether a submitted code awaits delivery.
func (v connectionView) Delivering() bool { return v.Pending != nil && v.Pending.Code != nil }

func (h *Handler) connection(q *req) error {
	return h.renderConnection(q, http.StatusOK, "")
}

// renderConnection reads the connection of the path (another tenant's, or
// a malformed id, answers as a missing one) and renders its page.
func (h *Handler) renderConnection(q *req, status int, msg string) error {
	ctx, m := q.ctx, q.p.Mode
	id := q.r.PathValue("accountId")
	if !httpapi.IsUUID(id) {
		return connect.ErrNotFound
	}
	c, pending, err := h.Connect.Details(ctx, id)
	if err != nil {
		return err
	}
	v := connectionView{Mode: m, Conn: h.names(q, ctx).row(c), Pending: pending, Error: msg}
	title := "Connection"
	if c.Label != "" {
		title = "Connection " + c.Label
	}
	return q.render(status, "connection", title, "/dashboard/connections", v)
}

func (h *Handler) submitCode(q *req) error {
	ctx := q.ctx
	id := q.r.PathValue("accountId")
	if !httpapi.IsUUID(id) {
		return connect.ErrNotFound
	}
	code := strings.TrimSpace(q.r.PostForm.Get("code"))
	err := h.Connect.SubmitCode(ctx, id, code)
	switch {
	case err == nil:
		return q.redirect("/dashboard/connections/"+id, "Code sent to the login. The status below shows whether the bank accepted it.")
	case err == connect.ErrNoPending:
		return h.renderConnection(q, http.StatusConflict, "This login is not waiting for a code any more.")
	case verigate.ErrorCode(err) == verigate.EINVALID:
		return h.renderConnection(q, http.StatusUnprocessableEntity, "The code "+strings.TrimPrefix(verigate.ErrorMessage(err), "code: ")+".")
	case verigate.ErrorCode(err) == verigate.ECONFLICT:
		return h.renderConnection(q, http.StatusConflict, verigate.ErrorMessage(err))
	case verigate.ErrorCode(err) == verigate.ERATELIMITED:
		httpapi.SetRetryAfter(q.w, err)
		return h.renderConnection(q, http.StatusTooManyRequests, verigate.ErrorMessage(err))
	}
	return err
}
