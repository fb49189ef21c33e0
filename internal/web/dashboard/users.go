package dashboard

// userRoutes registers the pages of this section.
func (h *Handler) userRoutes(rt *router) {}
