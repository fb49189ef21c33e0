package dashboard

// webhookRoutes registers the pages of this section.
func (h *Handler) webhookRoutes(rt *router) {}
