package dashapi

import (
	"net/http"
	"regexp"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func accountID(r *http.Request) (string, error) {
	id := r.PathValue("accountId")
	if !uuidPattern.MatchString(id) {
		return "", verigate.FieldError("accountId", "must be a UUID")
	}
	return id, nil
}

// pendingJSON and statusJSON are /v1's status object (seed 002): the
// dashboard shows a person what a service polls.
type pendingJSON struct {
	ID         string              `json:"id"`
	Type       string              `json:"type"`
	Descriptor verigate.Descriptor `json:"descriptor"`
	Attempts   int                 `json:"attempts"`
	ExpiresAt  string              `json:"expires_at"`
}

type statusJSON struct {
	AccountID         string       `json:"account_id"`
	SessionRunning    bool         `json:"session_running"`
	PendingAssistance *pendingJSON `json:"pending_assistance"`
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) error {
	id, err := accountID(r)
	if err != nil {
		return err
	}
	c, req, err := h.Connect.Status(r.Context(), id)
	if err != nil {
		return err
	}
	out := statusJSON{AccountID: c.ID, SessionRunning: c.Status.SessionRunning()}
	if req != nil {
		out.PendingAssistance = &pendingJSON{ID: req.ID, Type: req.Type, Descriptor: req.Descriptor, Attempts: req.Attempts, ExpiresAt: formatTime(req.ExpiresAt)}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

type otpRequest struct {
	Code *string `json:"code"`
}

func (h *Handler) submitOTP(w http.ResponseWriter, r *http.Request) error {
	id, err := accountID(r)
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
