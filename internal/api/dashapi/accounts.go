package dashapi

import (
	"net/http"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
)

func (h *Handler) status(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "accountId")
	if err != nil {
		return err
	}
	c, req, err := h.Connect.Status(r.Context(), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.NewAccountStatus(c, req))
	return nil
}

type otpRequest struct {
	Code *string `json:"code"`
}

func (h *Handler) submitOTP(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "accountId")
	if err != nil {
		return err
	}
	var in otpRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Code == nil {
		return verigate.FieldError("code", "is required: a string of 1 to 32 characters")
	}
	if err := h.Connect.SubmitCode(r.Context(), id, *in.Code); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]bool{"submitted": true})
	return nil
}
