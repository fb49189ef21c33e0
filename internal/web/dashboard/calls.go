package dashboard

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/calls"
)

// callRoutes registers the pages of this section: the caller-verification
// queue of the institution the session acts in, with the use cases
// Confirm's /external/calls routes call (and so the same activity
// records, with the signed-in person, or the operator a sign-in link
// named, as RequestedBy).
func (h *Handler) callRoutes(rt *router) {
	rt.page("GET /dashboard/calls", h.callQueue)
	rt.page("GET /dashboard/calls/{voiceId}", h.callDetails)
	rt.form("POST /dashboard/calls/{voiceId}/assign", h.assignCall)
	rt.form("POST /dashboard/calls/{voiceId}/enroll", h.enrollCall)
	rt.form("POST /dashboard/calls/{voiceId}/reject-voice", h.rejectVoice)
}

// noInstitutionView is the calls page of a session acting in an
// organization that takes no calls: where it could switch to.
type noInstitutionView struct {
	Org          *verigate.Organization
	Institutions []*verigate.Organization
}

// institution is the institution the session acts in: the organization
// the session chose (or the login-token URL opened), already checked to
// be active and in the person's reach; the calls service checks each
// action's permission on it. When the organization is no institution it
// renders the page saying so and returns nil.
func (q *req) institution() (*verigate.Organization, error) {
	org, err := q.Org()
	if err != nil {
		return nil, err
	}
	if org.Kind == verigate.OrgInstitution {
		return org, nil
	}
	if q.r.Method != http.MethodGet {
		return nil, access.ErrNoInstitution
	}
	v := noInstitutionView{Org: org}
	for _, o := range q.Orgs() {
		if o.Kind == verigate.OrgInstitution {
			v.Institutions = append(v.Institutions, o)
		}
	}
	return nil, q.render(http.StatusOK, "calls-none", "Calls", "/dashboard/calls", v)
}

// callQueueView is the queue page.
type callQueueView struct {
	Institution      *verigate.Organization
	Calls            []*verigate.PhoneCall
	Total            int
	Search, From, To string
	Limit, Offset    int
	Prev, Next       string // paging links, "" when none
}

func (h *Handler) callQueue(q *req) error {
	inst, err := q.institution()
	if inst == nil || err != nil {
		return err
	}
	v := callQueueView{Institution: inst}
	f := verigate.CallFilter{}
	if v.Search, err = httpapi.QueryString(q.r, "search"); err != nil {
		return err
	}
	f.Search = strings.TrimSpace(v.Search)
	if v.From, err = httpapi.QueryString(q.r, "from"); err != nil {
		return err
	}
	if v.To, err = httpapi.QueryString(q.r, "to"); err != nil {
		return err
	}
	if f.From, err = httpapi.QueryTime(q.r, "from", false); err != nil {
		return err
	}
	if f.To, err = httpapi.QueryTime(q.r, "to", true); err != nil {
		return err
	}
	if f.Limit, err = httpapi.QueryInt(q.r, "limit", calls.DefaultLimit); err != nil {
		return err
	}
	if f.Offset, err = httpapi.QueryInt(q.r, "offset", 0); err != nil {
		return err
	}
	if v.Calls, v.Total, err = h.Calls.Queue(q.ctx, inst, f); err != nil {
		return err
	}
	v.Limit, v.Offset = f.Limit, f.Offset
	page := func(offset int) string {
		u := url.Values{}
		for k, s := range map[string]string{"search": v.Search, "from": v.From, "to": v.To} {
			if s != "" {
				u.Set(k, s)
			}
		}
		if f.Limit != calls.DefaultLimit {
			u.Set("limit", strconv.Itoa(f.Limit))
		}
		if offset > 0 {
			u.Set("offset", strconv.Itoa(offset))
		}
		if len(u) == 0 {
			return "/dashboard/calls"
		}
		return "/dashboard/calls?" + u.Encode()
	}
	if f.Offset > 0 {
		v.Prev = page(max(0, f.Offset-f.Limit))
	}
	if f.Offset+len(v.Calls) < v.Total {
		v.Next = page(f.Offset + f.Limit)
	}
	return q.render(http.StatusOK, "calls", "Calls", "/dashboard/calls", v)
}

