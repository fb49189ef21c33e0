package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/delivery"
)

// Webhook endpoints: the delivery service's use cases, as /v1's
// /webhook-endpoints calls them. An endpoint lives in one mode; the pages
// work in live mode unless asked for test (?mode=test, or the form's
// mode), and act with the person's permissions in that mode.

// webhookRoutes registers the pages of this section.
func (h *Handler) webhookRoutes(rt *router) {
	rt.page("GET /dashboard/webhooks", h.webhooks)
	rt.page("GET /dashboard/webhooks/new", h.newWebhook)
	rt.form("POST /dashboard/webhooks", h.createWebhook)
	rt.page("GET /dashboard/webhooks/{id}", h.webhook)
	rt.form("POST /dashboard/webhooks/{id}", h.updateWebhook)
	rt.form("POST /dashboard/webhooks/{id}/enable", h.enableWebhook)
	rt.form("POST /dashboard/webhooks/{id}/disable", h.enableWebhook)
	rt.form("POST /dashboard/webhooks/{id}/delete", h.deleteWebhook)
	rt.form("POST /dashboard/webhooks/{id}/rotate-secret", h.rotateWebhookSecret)
	rt.form("POST /dashboard/webhooks/{id}/test", h.testWebhook)
	rt.form("POST /dashboard/webhooks/{id}/replay", h.replayWebhook)
	rt.page("GET /dashboard/webhooks/{id}/messages/{messageId}", h.webhookMessage)
	rt.form("POST /dashboard/webhooks/{id}/messages/{messageId}/redeliver", h.redeliverWebhookMessage)
}

// errWebhookNotFound answers an id that is not a UUID as the service
// answers a missing endpoint.
var errWebhookNotFound = delivery.ErrNotFound

// webhookModeOf reads the mode a page or form works in: the endpoint's
// own, named by the page's ?mode= or the form's mode field, else the
// session's (the layout's switch). The principal acts in it; nothing
// else about it changes.
func webhookModeOf(q *req) (context.Context, verigate.Mode, error) {
	s := q.r.PostForm.Get("mode")
	if q.r.Method == http.MethodGet {
		var err error
		if s, err = httpapi.QueryString(q.r, "mode"); err != nil {
			return nil, "", err
		}
	}
	switch verigate.Mode(s) {
	case "":
		return q.ctx, q.p.Mode, nil
	case verigate.ModeLive, verigate.ModeTest:
		p := *q.p
		p.Mode = verigate.Mode(s)
		return verigate.WithPrincipal(q.ctx, &p), p.Mode, nil
	}
	return nil, "", verigate.FieldError("mode", "must be live or test")
}

// endpointOf reads what every page and form of one endpoint starts with:
// its mode (webhookModeOf) and its id from the path.
func endpointOf(q *req) (context.Context, verigate.Mode, string, error) {
	ctx, mode, err := webhookModeOf(q)
	if err != nil {
		return nil, "", "", err
	}
	id, err := webhookPathID(q, "id", errWebhookNotFound)
	return ctx, mode, id, err
}

// webhookPath is an endpoint's page in its mode.
func webhookPath(id string, mode verigate.Mode) string {
	p := "/dashboard/webhooks/" + id
	if mode == verigate.ModeTest {
		p += "?mode=test"
	}
	return p
}

// webhookPathID reads a path UUID; anything else is a missing endpoint.
func webhookPathID(q *req, name string, notFound error) (string, error) {
	id := q.r.PathValue(name)
	if !httpapi.IsUUID(id) {
		return "", notFound
	}
	return id, nil
}

type webhookListView struct {
	Mode      verigate.Mode
	Endpoints []*verigate.WebhookEndpoint
	Next      string
}

func (h *Handler) webhooks(q *req) error {
	ctx, mode, err := webhookModeOf(q)
	if err != nil {
		return err
	}
	after, err := httpapi.QueryString(q.r, "after")
	if err != nil {
		return err
	}
	if after != "" && !httpapi.IsUUID(after) {
		return verigate.FieldError("after", "must be an id from the previous page")
	}
	const limit = 50
	list, err := h.Webhooks.List(ctx, after, limit)
	if err != nil {
		return err
	}
	v := webhookListView{Mode: mode, Endpoints: list}
	if len(list) == limit {
		v.Next = list[len(list)-1].ID
	}
	return q.render(http.StatusOK, "webhooks", "Webhooks", "/dashboard/webhooks", v)
}

// webhookForm is the create and settings form, as entered.
type webhookForm struct {
	ID, URL, Description string
	Mode                 verigate.Mode
	EventTypes           []verigate.EventType
	IncludeChildren      bool
	IncludePII           bool
	Error                string
	Fields               map[string]string
}

// Checked tells whether the form selects event type t.
func (f webhookForm) Checked(t verigate.EventType) bool { return slices.Contains(f.EventTypes, t) }

