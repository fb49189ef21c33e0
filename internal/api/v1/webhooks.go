package v1

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/delivery"
)

// Webhook endpoints, their delivery log, and the event stream: the
// delivery service's use cases in /v1's dialect (snake_case, the /v1
// error shape). Secrets appear only in the answers to create and
// rotate-secret; auth tokens never.

// fieldNames are the delivery service's field names as /v1 requests
// spell them.
var fieldNames = map[string]string{"auth_scheme": "auth.scheme", "auth_token": "auth.token", "organization": "organization_id"}

// ts is a time as /v1 writes it: RFC 3339 in UTC, to the millisecond the
// store keeps (the delivery log orders by it).
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func tsPtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := ts(t)
	return &s
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// queryUUID reads an optional cursor that must be a UUID.
func queryUUID(r *http.Request, name string) (string, error) {
	s, err := httpapi.QueryString(r, name)
	if err != nil || s == "" {
		return "", err
	}
	if !httpapi.IsUUID(s) {
		return "", verigate.FieldError(name, "must be an id from the previous page")
	}
	return s, nil
}

type authJSON struct {
	Scheme string `json:"scheme"`
}

type endpointJSON struct {
	ID              string    `json:"id"`
	OrganizationID  string    `json:"organization_id"`
	Mode            string    `json:"mode"`
	URL             string    `json:"url"`
	Description     string    `json:"description"`
	EventTypes      []string  `json:"event_types"`
	Enabled         bool      `json:"enabled"`
	DisabledReason  *string   `json:"disabled_reason"`
	FailingSince    *string   `json:"failing_since"`
	RateLimit       int       `json:"rate_limit"`
	IncludeChildren bool      `json:"include_children"`
	IncludePII      bool      `json:"include_pii"`
	Flavour         string    `json:"flavour"`
	Auth            *authJSON `json:"auth"`
	CreatedAt       string    `json:"created_at"`
	UpdatedAt       string    `json:"updated_at"`
	Secret          *string   `json:"secret,omitempty"` // on create and rotate-secret only
}

func toEndpoint(e *verigate.WebhookEndpoint) endpointJSON {
	j := endpointJSON{ID: e.ID, OrganizationID: e.OrgID, Mode: string(e.Mode), URL: e.URL, Description: e.Description,
		EventTypes: []string{}, Enabled: e.Enabled, DisabledReason: strPtr(e.DisabledReason), FailingSince: tsPtr(e.FailingSince),
		RateLimit: e.RateLimit, IncludeChildren: e.IncludeChildren, IncludePII: e.IncludePII, Flavour: string(e.Flavour),
		CreatedAt: ts(e.CreatedAt), UpdatedAt: ts(e.UpdatedAt)}
	for _, t := range e.EventTypes {
		j.EventTypes = append(j.EventTypes, string(t))
	}
	if e.AuthScheme != verigate.AuthNone {
		j.Auth = &authJSON{Scheme: string(e.AuthScheme)}
	}
	return j
}

// withSecret is an endpoint with its secret, shown this once.
func withSecret(s *verigate.WebhookEndpointSecret) endpointJSON {
	j := toEndpoint(s.Endpoint)
	j.Secret = &s.Secret
	return j
}

type authRequest struct {
	Scheme verigate.WebhookAuthScheme `json:"scheme"`
	Token  *string                    `json:"token"`
}

type createEndpointRequest struct {
	URL             *string                 `json:"url"`
	Description     string                  `json:"description"`
	EventTypes      []verigate.EventType    `json:"event_types"`
	Enabled         *bool                   `json:"enabled"`
	RateLimit       int                     `json:"rate_limit"`
	IncludeChildren bool                    `json:"include_children"`
	IncludePII      bool                    `json:"include_pii"`
	Flavour         verigate.WebhookFlavour `json:"flavour"`
	Auth            *authRequest            `json:"auth"`
	OrganizationID  string                  `json:"organization_id"`
}

// authNone drops an endpoint's auth header (PATCH only).
const authNone = "none"

