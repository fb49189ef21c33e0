package dashboard

// reviewRoutes registers the pages of this section.
func (h *Handler) reviewRoutes(rt *router) {}