// readWebhookForm reads the posted settings.
func readWebhookForm(q *req) webhookForm {
	f := webhookForm{URL: q.r.PostForm.Get("url"), Description: q.r.PostForm.Get("description"),
		IncludeChildren: q.r.PostForm.Get("include_children") == "on", IncludePII: q.r.PostForm.Get("include_pii") == "on"}
	for _, t := range q.r.PostForm["event_types"] {
		f.EventTypes = append(f.EventTypes, verigate.EventType(t))
	}
	return f
}

// formError fills a form's message from a validation error; other
// errors are returned to be shown as a page.
func formError(err error, msg *string, fields *map[string]string) error {
	if verigate.ErrorCode(err) != verigate.EINVALID {
		return err
	}
	*msg = verigate.ErrorMessage(err)
	if ve, ok := err.(*verigate.Error); ok {
		*fields = ve.Fields
	}
	return nil
}

type webhookNewView struct {
	Form  webhookForm
	Types []verigate.WebhookEventType
}

func (h *Handler) newWebhook(q *req) error {
	_, mode, err := webhookModeOf(q)
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "webhook_new", "New webhook endpoint", "/dashboard/webhooks",
		webhookNewView{Form: webhookForm{Mode: mode}, Types: verigate.WebhookEventTypes})
}

// webhookSecretView shows an endpoint's signing secret, this once.
type webhookSecretView struct {
	Endpoint *verigate.WebhookEndpoint
	Secret   string
	Rotated  bool
}

func (h *Handler) createWebhook(q *req) error {
	ctx, mode, err := webhookModeOf(q)
	if err != nil {
		return err
	}
	org, err := q.Org()
	if err != nil {
		return err
	}
	f := readWebhookForm(q)
	f.Mode = mode
	made, err := h.Webhooks.Create(ctx, delivery.EndpointInput{OrgID: org.ID, URL: f.URL, Description: f.Description,
		EventTypes: f.EventTypes, IncludeChildren: f.IncludeChildren, IncludePII: f.IncludePII})
	if err != nil {
		if err := formError(err, &f.Error, &f.Fields); err != nil {
			return err
		}
		return q.render(http.StatusUnprocessableEntity, "webhook_new", "New webhook endpoint", "/dashboard/webhooks",
			webhookNewView{Form: f, Types: verigate.WebhookEventTypes})
	}
	return q.render(http.StatusCreated, "webhook_secret", "Webhook endpoint created", "/dashboard/webhooks",
		webhookSecretView{Endpoint: made.Endpoint, Secret: made.Secret})
}

type webhookView struct {
	Endpoint *verigate.WebhookEndpoint
	Form     webhookForm
	Types    []verigate.WebhookEventType
	Log      []delivery.LogEntry
	Next     string
	// Since is the replay form's default: a day ago, as the input wants it.
	Since string
}

// webhookLogSize is the delivery log's page size on an endpoint's page.
const webhookLogSize = 25

func (h *Handler) webhook(q *req) error {
	ctx, _, id, err := endpointOf(q)
	if err != nil {
		return err
	}
	before, err := httpapi.QueryString(q.r, "before")
	if err != nil {
		return err
	}
	if before != "" && !httpapi.IsUUID(before) {
		return verigate.FieldError("before", "must be an id from the previous page")
	}
	e, err := h.Webhooks.Get(ctx, id)
	if err != nil {
		return err
	}
	return h.renderWebhook(q, ctx, http.StatusOK, e, webhookFormOf(e), before)
}

func webhookFormOf(e *verigate.WebhookEndpoint) webhookForm {
	return webhookForm{ID: e.ID, URL: e.URL, Description: e.Description, Mode: e.Mode, EventTypes: e.EventTypes,
		IncludeChildren: e.IncludeChildren, IncludePII: e.IncludePII}
}

