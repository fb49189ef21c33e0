package partner

import (
	"net/http"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/verification"
)

type connectRequest struct {
	StepID      int64             `json:"stepId"`
	Credentials map[string]string `json:"credentials"`
}

// connectStep opens the connection that carries out an initiated
// connector step; the step completes when the connection connects.
func (h *Handler) connectStep(w http.ResponseWriter, r *http.Request) error {
	var in connectRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	st, accountID, err := h.Verification.ConnectStep(r.Context(), in.StepID, in.Credentials)
	if err != nil {
		return err
	}
	type data struct {
		AccountID string   `json:"accountId"`
		Step      stepJSON `json:"step"`
	}
	return ok(w, http.StatusCreated, struct {
		Status string `json:"status"`
		Data   data   `json:"data"`
	}{"success", data{accountID, toStep(st)}})
}

type stepOTPRequest struct {
	StepID int64   `json:"stepId"`
	Code   *string `json:"code"`
}

// stepOTP delivers a one-time code to the connection of a connector step.
func (h *Handler) stepOTP(w http.ResponseWriter, r *http.Request) error {
	var in stepOTPRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Code == nil {
		return verigate.FieldError("code", "is required")
	}
	if err := h.Verification.SubmitStepCode(r.Context(), in.StepID, *in.Code); err != nil {
		return err
	}
	return ok(w, http.StatusAccepted, statusBody{Status: "success"})
}

// connectionJSON is a connector step's live login state.
type connectionJSON struct {
	AccountID         string             `json:"accountId"`
	Status            string             `json:"status"`
	SessionRunning    bool               `json:"sessionRunning"`
	PendingAssistance *pendingAssistance `json:"pendingAssistance"`
	FailureReason     *string            `json:"failureReason"`
}

type pendingAssistance struct {
	ID         string              `json:"id"`
	Descriptor verigate.Descriptor `json:"descriptor"`
	Attempts   int                 `json:"attempts"`
}

func toConnection(login *verification.StepLogin) *connectionJSON {
	if login == nil {
		return nil
	}
	c, req := login.Connection, login.Pending
	out := &connectionJSON{AccountID: c.ID, Status: string(c.Status), SessionRunning: c.Status.SessionRunning(), FailureReason: strPtr(c.FailureReason)}
	if req != nil {
		out.PendingAssistance = &pendingAssistance{ID: req.ID, Descriptor: req.Descriptor, Attempts: req.Attempts}
	}
	return out
}
