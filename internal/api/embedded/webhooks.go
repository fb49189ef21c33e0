package embedded

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/delivery"
)

// Webhooks (/webhooks) and the event stream (/events): the delivery
// service's use cases in the Embedded API's dialect (camelCase,
// ExactPay's error body), accepting ExactPay's {event|events, url|urls,
// description}. Secrets appear only in the answers to create and
// rotate-secret; auth tokens never.

// fieldNames are the delivery service's field names as this surface
// spells them.
var fieldNames = map[string]string{"event_types": "eventTypes", "rate_limit": "rateLimit", "auth_scheme": "auth.scheme",
	"auth_token": "auth.token", "organization": "account", "event_type": "eventType"}

// cursor reads an optional cursor: an id from the previous page.
func cursor(r *http.Request, name string) (string, error) {
	s, err := httpapi.QueryString(r, name)
	if err == nil && s != "" && !httpapi.IsUUID(s) {
		err = verigate.FieldError(name, "must be an id from the previous page")
	}
	return s, err
}

// webhookLimit reads limit (1 to 100, default 50).
func webhookLimit(r *http.Request) (int, error) {
	n, err := httpapi.QueryInt(r, "limit", 50)
	if err == nil && (n < 1 || n > 100) {
		err = verigate.FieldError("limit", "must be between 1 and 100")
	}
	return n, err
}

func timePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	return formatTimePtr(&t)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type webhookAuthJSON struct {
	Scheme string `json:"scheme"`
}

type webhookJSON struct {
	ID              string           `json:"id"`
	Account         string           `json:"account"`
	Mode            string           `json:"mode"`
	URL             string           `json:"url"`
	Description     string           `json:"description"`
	EventTypes      []string         `json:"eventTypes"`
	Enabled         bool             `json:"enabled"`
	DisabledReason  *string          `json:"disabledReason"`
	FailingSince    *string          `json:"failingSince"`
	RateLimit       int              `json:"rateLimit"`
	IncludeChildren bool             `json:"includeChildren"`
	IncludePII      bool             `json:"includePii"`
	Flavour         string           `json:"flavour"`
	Auth            *webhookAuthJSON `json:"auth"`
	CreatedAt       string           `json:"createdAt"`
	UpdatedAt       string           `json:"updatedAt"`
	Secret          *string          `json:"secret,omitempty"` // on create and rotate-secret only
}

func toWebhook(e *verigate.WebhookEndpoint) webhookJSON {
	j := webhookJSON{ID: e.ID, Account: e.OrgID, Mode: string(e.Mode), URL: e.URL, Description: e.Description, EventTypes: []string{},
		Enabled: e.Enabled, DisabledReason: optional(e.DisabledReason), FailingSince: timePtr(e.FailingSince), RateLimit: e.RateLimit,
		IncludeChildren: e.IncludeChildren, IncludePII: e.IncludePII, Flavour: string(e.Flavour),
		CreatedAt: formatTime(e.CreatedAt), UpdatedAt: formatTime(e.UpdatedAt)}
	for _, t := range e.EventTypes {
		j.EventTypes = append(j.EventTypes, string(t))
	}
	if e.AuthScheme != verigate.AuthNone {
		j.Auth = &webhookAuthJSON{Scheme: string(e.AuthScheme)}
	}
	return j
}

func withSecret(s *verigate.WebhookEndpointSecret) webhookJSON {
	j := toWebhook(s.Endpoint)
	j.Secret = &s.Secret
	return j
}

type webhookAuthRequest struct {
	Scheme verigate.WebhookAuthScheme `json:"scheme"`
	Token  *string                    `json:"token"`
}

