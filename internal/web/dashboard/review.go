package dashboard

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/verification"
)

// reviewRoutes registers the pages of this section.
func (h *Handler) reviewRoutes(rt *router) {
	rt.page("GET /dashboard/review", h.reviewQueue)
	rt.form("POST /dashboard/review/{id}/approve", func(q *req) error { return h.review(q, true) })
	rt.form("POST /dashboard/review/{id}/reject", func(q *req) error { return h.review(q, false) })
}

// maxReviewReason bounds a reviewer's reason on this surface.
const maxReviewReason = 500

type reviewView struct {
	List       []*verigate.Session
	Total      int
	Page       int
	Prev, Next string
}

// reviewQueue lists the verifications awaiting review, longest waiting
// first.
func (h *Handler) reviewQueue(q *req) error {
	page := 1
	if s, err := queryText(q, "page"); err != nil {
		return err
	} else if s != "" {
		if page, err = strconv.Atoi(s); err != nil || page < 1 || page > 10000 {
			return verigate.FieldError("page", "must be a page number")
		}
	}
	list, total, err := h.Verification.ReviewerSessions(q.ctx, verification.ReviewerQuery{Status: verigate.SessionReviewing,
		SortBy: "updatedAt", SortOrder: "asc", Limit: listPageSize, Offset: (page - 1) * listPageSize})
	if err != nil {
		return err
	}
	v := reviewView{List: list, Total: total, Page: page}
	if page > 1 {
		v.Prev = "/dashboard/review?page=" + strconv.Itoa(page-1)
	}
	if page*listPageSize < total {
		v.Next = "/dashboard/review?page=" + strconv.Itoa(page+1)
	}
	return q.render(200, "review", "Review queue", "/dashboard/review", v)
}

// review approves or rejects a verification in review, with a reason
// (required to reject). A reason that will not do comes back on the
// verification's page with what was entered.
func (h *Handler) review(q *req, approve bool) error {
	id, err := pathID(q)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(q.r.PostForm.Get("reason"))
	form := "approve"
	if !approve {
		form = "reject"
	}
	msg := ""
	switch {
	case !approve && reason == "":
		msg = "Give a reason to reject."
	case utf8.RuneCountInString(reason) > maxReviewReason:
		msg = "The reason must be at most 500 characters."
	}
	if msg == "" {
		_, err = h.Verification.Review(q.ctx, id, approve, reason)
		if verigate.ErrorCode(err) == verigate.EINVALID {
			msg = filterMessage(err)
		} else if err != nil {
			return err
		}
	}
	if msg != "" {
		return h.renderDetail(q, http.StatusUnprocessableEntity, id, nil, func(d *detailView) {
			d.Form, d.Error, d.Reason = form, msg, reason
		})
	}
	done := "approved: it is completed"
	if !approve {
		done = "rejected"
	}
	return q.redirect("/dashboard/review", "Verification "+strconv.FormatInt(id, 10)+" "+done+".")
}