// check reads an auth object: a scheme, and with Bearer or Api-Key its
// token; the scheme "none" (dropping the header) only when updating.
func (a *authRequest) check(update bool) (verigate.WebhookAuthScheme, string, error) {
	if a.Scheme == "" {
		return "", "", verigate.FieldError("auth.scheme", "is required: Bearer or Api-Key")
	}
	if a.Scheme == authNone && update {
		if a.Token != nil {
			return "", "", verigate.FieldError("auth.token", "must not be given with the scheme none")
		}
		return verigate.AuthNone, "", nil
	}
	if a.Scheme != verigate.AuthBearer && a.Scheme != verigate.AuthAPIKey {
		if update {
			return "", "", verigate.FieldError("auth.scheme", "must be Bearer, Api-Key or none")
		}
		return "", "", verigate.FieldError("auth.scheme", "must be Bearer or Api-Key")
	}
	if a.Token == nil {
		return "", "", verigate.FieldError("auth.token", "is required with a scheme")
	}
	return a.Scheme, *a.Token, nil
}

func (h *Handler) createEndpoint(w http.ResponseWriter, r *http.Request) error {
	var in createEndpointRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.URL == nil {
		return verigate.FieldError("url", "is required")
	}
	ep := delivery.EndpointInput{OrgID: in.OrganizationID, URL: *in.URL, Description: in.Description, EventTypes: in.EventTypes,
		Disabled: in.Enabled != nil && !*in.Enabled, RateLimit: in.RateLimit, IncludeChildren: in.IncludeChildren,
		IncludePII: in.IncludePII, Flavour: in.Flavour}
	if in.Auth != nil {
		var err error
		if ep.AuthScheme, ep.AuthToken, err = in.Auth.check(false); err != nil {
			return err
		}
	}
	made, err := h.Webhooks.Create(r.Context(), ep)
	if err != nil {
		return verigate.Rename(err, fieldNames)
	}
	httpapi.WriteJSON(w, http.StatusCreated, withSecret(made))
	return nil
}

// limitParam reads limit (1 to 100, default 50).
func limitParam(r *http.Request) (int, error) {
	n, err := httpapi.QueryInt(r, "limit", 50)
	if err == nil && (n < 1 || n > 100) {
		err = verigate.FieldError("limit", "must be between 1 and 100")
	}
	return n, err
}

func (h *Handler) listEndpoints(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	after, err := queryUUID(r, "after")
	if err != nil {
		return err
	}
	list, err := h.Webhooks.List(r.Context(), after, limit)
	if err != nil {
		return err
	}
	out := make([]endpointJSON, 0, len(list))
	for _, e := range list {
		out = append(out, toEndpoint(e))
	}
	var next *string
	if len(list) == limit {
		next = &list[len(list)-1].ID
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"webhook_endpoints": out, "limit": limit, "next_after": next})
	return nil
}

func (h *Handler) getEndpoint(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "endpointId")
	if err != nil {
		return err
	}
	e, err := h.Webhooks.Get(r.Context(), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toEndpoint(e))
	return nil
}

type updateEndpointRequest struct {
	URL             *string                  `json:"url"`
	Description     *string                  `json:"description"`
	EventTypes      *[]verigate.EventType    `json:"event_types"`
	Enabled         *bool                    `json:"enabled"`
	RateLimit       *int                     `json:"rate_limit"`
	IncludeChildren *bool                    `json:"include_children"`
	IncludePII      *bool                    `json:"include_pii"`
	Flavour         *verigate.WebhookFlavour `json:"flavour"`
	Auth            *authRequest             `json:"auth"`
}

func (h *Handler) updateEndpoint(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "endpointId")
	if err != nil {
		return err
	}
	var in updateEndpointRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	up := delivery.EndpointUpdate{URL: in.URL, Description: in.Description, EventTypes: in.EventTypes, Enabled: in.Enabled,
		RateLimit: in.RateLimit, IncludeChildren: in.IncludeChildren, IncludePII: in.IncludePII, Flavour: in.Flavour}
	if in == (updateEndpointRequest{}) {
		return verigate.Errorf(verigate.EINVALID, "The request body must give at least one field to change.")
	}
	if in.Auth != nil {
		scheme, token, err := in.Auth.check(true)
		if err != nil {
			return err
		}
		up.AuthScheme, up.AuthToken = &scheme, &token
	}
	e, err := h.Webhooks.Update(r.Context(), id, up)
	if err != nil {
		return verigate.Rename(err, fieldNames)
	}
	httpapi.WriteJSON(w, http.StatusOK, toEndpoint(e))
	return nil
}

