package dashboard

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
)

// The audit log of the acting organization, newest first, filtered by
// action, target, actor and a date range, a page at a time (a cursor:
// the last id of the previous page).

// auditRoutes registers the pages of this section.
func (h *Handler) auditRoutes(rt *router) {
	rt.page("GET /dashboard/audit", h.audit)
}

// auditPageSize is the audit log's page size.
const auditPageSize = 50

// auditFilters are the filters as entered.
type auditFilters struct {
	Action, Target, Actor, Since, Until string
}

type auditView struct {
	Filters auditFilters
	Events  []verigate.AuditEvent
	// Next is the next page's address, "" on the last page.
	Next string
}

// filterParam reads a filter of a GET form: empty when absent or left
// blank; text only.
func filterParam(q *req, name string) (string, error) {
	vals := q.r.URL.Query()[name]
	switch {
	case len(vals) == 0:
		return "", nil
	case len(vals) > 1:
		return "", verigate.FieldError(name, "must be given once")
	case !utf8.ValidString(vals[0]) || strings.ContainsRune(vals[0], 0) || len(vals[0]) > 200:
		return "", verigate.FieldError(name, "must be text of at most 200 characters")
	}
	return strings.TrimSpace(vals[0]), nil
}

func (h *Handler) audit(q *req) error {
	org, err := q.Org()
	if err != nil {
		return err
	}
	var fs auditFilters
	for name, dst := range map[string]*string{"action": &fs.Action, "target": &fs.Target, "actor": &fs.Actor,
		"since": &fs.Since, "until": &fs.Until} {
		if *dst, err = filterParam(q, name); err != nil {
			return err
		}
	}
	f := verigate.AuditFilter{OrgID: org.ID, Action: fs.Action, TargetID: fs.Target, ActorID: fs.Actor, Limit: auditPageSize}
	for _, d := range []struct {
		value, field string
		dst          *time.Time
		end          bool
	}{{fs.Since, "since", &f.Since, false}, {fs.Until, "until", &f.Until, true}} {
		if d.value == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.value)
		if err != nil {
			return verigate.FieldError(d.field, "must be a date, YYYY-MM-DD")
		}
		if d.end {
			t = t.Add(24 * time.Hour) // the whole day
		}
		*d.dst = t
	}
	if f.Before, err = httpapi.QueryID(q.r, "before"); err != nil {
		return err
	}
	events, err := h.Access.AuditEvents(q.ctx, f)
	if err != nil {
		return err
	}
	v := auditView{Filters: fs, Events: events}
	if len(events) == auditPageSize {
		next := url.Values{}
		for k, s := range map[string]string{"action": fs.Action, "target": fs.Target, "actor": fs.Actor, "since": fs.Since, "until": fs.Until} {
			if s != "" {
				next.Set(k, s)
			}
		}
		next.Set("before", strconv.FormatInt(events[len(events)-1].ID, 10))
		v.Next = "/dashboard/audit?" + next.Encode()
	}
	return q.render(http.StatusOK, "audit", "Audit log", "/dashboard/audit", v)
}