// renderWebhook shows an endpoint's page: its settings form (f, as
// entered when it was refused) and a page of its delivery log.
func (h *Handler) renderWebhook(q *req, ctx context.Context, status int, e *verigate.WebhookEndpoint, f webhookForm, before string) error {
	log, err := h.Webhooks.Log(ctx, e.ID, delivery.MessageFilter{Before: before, Limit: webhookLogSize})
	if err != nil {
		return err
	}
	v := webhookView{Endpoint: e, Form: f, Types: verigate.WebhookEventTypes, Log: log,
		Since: h.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02T15:04")}
	if len(log) == webhookLogSize {
		v.Next = log[len(log)-1].Message.ID
	}
	return q.render(status, "webhook", "Webhook endpoint", "/dashboard/webhooks", v)
}

func (h *Handler) updateWebhook(q *req) error {
	ctx, _, id, err := endpointOf(q)
	if err != nil {
		return err
	}
	f := readWebhookForm(q)
	types := f.EventTypes
	if types == nil {
		types = []verigate.EventType{}
	}
	e, err := h.Webhooks.Update(ctx, id, delivery.EndpointUpdate{URL: &f.URL, Description: &f.Description, EventTypes: &types,
		IncludeChildren: &f.IncludeChildren, IncludePII: &f.IncludePII})
	if err != nil {
		if err := formError(err, &f.Error, &f.Fields); err != nil {
			return err
		}
		e, err := h.Webhooks.Get(ctx, id)
		if err != nil {
			return err
		}
		f.ID, f.Mode = e.ID, e.Mode
		return h.renderWebhook(q, ctx, http.StatusUnprocessableEntity, e, f, "")
	}
	return q.redirect(webhookPath(e.ID, e.Mode), "Settings saved.")
}

// enableWebhook serves both …/enable and …/disable.
func (h *Handler) enableWebhook(q *req) error {
	ctx, _, id, err := endpointOf(q)
	if err != nil {
		return err
	}
	enable := q.r.Pattern == "POST /dashboard/webhooks/{id}/enable"
	e, err := h.Webhooks.Update(ctx, id, delivery.EndpointUpdate{Enabled: &enable})
	if err != nil {
		return err
	}
	notice := "Endpoint disabled: nothing is sent to it until it is enabled."
	if enable {
		notice = "Endpoint enabled."
	}
	return q.redirect(webhookPath(e.ID, e.Mode), notice)
}

func (h *Handler) deleteWebhook(q *req) error {
	ctx, mode, id, err := endpointOf(q)
	if err != nil {
		return err
	}
	if err := h.Webhooks.Delete(ctx, id); err != nil {
		return err
	}
	path := "/dashboard/webhooks"
	if mode == verigate.ModeTest {
		path += "?mode=test"
	}
	return q.redirect(path, "Endpoint deleted, with its delivery log.")
}

func (h *Handler) rotateWebhookSecret(q *req) error {
	ctx, _, id, err := endpointOf(q)
	if err != nil {
		return err
	}
	made, err := h.Webhooks.RotateSecret(ctx, id)
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "webhook_secret", "New signing secret", "/dashboard/webhooks",
		webhookSecretView{Endpoint: made.Endpoint, Secret: made.Secret, Rotated: true})
}

func (h *Handler) testWebhook(q *req) error {
	ctx, mode, id, err := endpointOf(q)
	if err != nil {
		return err
	}
	m, err := h.Webhooks.SendTest(ctx, id, verigate.EventType(q.r.PostForm.Get("event_type")))
	if err != nil {
		return err
	}
	return q.redirect(webhookPath(id, mode), "Test "+string(m.EventType)+" message queued; it appears in the delivery log below.")
}

func (h *Handler) replayWebhook(q *req) error {
	ctx, mode, id, err := endpointOf(q)
	if err != nil {
		return err
	}
	since, err := time.Parse("2006-01-02T15:04", q.r.PostForm.Get("since"))
	if err != nil {
		return verigate.FieldError("since", "must be a date and time (UTC)")
	}
	n, err := h.Webhooks.Replay(ctx, id, since, q.r.PostForm.Get("only_failed") == "on")
	if err != nil {
		return err
	}
	notice := "No messages to replay since then."
	switch {
	case n == 1:
		notice = "1 message queued again."
	case n > 1:
		notice = strconv.Itoa(n) + " messages queued again."
	}
	return q.redirect(webhookPath(id, mode), notice)
}

type webhookMessageView struct {
	Mode     verigate.Mode
	Message  *verigate.WebhookMessage
	Attempts []verigate.WebhookAttempt
}

func (h *Handler) webhookMessage(q *req) error {
	ctx, mode, id, err := endpointOf(q)
	if err != nil {
		return err
	}
	msg, err := webhookPathID(q, "messageId", delivery.ErrMessageNotFound)
	if err != nil {
		return err
	}
	m, attempts, err := h.Webhooks.Message(ctx, id, msg)
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "webhook_message", "Webhook message", "/dashboard/webhooks",
		webhookMessageView{Mode: mode, Message: m, Attempts: attempts})
}

func (h *Handler) redeliverWebhookMessage(q *req) error {
	ctx, mode, id, err := endpointOf(q)
	if err != nil {
		return err
	}
	msg, err := webhookPathID(q, "messageId", delivery.ErrMessageNotFound)
	if err != nil {
		return err
	}
	if err := h.Webhooks.Redeliver(ctx, id, msg); err != nil {
		return err
	}
	path := "/dashboard/webhooks/" + id + "/messages/" + msg
	if mode == verigate.ModeTest {
		path += "?" + url.Values{"mode": {"test"}}.Encode()
	}
	return q.redirect(path, "Message queued for another attempt.")
}