func (h *Handler) deleteEndpoint(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "endpointId")
	if err != nil {
		return err
	}
	if err := h.Webhooks.Delete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) rotateSecret(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "endpointId")
	if err != nil {
		return err
	}
	made, err := h.Webhooks.RotateSecret(r.Context(), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, withSecret(made))
	return nil
}

type messageJSON struct {
	ID            string          `json:"id"`
	EndpointID    string          `json:"endpoint_id"`
	EventID       *int64          `json:"event_id"`
	EventType     string          `json:"event_type"`
	Status        string          `json:"status"`
	AttemptCount  int             `json:"attempt_count"`
	NextAttemptAt *string         `json:"next_attempt_at"`
	CreatedAt     string          `json:"created_at"`
	UpdatedAt     string          `json:"updated_at"`
	DeliveredAt   *string         `json:"delivered_at"`
	Body          json.RawMessage `json:"body"`
}

func toMessage(m *verigate.WebhookMessage) messageJSON {
	j := messageJSON{ID: m.ID, EndpointID: m.EndpointID, EventType: string(m.EventType), Status: string(m.Status),
		AttemptCount: m.Attempts, NextAttemptAt: tsPtr(m.NextAttemptAt), CreatedAt: ts(m.CreatedAt), UpdatedAt: ts(m.UpdatedAt),
		DeliveredAt: tsPtr(m.DeliveredAt), Body: m.Body}
	if m.EventID != 0 {
		j.EventID = &m.EventID
	}
	if !json.Valid(j.Body) {
		j.Body = json.RawMessage("null")
	}
	return j
}

type attemptJSON struct {
	N             int     `json:"n"`
	At            string  `json:"at"`
	Trigger       string  `json:"trigger"`
	StatusCode    *int    `json:"status_code"`
	LatencyMS     int64   `json:"latency_ms"`
	Response      string  `json:"response"`
	Error         *string `json:"error"`
	NextAttemptAt *string `json:"next_attempt_at"`
}

func toAttempt(a verigate.WebhookAttempt) attemptJSON {
	j := attemptJSON{N: a.N, At: ts(a.At), Trigger: string(a.Trigger), LatencyMS: a.Latency.Milliseconds(), Response: a.Response,
		Error: strPtr(a.Error), NextAttemptAt: tsPtr(a.NextAttemptAt)}
	if a.StatusCode != 0 {
		j.StatusCode = &a.StatusCode
	}
	return j
}

type testRequest struct {
	EventType verigate.EventType `json:"event_type"`
}

func (h *Handler) sendTest(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "endpointId")
	if err != nil {
		return err
	}
	var in testRequest
	if err := httpapi.DecodeJSON(r, &in, true); err != nil {
		return err
	}
	m, err := h.Webhooks.SendTest(r.Context(), id, in.EventType)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusAccepted, toMessage(m))
	return nil
}

func (h *Handler) listMessages(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "endpointId")
	if err != nil {
		return err
	}
	f := delivery.MessageFilter{}
	if f.Limit, err = limitParam(r); err != nil {
		return err
	}
	if f.Before, err = queryUUID(r, "before"); err != nil {
		return err
	}
	status, err := httpapi.QueryString(r, "status")
	if err != nil {
		return err
	}
	eventType, err := httpapi.QueryString(r, "event_type")
	if err != nil {
		return err
	}
	f.Status, f.EventType = verigate.WebhookMessageStatus(status), verigate.EventType(eventType)
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		t, err := httpapi.QueryTime(r, name, name == "until")
		if err != nil {
			return err
		}
		if t != nil {
			*dst = *t
		}
	}
	list, err := h.Webhooks.Messages(r.Context(), id, f)
	if err != nil {
		return err
	}
	out := make([]messageJSON, 0, len(list))
	for _, m := range list {
		out = append(out, toMessage(m))
	}
	var next *string
	if len(list) == f.Limit {
		next = &list[len(list)-1].ID
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"messages": out, "limit": f.Limit, "next_before": next})
	return nil
}

