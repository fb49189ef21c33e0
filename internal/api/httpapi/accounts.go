package httpapi

import (
	"context"
	"net/http"
	"regexp"
	"time"

	"github.com/verigate/verigate"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsUUID reports whether s is a UUID in its text form.
func IsUUID(s string) bool { return uuidPattern.MatchString(s) }

// PathUUID reads a path parameter that must be a UUID.
func PathUUID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if !IsUUID(id) {
		return "", verigate.FieldError(name, "must be a UUID")
	}
	return id, nil
}

// PendingAssistance is Reconbanker's pending code request (seed 002).
type PendingAssistance struct {
	ID         string              `json:"id"`
	Type       string              `json:"type"`
	Descriptor verigate.Descriptor `json:"descriptor"`
	Attempts   int                 `json:"attempts"`
	ExpiresAt  string              `json:"expires_at"`
}

// NewPendingAssistance is r as Reconbanker shows it; nil for none.
func NewPendingAssistance(r *verigate.AssistanceRequest) *PendingAssistance {
	if r == nil {
		return nil
	}
	return &PendingAssistance{ID: r.ID, Type: r.Type, Descriptor: r.Descriptor, Attempts: r.Attempts,
		ExpiresAt: r.ExpiresAt.UTC().Format(time.RFC3339)}
}

// AccountStatus is exactly Reconbanker's status object (seed 002): /v1
// answers it to a service, /api to a person.
type AccountStatus struct {
	AccountID         string             `json:"account_id"`
	SessionRunning    bool               `json:"session_running"`
	PendingAssistance *PendingAssistance `json:"pending_assistance"`
}

// NewAccountStatus is connection c's status with its pending request.
func NewAccountStatus(c *verigate.Connection, pending *verigate.AssistanceRequest) AccountStatus {
	return AccountStatus{AccountID: c.ID, SessionRunning: c.Status.SessionRunning(), PendingAssistance: NewPendingAssistance(pending)}
}

// AccountCodes is the connect service's part the status and code routes
// call.
type AccountCodes interface {
	Status(ctx context.Context, id string) (*verigate.Connection, *verigate.AssistanceRequest, error)
	SubmitCode(ctx context.Context, id, code string) error
}

// ServeAccountStatus is Reconbanker's GET …/accounts/:accountId/status,
// the same on /v1 (a service's key) and /api (a person's JWT).
func ServeAccountStatus(svc AccountCodes, w http.ResponseWriter, r *http.Request) error {
	id, err := PathUUID(r, "accountId")
	if err != nil {
		return err
	}
	c, req, err := svc.Status(r.Context(), id)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, NewAccountStatus(c, req))
	return nil
}

type otpRequest struct {
	Code *string `json:"code"`
}

// ServeAccountOTP is Reconbanker's POST …/accounts/:accountId/otp, the
// same on /v1 and /api: 202 {"submitted":true} once the code is queued.
func ServeAccountOTP(svc AccountCodes, w http.ResponseWriter, r *http.Request) error {
	id, err := PathUUID(r, "accountId")
	if err != nil {
		return err
	}
	var in otpRequest
	if err := DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Code == nil {
		return verigate.FieldError("code", "is required: a string of 1 to 32 characters")
	}
	if err := svc.SubmitCode(r.Context(), id, *in.Code); err != nil {
		return err
	}
	WriteJSON(w, http.StatusAccepted, map[string]bool{"submitted": true})
	return nil
}
