package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/verification"
	"github.com/verigate/verigate/internal/web/ui"
)

// verificationRoutes registers the pages of this section.
func (h *Handler) verificationRoutes(rt *router) {
	rt.page("GET /dashboard/verifications", h.verifications)
	rt.page("GET /dashboard/verifications/{id}", h.verificationPage)
	rt.form("POST /dashboard/verifications/{id}/cancel", h.cancelVerification)
	rt.form("POST /dashboard/verifications/{id}/link", h.rotateLink)
}

const listPageSize = 25

// pathID reads a numeric {id}: anything but a positive whole number is
// a page that does not exist.
func pathID(q *req) (int64, error) {
	id, err := strconv.ParseInt(q.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, verification.ErrSessionNotFound
	}
	return id, nil
}

// queryText reads a query parameter a form of ours sends: empty is
// absent (a form sends its empty fields), twice or not text is refused.
func queryText(q *req, name string) (string, error) {
	vals := q.r.URL.Query()[name]
	switch {
	case len(vals) == 0:
		return "", nil
	case len(vals) > 1:
		return "", verigate.FieldError(name, "must be given once")
	case !utf8.ValidString(vals[0]) || strings.ContainsRune(vals[0], 0):
		return "", verigate.FieldError(name, "must be text")
	case len(vals[0]) > 200:
		return "", verigate.FieldError(name, "is too long")
	}
	return strings.TrimSpace(vals[0]), nil
}

// verificationFilters are the list's filters as entered.
type verificationFilters struct {
	Status, From, To, Search string
	Before                   int64
}

// query is the filters as a query string (without the cursor).
func (f verificationFilters) query() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"status": f.Status, "from": f.From, "to": f.To, "q": f.Search} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

type verificationsView struct {
	Filters  verificationFilters
	Statuses []verigate.SessionStatus
	List     []*verification.Verification
	Error    string
	Next     string // the older page's URL, "" when none
	First    string // the newest page's URL, when not on it
	Filtered bool
}

// verifications lists the verifications in reach, newest first, with
// the filters the /v1 list takes and a search.
func (h *Handler) verifications(q *req) error {
	v := verificationsView{Statuses: verigate.SessionStatuses}
	f := &v.Filters
	vq := verification.VerificationQuery{Limit: listPageSize}
	err := func() error {
		var err error
		for _, p := range []struct {
			name string
			to   *string
		}{{"status", &f.Status}, {"from", &f.From}, {"to", &f.To}, {"q", &f.Search}} {
			if *p.to, err = queryText(q, p.name); err != nil {
				return err
			}
		}
		before, err := queryText(q, "before")
		if err != nil {
			return err
		}
		if before != "" {
			if f.Before, err = strconv.ParseInt(before, 10, 64); err != nil || f.Before <= 0 {
				return verigate.FieldError("before", "must be a page of this list")
			}
		}
		vq.Status, vq.Search, vq.Before = f.Status, f.Search, f.Before
		if vq.CreatedFrom, err = formDate("from", f.From, false); err != nil {
			return err
		}
		vq.CreatedTo, err = formDate("to", f.To, true)
		return err
	}()
	v.Filtered = f.Status != "" || f.From != "" || f.To != "" || f.Search != ""
	var next int64
	if err == nil {
		v.List, next, err = h.Verification.Verifications(q.ctx, vq)
	}
	if err != nil {
		if verigate.ErrorCode(err) != verigate.EINVALID {
			return err
		}
		// A filter we cannot use: the form again, with what was wrong.
		v.Error = filterMessage(err)
		return q.render(http.StatusBadRequest, "verifications", "Verifications", "/dashboard/verifications", v)
	}
	if next != 0 {
		qs := f.query()
		qs.Set("before", strconv.FormatInt(next, 10))
		v.Next = "/dashboard/verifications?" + qs.Encode()
	}
	if f.Before != 0 {
		v.First = "/dashboard/verifications"
		if qs := f.query().Encode(); qs != "" {
			v.First += "?" + qs
		}
	}
	return q.render(200, "verifications", "Verifications", "/dashboard/verifications", v)
}

// filterMessage says which field was wrong, in the form's words.
func filterMessage(err error) string {
	var e *verigate.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return verigate.ErrorMessage(err)
	}
	names := map[string]string{"status": "Status", "from": "Created from", "to": "Created to", "createdTo": "Created to",
		"q": "Search", "search": "Search", "before": "Page", "cursor": "Page", "reason": "Reason"}
	var parts []string
	for field, msg := range e.Fields {
		name := names[field]
		if name == "" {
			name = field
		}
		parts = append(parts, name+" "+msg+".")
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// formDate reads a date input (YYYY-MM-DD, UTC); as the end of a range,
// the last millisecond of the day.
func formDate(field, s string, endOfDay bool) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, verigate.FieldError(field, "must be a date (YYYY-MM-DD)")
	}
	if endOfDay {
		t = t.Add(24*time.Hour - time.Millisecond)
	}
	return &t, nil
}

// proofView is a proof a step accepted, from the step's results.
type proofView struct {
	Identifier, Provider, Owner, Timestamp string
	Signers                                []string
}

// activityView is a data source of the verification with its step.
type activityView struct {
	verification.Activity
	Proofs  []proofView
	Results string // the step's results, indented; "" when none
}

