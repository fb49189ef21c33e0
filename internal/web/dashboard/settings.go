package dashboard

// settingsRoutes registers the pages of this section.
func (h *Handler) settingsRoutes(rt *router) {}
