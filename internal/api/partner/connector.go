package partner

import (
	"context"
	"net/http"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/connect"
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
	if in.StepID <= 0 {
		return verigate.FieldError("stepId", "is required")
	}
	creds := connect.Credentials(in.Credentials)
	if err := connect.ValidateCredentials(creds); err != nil {
		return err
	}
	st, sess, err := h.Verification.ConnectStep(r.Context(), in.StepID)
	if err != nil {
		return err
	}
	// The connection is made on hold, the step records it, then the login
	// starts: the worker can only end a step that knows its connection.
	c, err := h.Connect.CreateForStep(r.Context(), sess.OrgID, sess.Mode, sess.ID, st.ID, st.DataSourceID, creds)
	if err != nil {
		return err
	}
	if err := h.Verification.StartConnect(r.Context(), st, sess, c.ID); err != nil {
		h.Connect.Abandon(context.WithoutCancel(r.Context()), c.ID, "the verification step changed before the login started")
		return err
	}
	if err := h.Connect.Activate(context.WithoutCancel(r.Context()), c.ID); err != nil {
		return err
	}
	type data struct {
		AccountID string   `json:"accountId"`
		Step      stepJSON `json:"step"`
	}
	return ok(w, http.StatusCreated, struct {
		Status string `json:"status"`
		Data   data   `json:"data"`
	}{"success", data{c.ID, toStep(st)}})
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
	if in.StepID <= 0 {
		return verigate.FieldError("stepId", "is required")
	}
	if in.Code == nil {
		return verigate.FieldError("code", "is required")
	}
	st, err := h.Verification.Step(r.Context(), in.StepID)
	if err != nil {
		return err
	}
	account := verification.StepAccount(st)
	if account == "" {
		return verigate.Errorf(verigate.ECONFLICT, "Step %d has no connection; connect it first.", st.ID)
	}
	if err := h.Connect.SubmitCodeForStep(r.Context(), account, *in.Code); err != nil {
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

func (h *Handler) connection(r *http.Request, st *verigate.Step) *connectionJSON {
	account := verification.StepAccount(st)
	if account == "" || h.Connect == nil {
		return nil
	}
	c, req, err := h.Connect.StatusForStep(r.Context(), account)
	if err != nil {
		return nil
	}
	out := &connectionJSON{AccountID: c.ID, Status: c.Status, SessionRunning: verigate.SessionRunning(c.Status), FailureReason: strPtr(c.FailureReason)}
	if req != nil {
		out.PendingAssistance = &pendingAssistance{ID: req.ID, Descriptor: req.Descriptor, Attempts: req.Attempts}
	}
	return out
}