// check reads an auth object: a scheme, and with Bearer or Api-Key its
// token; the scheme "none" (dropping the header) only when updating.
func (a *webhookAuthRequest) check(update bool) (verigate.WebhookAuthScheme, string, error) {
	switch {
	case a.Scheme == "none" && update:
		if a.Token != nil {
			return "", "", verigate.FieldError("auth.token", "must not be given with the scheme none")
		}
		return verigate.AuthNone, "", nil
	case a.Scheme != verigate.AuthBearer && a.Scheme != verigate.AuthAPIKey:
		if update {
			return "", "", verigate.FieldError("auth.scheme", "must be Bearer, Api-Key or none")
		}
		return "", "", verigate.FieldError("auth.scheme", "must be Bearer or Api-Key")
	case a.Token == nil:
		return "", "", verigate.FieldError("auth.token", "is required with a scheme")
	}
	return a.Scheme, *a.Token, nil
}

// createWebhookRequest is ExactPay's body ({event|events, url|urls,
// description}) with Verigate's settings beside it.
type createWebhookRequest struct {
	Event           *verigate.EventType     `json:"event"`
	Events          []verigate.EventType    `json:"events"`
	EventTypes      []verigate.EventType    `json:"eventTypes"`
	URL             *string                 `json:"url"`
	URLs            []string                `json:"urls"`
	Description     string                  `json:"description"`
	Enabled         *bool                   `json:"enabled"`
	RateLimit       int                     `json:"rateLimit"`
	IncludeChildren bool                    `json:"includeChildren"`
	IncludePII      bool                    `json:"includePii"`
	Flavour         verigate.WebhookFlavour `json:"flavour"`
	Auth            *webhookAuthRequest     `json:"auth"`
	Account         string                  `json:"account"`
}

// createWebhooks makes one endpoint per URL: a url answers the endpoint,
// urls answer {"webhooks": [...]} in their order; each with its secret.
func (h *Handler) createWebhooks(w http.ResponseWriter, r *http.Request) error {
	var in createWebhookRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	urls := in.URLs
	switch {
	case in.URL != nil && in.URLs != nil:
		return verigate.FieldError("urls", "give url or urls, not both")
	case in.URL != nil:
		urls = []string{*in.URL}
	case len(in.URLs) == 0:
		return verigate.FieldError("url", "is required (or urls, a list of 1 to 20)")
	case len(in.URLs) > delivery.MaxCreateEach:
		return verigate.FieldError("urls", "must list 1 to 20 URLs")
	}
	// event, events and eventTypes all name event types; together, their union.
	var types []verigate.EventType
	if in.Event != nil {
		types = append(types, *in.Event)
	}
	for _, t := range append(slices.Clone(in.Events), in.EventTypes...) {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	base := delivery.EndpointInput{OrgID: in.Account, Description: in.Description, EventTypes: types,
		Disabled: in.Enabled != nil && !*in.Enabled, RateLimit: in.RateLimit, IncludeChildren: in.IncludeChildren,
		IncludePII: in.IncludePII, Flavour: in.Flavour}
	if in.Auth != nil {
		var err error
		if base.AuthScheme, base.AuthToken, err = in.Auth.check(false); err != nil {
			return err
		}
	}
	ins := make([]delivery.EndpointInput, len(urls))
	for i, u := range urls {
		ins[i] = base
		ins[i].URL = u
	}
	made, failed, err := h.Webhooks.CreateEach(r.Context(), ins)
	if err != nil {
		names := fieldNames
		if in.URL == nil {
			names = map[string]string{"url": fmt.Sprintf("urls[%d]", failed)}
			for k, v := range fieldNames {
				names[k] = v
			}
		}
		return verigate.Rename(err, names)
	}
	if in.URL != nil {
		return ok(w, http.StatusCreated, withSecret(made[0]))
	}
	out := make([]webhookJSON, len(made))
	for i, m := range made {
		out[i] = withSecret(m)
	}
	return ok(w, http.StatusCreated, map[string]any{"webhooks": out})
}

func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	limit, err := webhookLimit(r)
	if err != nil {
		return err
	}
	after, err := cursor(r, "after")
	if err != nil {
		return err
	}
	list, err := h.Webhooks.List(r.Context(), after, limit)
	if err != nil {
		return err
	}
	out := make([]webhookJSON, 0, len(list))
	for _, e := range list {
		out = append(out, toWebhook(e))
	}
	var next *string
	if len(list) == limit {
		next = &list[len(list)-1].ID
	}
	return ok(w, http.StatusOK, map[string]any{"data": out, "limit": limit, "nextAfter": next})
}

