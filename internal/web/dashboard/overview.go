package dashboard

// overview is the landing page.
func (h *Handler) overview(q *req) error {
	return q.render(200, "overview", "Overview", "/dashboard/", nil)
}
