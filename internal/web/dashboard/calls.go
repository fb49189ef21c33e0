package dashboard

// callRoutes registers the pages of this section.
func (h *Handler) callRoutes(rt *router) {}