func (h *Handler) getWebhook(w http.ResponseWriter, r *http.Request) error {
	e, err := h.Webhooks.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toWebhook(e))
}

type updateWebhookRequest struct {
	URL             *string                  `json:"url"`
	Description     *string                  `json:"description"`
	EventTypes      *[]verigate.EventType    `json:"eventTypes"`
	Enabled         *bool                    `json:"enabled"`
	RateLimit       *int                     `json:"rateLimit"`
	IncludeChildren *bool                    `json:"includeChildren"`
	IncludePII      *bool                    `json:"includePii"`
	Flavour         *verigate.WebhookFlavour `json:"flavour"`
	Auth            *webhookAuthRequest      `json:"auth"`
}

func (h *Handler) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	var in updateWebhookRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in == (updateWebhookRequest{}) {
		return verigate.Errorf(verigate.EINVALID, "The request body must give at least one field to change.")
	}
	up := delivery.EndpointUpdate{URL: in.URL, Description: in.Description, EventTypes: in.EventTypes, Enabled: in.Enabled,
		RateLimit: in.RateLimit, IncludeChildren: in.IncludeChildren, IncludePII: in.IncludePII, Flavour: in.Flavour}
	if in.Auth != nil {
		scheme, token, err := in.Auth.check(true)
		if err != nil {
			return err
		}
		up.AuthScheme, up.AuthToken = &scheme, &token
	}
	e, err := h.Webhooks.Update(r.Context(), r.PathValue("id"), up)
	if err != nil {
		return verigate.Rename(err, fieldNames)
	}
	return ok(w, http.StatusOK, toWebhook(e))
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := h.Webhooks.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return noContent(w)
}

func (h *Handler) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	made, err := h.Webhooks.RotateSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, withSecret(made))
}

type webhookMessageJSON struct {
	ID            string          `json:"id"`
	EndpointID    string          `json:"endpointId"`
	EventID       *int64          `json:"eventId"`
	EventType     string          `json:"eventType"`
	Status        string          `json:"status"`
	AttemptCount  int             `json:"attemptCount"`
	NextAttemptAt *string         `json:"nextAttemptAt"`
	CreatedAt     string          `json:"createdAt"`
	UpdatedAt     string          `json:"updatedAt"`
	DeliveredAt   *string         `json:"deliveredAt"`
	Body          json.RawMessage `json:"body"`
}

func toWebhookMessage(m *verigate.WebhookMessage) webhookMessageJSON {
	j := webhookMessageJSON{ID: m.ID, EndpointID: m.EndpointID, EventType: string(m.EventType), Status: string(m.Status),
		AttemptCount: m.Attempts, NextAttemptAt: timePtr(m.NextAttemptAt), CreatedAt: formatTime(m.CreatedAt),
		UpdatedAt: formatTime(m.UpdatedAt), DeliveredAt: timePtr(m.DeliveredAt), Body: m.Body}
	if m.EventID != 0 {
		j.EventID = &m.EventID
	}
	if !json.Valid(j.Body) {
		j.Body = json.RawMessage("null")
	}
	return j
}

type webhookAttemptJSON struct {
	N             int     `json:"n"`
	At            string  `json:"at"`
	Trigger       string  `json:"trigger"`
	StatusCode    *int    `json:"statusCode"`
	LatencyMS     int64   `json:"latencyMs"`
	Response      string  `json:"response"`
	Error         *string `json:"error"`
	NextAttemptAt *string `json:"nextAttemptAt"`
}

type webhookMessageDetail struct {
	webhookMessageJSON
	Attempts []webhookAttemptJSON `json:"attempts"`
}

type webhookTestRequest struct {
	EventType verigate.EventType `json:"eventType"`
}