// detailView is a verification's page.
type detailView struct {
	V          *verification.Verification
	ID         string
	Activities []activityView
	Audit      []verigate.AuditEvent
	ShowAudit  bool
	Messages   []*verigate.WebhookMessage
	ShowHooks  bool
	Link       string        // the candidate link, while it opens
	QR         template.HTML // its QR code
	NewLink    bool          // the link was just rotated
	Reviewable bool
	CanCancel  bool
	// A form's error and what was entered, when it comes back.
	Error, Reason, Form string
}

// verificationPage shows one verification.
func (h *Handler) verificationPage(q *req) error {
	id, err := pathID(q)
	if err != nil {
		return err
	}
	return h.renderDetail(q, http.StatusOK, id, nil, func(*detailView) {})
}

// renderDetail loads verification id (unless v is given) and renders its
// page with status, after adjust.
func (h *Handler) renderDetail(q *req, status int, id int64, v *verification.Verification, adjust func(*detailView)) error {
	if v == nil {
		var err error
		if v, err = h.Verification.Verification(q.ctx, id); err != nil {
			return err
		}
	}
	s := v.Session
	d := &detailView{V: v, ID: strconv.FormatInt(s.ID, 10), Reviewable: s.Status == verigate.SessionReviewing,
		CanCancel: !s.Status.Ended()}
	for _, a := range v.Activities {
		d.Activities = append(d.Activities, activityOf(a))
	}
	if q.p.Can("audit.read", s.OrgID) {
		evs, err := h.Access.AuditEvents(q.ctx, verigate.AuditFilter{OrgID: s.OrgID, TargetID: d.ID, Limit: 50})
		if err != nil {
			return err
		}
		d.ShowAudit = true
		for _, e := range evs {
			if e.TargetKind == "verification" {
				d.Audit = append(d.Audit, e)
			}
		}
	}
	if q.p.Can("webhooks.read", s.OrgID) {
		msgs, err := h.Webhooks.SubjectMessages(q.ctx, s.OrgID, d.ID, 50)
		if err != nil {
			return err
		}
		d.ShowHooks, d.Messages = true, msgs
	}
	// The candidate's link and its QR code, while the candidate has work
	// to do on it.
	if v.LinkToken != "" && (s.Status == verigate.SessionPending || s.Status == verigate.SessionProcessing) {
		d.Link, _ = h.Verification.Links(s, v.LinkToken)
		qr, err := ui.QRSVG(d.Link, "QR code of the verification link for verification "+d.ID)
		if err != nil {
			return err
		}
		d.QR = qr
	}
	adjust(d)
	return q.render(status, "verification", "Verification "+d.ID, "/dashboard/verifications", d)
}

// activityOf reads a step's accepted proofs out of its results.
func activityOf(a verification.Activity) activityView {
	out := activityView{Activity: a}
	if a.Step == nil || len(a.Step.Results) == 0 || string(a.Step.Results) == "{}" {
		return out
	}
	var res struct {
		Proofs []struct {
			Identifier string   `json:"identifier"`
			Provider   string   `json:"provider"`
			Owner      string   `json:"owner"`
			Signers    []string `json:"signers"`
			Timestamp  string   `json:"timestamp"`
		} `json:"proofs"`
	}
	if json.Unmarshal(a.Step.Results, &res) == nil {
		for _, p := range res.Proofs {
			out.Proofs = append(out.Proofs, proofView{Identifier: p.Identifier, Provider: p.Provider, Owner: p.Owner,
				Timestamp: p.Timestamp, Signers: p.Signers})
		}
	}
	var buf bytes.Buffer
	if json.Indent(&buf, a.Step.Results, "", "  ") == nil {
		out.Results = buf.String()
	}
	return out
}

// cancelVerification ends an open verification, once confirmed.
func (h *Handler) cancelVerification(q *req) error {
	id, err := pathID(q)
	if err != nil {
		return err
	}
	reason := verigate.CancelReason(q.r.PostForm.Get("reason"))
	if q.r.PostForm.Get("confirm") != "yes" {
		return h.renderDetail(q, http.StatusUnprocessableEntity, id, nil, func(d *detailView) {
			d.Form, d.Error = "cancel", "Tick the box to confirm that this verification should end."
		})
	}
	if _, err := h.Verification.Cancel(q.ctx, id, reason); err != nil {
		if verigate.ErrorCode(err) == verigate.EINVALID {
			return h.renderDetail(q, http.StatusUnprocessableEntity, id, nil, func(d *detailView) {
				d.Form, d.Error = "cancel", filterMessage(err)
			})
		}
		return err
	}
	return q.redirect("/dashboard/verifications/"+strconv.FormatInt(id, 10), "Verification cancelled. Its link no longer opens.")
}

// rotateLink gives the verification a new link and shows it, once: the
// old link stops working.
func (h *Handler) rotateLink(q *req) error {
	id, err := pathID(q)
	if err != nil {
		return err
	}
	v, err := h.Verification.RotateVerificationLink(q.ctx, id)
	if err != nil {
		return err
	}
	return h.renderDetail(q, http.StatusOK, id, v, func(d *detailView) { d.NewLink = true })
}