// callView is a call's page, with its forms.
type callView struct {
	Institution     *verigate.Organization
	Call            *verigate.PhoneCall
	ValidationTypes []string
	// The forms' entries and the error of the one posted, if any.
	Form                 string // assign, enroll or reject
	Error                string
	PersonID, MemberName string
	ValidationType       string
	Reason               string
}

// CanAssign, CanEnroll and CanReject say which decisions the call's
// status allows (the service checks again).
func (v callView) CanAssign() bool {
	return v.Call.Status == verigate.CallQueued || v.Call.Status == verigate.CallAssigned
}
func (v callView) CanEnroll() bool {
	return v.Call.Status == verigate.CallAssigned && v.Call.Member != nil
}
func (v callView) CanReject() bool {
	return (v.Call.Status == verigate.CallAssigned || v.Call.Status == verigate.CallEnrolled) && v.Call.Member != nil
}

func (h *Handler) callDetails(q *req) error {
	inst, err := q.institution()
	if inst == nil || err != nil {
		return err
	}
	return h.renderCall(q, http.StatusOK, callView{Institution: inst})
}

// renderCall reads the call of the path and renders its page with v's
// form state.
func (h *Handler) renderCall(q *req, status int, v callView) error {
	c, err := h.Calls.Details(q.ctx, v.Institution, q.r.PathValue("voiceId"))
	if err != nil {
		return err
	}
	v.Call, v.ValidationTypes = c, verigate.ValidationTypes
	if v.PersonID == "" && c.Member != nil {
		v.PersonID, v.MemberName = c.Member.PersonID, c.Member.Name
	}
	return q.render(status, "call", "Call from "+c.CallerName, "/dashboard/calls", v)
}

// callFormError re-renders the call's page with a decision's refusal (bad
// input, or a call that moved on) and the entries kept; anything else is
// the error page.
func (h *Handler) callFormError(q *req, v callView, err error) error {
	switch verigate.ErrorCode(err) {
	case verigate.EINVALID:
		v.Error = verigate.ErrorMessage(err)
		return h.renderCall(q, http.StatusUnprocessableEntity, v)
	case verigate.ECONFLICT:
		v.Error = verigate.ErrorMessage(err)
		return h.renderCall(q, http.StatusConflict, v)
	}
	return err
}

func (h *Handler) assignCall(q *req) error {
	inst, err := q.institution()
	if inst == nil || err != nil {
		return err
	}
	v := callView{Institution: inst, Form: "assign", PersonID: strings.TrimSpace(q.r.PostForm.Get("personId")),
		MemberName: strings.TrimSpace(q.r.PostForm.Get("memberName"))}
	if v.PersonID == "" {
		return h.callFormError(q, v, verigate.FieldError("personId", "is required: the member's id at the institution"))
	}
	id := q.r.PathValue("voiceId")
	if _, err := h.Calls.Assign(q.ctx, inst, calls.AssignInput{VoiceID: id, PersonID: v.PersonID, MemberName: v.MemberName}); err != nil {
		return h.callFormError(q, v, err)
	}
	return q.redirect("/dashboard/calls/"+url.PathEscape(id), "Call assigned to member "+v.PersonID+".")
}

func (h *Handler) enrollCall(q *req) error {
	inst, err := q.institution()
	if inst == nil || err != nil {
		return err
	}
	v := callView{Institution: inst, Form: "enroll", ValidationType: q.r.PostForm.Get("validationType")}
	id := q.r.PathValue("voiceId")
	if _, err := h.Calls.Enroll(q.ctx, inst, id, v.ValidationType); err != nil {
		return h.callFormError(q, v, err)
	}
	return q.redirect("/dashboard/calls/"+url.PathEscape(id), "Caller verified and voice enrolled.")
}

func (h *Handler) rejectVoice(q *req) error {
	inst, err := q.institution()
	if inst == nil || err != nil {
		return err
	}
	v := callView{Institution: inst, Form: "reject", Reason: strings.TrimSpace(q.r.PostForm.Get("reason"))}
	id := q.r.PathValue("voiceId")
	if _, err := h.Calls.RejectVoice(q.ctx, inst, id, v.Reason); err != nil {
		return h.callFormError(q, v, err)
	}
	return q.redirect("/dashboard/calls/"+url.PathEscape(id), "Caller's voice rejected.")
}
