package dashboard

// auditRoutes registers the pages of this section.
func (h *Handler) auditRoutes(rt *router) {}
