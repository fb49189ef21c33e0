package dashboard

// apiKeyRoutes registers the pages of this section.
func (h *Handler) apiKeyRoutes(rt *router) {}