func (h *Handler) testWebhook(w http.ResponseWriter, r *http.Request) error {
	var in webhookTestRequest
	if err := httpapi.DecodeJSON(r, &in, true); err != nil {
		return err
	}
	m, err := h.Webhooks.SendTest(r.Context(), r.PathValue("id"), in.EventType)
	if err != nil {
		return verigate.Rename(err, fieldNames)
	}
	return ok(w, http.StatusAccepted, toWebhookMessage(m))
}

func (h *Handler) listWebhookMessages(w http.ResponseWriter, r *http.Request) error {
	f := delivery.MessageFilter{}
	var err error
	if f.Limit, err = webhookLimit(r); err != nil {
		return err
	}
	if f.Before, err = cursor(r, "before"); err != nil {
		return err
	}
	status, err := httpapi.QueryString(r, "status")
	if err != nil {
		return err
	}
	eventType, err := httpapi.QueryString(r, "eventType")
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
	list, err := h.Webhooks.Messages(r.Context(), r.PathValue("id"), f)
	if err != nil {
		return verigate.Rename(err, fieldNames)
	}
	out := make([]webhookMessageJSON, 0, len(list))
	for _, m := range list {
		out = append(out, toWebhookMessage(m))
	}
	var next *string
	if len(list) == f.Limit {
		next = &list[len(list)-1].ID
	}
	return ok(w, http.StatusOK, map[string]any{"data": out, "limit": f.Limit, "nextBefore": next})
}

func (h *Handler) getWebhookMessage(w http.ResponseWriter, r *http.Request) error {
	m, attempts, err := h.Webhooks.Message(r.Context(), r.PathValue("id"), r.PathValue("messageId"))
	if err != nil {
		return err
	}
	j := webhookMessageDetail{webhookMessageJSON: toWebhookMessage(m), Attempts: make([]webhookAttemptJSON, 0, len(attempts))}
	for _, a := range attempts {
		aj := webhookAttemptJSON{N: a.N, At: formatTime(a.At), Trigger: string(a.Trigger), LatencyMS: a.Latency.Milliseconds(),
			Response: a.Response, Error: optional(a.Error), NextAttemptAt: timePtr(a.NextAttemptAt)}
		if a.StatusCode != 0 {
			aj.StatusCode = &a.StatusCode
		}
		j.Attempts = append(j.Attempts, aj)
	}
	return ok(w, http.StatusOK, j)
}

func (h *Handler) redeliverWebhookMessage(w http.ResponseWriter, r *http.Request) error {
	id, msg := r.PathValue("id"), r.PathValue("messageId")
	if err := h.Webhooks.Redeliver(r.Context(), id, msg); err != nil {
		return err
	}
	m, _, err := h.Webhooks.Message(r.Context(), id, msg)
	if err != nil {
		return err
	}
	return ok(w, http.StatusAccepted, toWebhookMessage(m))
}

type webhookReplayRequest struct {
	Since      *time.Time `json:"since"`
	OnlyFailed bool       `json:"onlyFailed"`
}

func (h *Handler) replayWebhook(w http.ResponseWriter, r *http.Request) error {
	var in webhookReplayRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Since == nil {
		return verigate.FieldError("since", "is required: an RFC 3339 time")
	}
	n, err := h.Webhooks.Replay(r.Context(), r.PathValue("id"), *in.Since, in.OnlyFailed)
	if err != nil {
		return err
	}
	return ok(w, http.StatusAccepted, map[string]int{"queued": n})
}

type eventJSON struct {
	ID        int64           `json:"id"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"createdAt"`
	Data      json.RawMessage `json:"data"`
}

func (h *Handler) listEvents(w http.ResponseWriter, r *http.Request) error {
	f := delivery.EventFilter{}
	var err error
	if f.Limit, err = webhookLimit(r); err != nil {
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
		out = append(out, eventJSON{ID: e.ID, Type: string(e.Type), CreatedAt: formatTime(e.CreatedAt), Data: e.Data(false)})
	}
	var next *int64
	if len(list) == f.Limit {
		next = &list[len(list)-1].ID
	}
	return ok(w, http.StatusOK, map[string]any{"data": out, "limit": f.Limit, "nextAfter": next})
}
