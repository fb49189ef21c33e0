package dashapi

import (
	"net/http"

	"github.com/verigate/verigate/internal/api/httpapi"
)

func (h *Handler) status(w http.ResponseWriter, r *http.Request) error {
	return httpapi.ServeAccountStatus(h.Connect, w, r)
}

func (h *Handler) submitOTP(w http.ResponseWriter, r *http.Request) error {
	return httpapi.ServeAccountOTP(h.Connect, w, r)
}
