package dashboard

// connectionRoutes registers the pages of this section.
func (h *Handler) connectionRoutes(rt *router) {}
