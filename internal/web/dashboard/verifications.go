package dashboard

// verificationRoutes registers the pages of this section.
func (h *Handler) verificationRoutes(rt *router) {}
