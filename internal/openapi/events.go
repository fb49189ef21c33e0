package openapi

import (
	"fmt"
	"strings"

	"github.com/verigate/verigate"
)

// webhookData names the schema (under components/schemas, in
// spec/60-webhook-events.json) of each event type's data.
var webhookData = map[verigate.EventType]string{
	verigate.EventVerificationCreated:    "WebhookSessionData",
	verigate.EventVerificationProcessing: "WebhookSessionData",
	verigate.EventVerificationReviewing:  "WebhookSessionData",
	verigate.EventVerificationCompleted:  "WebhookSessionData",
	verigate.EventVerificationFailed:     "WebhookSessionData",
	verigate.EventVerificationExpired:    "WebhookSessionData",
	verigate.EventVerificationRejected:   "WebhookSessionData",
	verigate.EventVerificationCancelled:  "WebhookSessionData",
	verigate.EventStepUpdated:            "WebhookStepData",
	verigate.EventAssistanceRequired:     "WebhookAssistanceData",
	verigate.EventAssistanceResolved:     "WebhookAssistanceData",
	verigate.EventConnectionConnected:    "WebhookConnectionData",
	verigate.EventConnectionFailed:       "WebhookConnectionData",
	verigate.EventCallQueued:             "WebhookCallData",
	verigate.EventCallAssigned:           "WebhookCallData",
	verigate.EventCallEnrolled:           "WebhookCallData",
	verigate.EventCallRejected:           "WebhookCallData",
	"endpoint.disabled":                  "WebhookEndpointDisabledData",
	verigate.EventWebhookTest:            "WebhookTestData",
}

// webhooks is the document's webhooks section: one message per event type
// of verigate.WebhookEventTypes, so the catalogue and its documentation
// cannot differ. A type with no data schema is an error.
func webhooks() (map[string]any, error) {
	out := map[string]any{}
	for _, w := range verigate.WebhookEventTypes {
		schema, ok := webhookData[w.Type]
		if !ok {
			return nil, fmt.Errorf("openapi: event type %s has no data schema", w.Type)
		}
		out[string(w.Type)] = map[string]any{"post": map[string]any{
			"operationId": "webhook." + string(w.Type),
			"tags":        []any{"Webhook events"},
			"summary":     string(w.Type),
			"description": w.Description,
			"security":    []any{},
			"parameters": []any{
				map[string]any{"$ref": "#/components/parameters/WebhookId"},
				map[string]any{"$ref": "#/components/parameters/WebhookTimestamp"},
				map[string]any{"$ref": "#/components/parameters/WebhookSignature"},
			},
			"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{
					"type":     "object",
					"required": []any{"type", "timestamp", "data"},
					"properties": map[string]any{
						"type":      map[string]any{"type": "string", "enum": []any{string(w.Type)}},
						"timestamp": map[string]any{"type": "string", "format": "date-time", "description": "When the event happened."},
						"data":      map[string]any{"$ref": "#/components/schemas/" + schema},
					},
					"additionalProperties": false,
				},
			}}},
			"responses": map[string]any{"2XX": map[string]any{
				"description": "Received. Any other answer is a failure, retried on the schedule (" + retryNote + ").",
			}},
		}}
	}
	return out, nil
}

// retryNote sums up the retry rules for the responses' description.
var retryNote = strings.Join([]string{
	"0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h",
	"3xx is never followed",
	"410 disables the endpoint",
	"Retry-After is honoured on 429 and 503",
	"the header webhook-delivery: abort-message stops retrying",
}, "; ")

// eventTypeSchema is the WebhookEventType schema: every type of the
// catalogue, which endpoints subscribe to and the event stream filters by.
func eventTypeSchema() map[string]any {
	var enum []any
	for _, w := range verigate.WebhookEventTypes {
		enum = append(enum, string(w.Type))
	}
	return map[string]any{"type": "string", "enum": enum, "description": "An event type of the catalogue (see the webhooks section)."}
}