func (h *Handler) getMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "endpointId")
	if err != nil {
		return err
	}
	msg, err := httpapi.PathUUID(r, "messageId")
	if err != nil {
		return err
	}
	m, attempts, err := h.Webhooks.Message(r.Context(), id, msg)
	if err != nil {
		return err
	}
	j := messageDetail{messageJSON: toMessage(m), Attempts: make([]attemptJSON, 0, len(attempts))}
	for _, a := range attempts {
		j.Attempts = append(j.Attempts, toAttempt(a))
	}
	httpapi.WriteJSON(w, http.StatusOK, j)
	return nil
}

// messageDetail is one message with its whole attempt log, present (as
// []) even before the first attempt.
type messageDetail struct {
	messageJSON
	Attempts []attemptJSON `json:"attempts"`
}

func (h *Handler) redeliver(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "endpointId")
	if err != nil {
		return err
	}
	msg, err := httpapi.PathUUID(r, "messageId")
	if err != nil {
		return err
	}
	if err := h.Webhooks.Redeliver(r.Context(), id, msg); err != nil {
		return err
	}
	m, _, err := h.Webhooks.Message(r.Context(), id, msg)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusAccepted, toMessage(m))
	return nil
}

type replayRequest struct {
	Since      *time.Time `json:"since"`
	OnlyFailed bool       `json:"only_failed"`
}

func (h *Handler) replay(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathUUID(r, "endpointId")
	if err != nil {
		return err
	}
	var in replayRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Since == nil {
		return verigate.FieldError("since", "is required: an RFC 3339 time")
	}
	n, err := h.Webhooks.Replay(r.Context(), id, *in.Since, in.OnlyFailed)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]int{"queued": n})
	return nil
}

type eventJSON struct {
	ID        int64           `json:"id"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

func (h *Handler) listEvents(w http.ResponseWriter, r *http.Request) error {
	f := delivery.EventFilter{}
	var err error
	if f.Limit, err = limitParam(r); err != nil {
		return err
	}
	if f.After, err = httpapi.QueryID(r, "after"); err != nil {
		return err
	}
	typ, err := httpapi.QueryString(r, "type")
	if err != nil {
		return err
	}
	f.Type = verigate.EventType(typ)
	list, err := h.Webhooks.Events(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]eventJSON, 0, len(list))
	for _, e := range list {
		out = append(out, eventJSON{ID: e.ID, Type: string(e.Type), CreatedAt: ts(e.CreatedAt), Data: e.Data(false)})
	}
	var next *int64
	if len(list) == f.Limit {
		next = &list[len(list)-1].ID
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"events": out, "limit": f.Limit, "next_after": next})
	return nil
}

type verificationSecretJSON struct {
	OrganizationID     string  `json:"organization_id"`
	Mode               string  `json:"mode"`
	CreatedAt          string  `json:"created_at"`
	RotatedAt          string  `json:"rotated_at"`
	PreviousValidUntil *string `json:"previous_valid_until"`
	Secret             *string `json:"secret,omitempty"` // on rotate only
}

func toVerificationSecret(s *verigate.VerificationSecret) verificationSecretJSON {
	return verificationSecretJSON{OrganizationID: s.OrgID, Mode: string(s.Mode), CreatedAt: ts(s.CreatedAt),
		RotatedAt: ts(s.RotatedAt), PreviousValidUntil: tsPtr(s.Keys.PreviousUntil)}
}

func (h *Handler) getVerificationSecret(w http.ResponseWriter, r *http.Request) error {
	org, err := httpapi.QueryString(r, "organization_id")
	if err != nil {
		return err
	}
	sec, err := h.Webhooks.VerificationSecret(r.Context(), org)
	if err != nil {
		return verigate.Rename(err, fieldNames)
	}
	httpapi.WriteJSON(w, http.StatusOK, toVerificationSecret(sec))
	return nil
}

type rotateVerificationSecretRequest struct {
	OrganizationID string `json:"organization_id"`
}

func (h *Handler) rotateVerificationSecret(w http.ResponseWriter, r *http.Request) error {
	var req rotateVerificationSecretRequest
	if err := httpapi.DecodeJSON(r, &req, true); err != nil {
		return err
	}
	sec, secret, err := h.Webhooks.RotateVerificationSecret(r.Context(), req.OrganizationID)
	if err != nil {
		return verigate.Rename(err, fieldNames)
	}
	j := toVerificationSecret(sec)
	j.Secret = &secret
	httpapi.WriteJSON(w, http.StatusOK, j)
	return nil
}
