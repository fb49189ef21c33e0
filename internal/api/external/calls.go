package external

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/calls"
	"github.com/verigate/verigate/internal/webhook"
)

type eventJSON struct {
	Type   string `json:"type"`
	At     string `json:"at"`
	Detail string `json:"detail,omitempty"`
}

type phoneCallJSON struct {
	VoiceID        string        `json:"voiceId"`
	PhoneNumber    string        `json:"phoneNumber"`
	CallerName     string        `json:"callerName"`
	ReceivedAt     string        `json:"receivedAt"`
	Status         string        `json:"status"`
	PersonID       *string       `json:"personId"`
	MemberName     *string       `json:"memberName"`
	Risk           verigate.Risk `json:"risk"`
	IsEnrolled     bool          `json:"isEnrolled"`
	IsVerified     bool          `json:"isVerified"`
	ValidationType *string       `json:"validationType"`
	DecidedBy      *string       `json:"decidedBy"`
	DecidedAt      *string       `json:"decidedAt"`
	Events         []eventJSON   `json:"events"`
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toPhoneCall(c *verigate.PhoneCall) phoneCallJSON {
	j := phoneCallJSON{VoiceID: c.VoiceID, PhoneNumber: c.PhoneNumber, CallerName: c.CallerName,
		ReceivedAt: formatTime(c.ReceivedAt), Status: string(c.Status), PersonID: nonEmpty(c.PersonID), Risk: c.Risk,
		IsVerified: c.Verified, ValidationType: nonEmpty(c.ValidationType), DecidedBy: nonEmpty(c.DecidedBy),
		DecidedAt: formatTimePtr(c.DecidedAt), Events: []eventJSON{}}
	if c.Member != nil {
		j.MemberName, j.IsEnrolled = &c.Member.Name, c.Member.VoiceEnrolled
	}
	for _, e := range c.Events {
		j.Events = append(j.Events, eventJSON{Type: e.Type, At: formatTime(e.At), Detail: e.Detail})
	}
	return j
}

type phoneCallBody struct {
	Success   bool          `json:"success"`
	PhoneCall phoneCallJSON `json:"phoneCall"`
}

func (h *Handler) queue(w http.ResponseWriter, r *http.Request) error {
	search, err := httpapi.QueryString(r, "search")
	if err != nil {
		return err
	}
	f := verigate.CallFilter{Search: search}
	if f.Limit, err = httpapi.QueryInt(r, "limit", calls.DefaultLimit); err != nil {
		return err
	}
	if f.Offset, err = httpapi.QueryInt(r, "offset", 0); err != nil {
		return err
	}
	if f.From, err = httpapi.QueryTime(r, "from", false); err != nil {
		return err
	}
	if f.To, err = httpapi.QueryTime(r, "to", true); err != nil {
		return err
	}
	list, total, err := h.Calls.Queue(r.Context(), sessionFrom(r.Context()).institution, f)
	if err != nil {
		return err
	}
	out := []phoneCallJSON{}
	for _, c := range list {
		out = append(out, toPhoneCall(c))
	}
	return ok(w, http.StatusOK, struct {
		Success    bool            `json:"success"`
		PhoneCalls []phoneCallJSON `json:"phoneCalls"`
		Total      int             `json:"total"`
		Limit      int             `json:"limit"`
		Offset     int             `json:"offset"`
	}{true, out, total, f.Limit, f.Offset})
}

type assignRequest struct {
	VoiceID     string `json:"voiceId"`
	PhoneNumber string `json:"phoneNumber"`
	PersonID    string `json:"personId"`
	MemberName  string `json:"memberName"`
}

func (h *Handler) assign(w http.ResponseWriter, r *http.Request) error {
	var in assignRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	c, err := h.Calls.Assign(r.Context(), sessionFrom(r.Context()).institution, calls.AssignInput(in))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, struct {
		Success   bool          `json:"success"`
		VoiceID   string        `json:"voiceId"`
		PhoneCall phoneCallJSON `json:"phoneCall"`
	}{true, c.VoiceID, toPhoneCall(c)})
}

func (h *Handler) details(w http.ResponseWriter, r *http.Request) error {
	c, err := h.Calls.Details(r.Context(), sessionFrom(r.Context()).institution, r.PathValue("voiceId"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, phoneCallBody{Success: true, PhoneCall: toPhoneCall(c)})
}

type enrollRequest struct {
	ValidationType string `json:"validationType"`
}

func (h *Handler) enroll(w http.ResponseWriter, r *http.Request) error {
	var in enrollRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	c, err := h.Calls.Enroll(r.Context(), sessionFrom(r.Context()).institution, r.PathValue("voiceId"), in.ValidationType)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, phoneCallBody{Success: true, PhoneCall: toPhoneCall(c)})
}

type rejectRequest struct {
	Reason string `json:"reason"`
}

func (h *Handler) rejectVoice(w http.ResponseWriter, r *http.Request) error {
	var in rejectRequest
	if err := httpapi.DecodeJSON(r, &in, true); err != nil {
		return err
	}
	c, err := h.Calls.RejectVoice(r.Context(), sessionFrom(r.Context()).institution, r.PathValue("voiceId"), in.Reason)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, phoneCallBody{Success: true, PhoneCall: toPhoneCall(c)})
}

// ingestRequest is a telephony integration's report of an inbound call.
type ingestRequest struct {
	Provider    string     `json:"provider"`
	CallID      string     `json:"callId"`
	PhoneNumber string     `json:"phoneNumber"`
	CallerName  string     `json:"callerName"`
	ReceivedAt  *time.Time `json:"receivedAt"`
	Risk        *struct {
		Score int `json:"score"`
	} `json:"risk"`
	Events []struct {
		Type   string     `json:"type"`
		At     *time.Time `json:"at"`
		Detail string     `json:"detail"`
	} `json:"events"`
}

func (h *Handler) ingest(w http.ResponseWriter, r *http.Request) error {
	body, err := httpapi.ReadBody(r)
	if err != nil {
		return err
	}
	var sig webhook.Signature
	for _, h := range []struct {
		name string
		to   *string
	}{{webhook.HeaderID, &sig.ID}, {webhook.HeaderTimestamp, &sig.Timestamp}, {webhook.HeaderSignature, &sig.Signatures}} {
		if *h.to, err = httpapi.DataHeader(r, h.name); err != nil {
			return calls.ErrBadSignature
		}
	}
	report := calls.Report{InstitutionKey: r.PathValue("institutionKey"), Signature: sig, Body: body,
		Decode: func() (calls.IncomingCall, error) { return decodeReport(r, body) }}
	c, created, err := h.Calls.Receive(r.Context(), report)
	if err != nil {
		return err
	}
	status := http.StatusOK // a retried report: answered as before, so the sender stops retrying
	if created {
		status = http.StatusCreated
	}
	return ok(w, status, struct {
		Success bool   `json:"success"`
		VoiceID string `json:"voiceId"`
	}{true, c.VoiceID})
}

// decodeReport reads a voice provider's report.
func decodeReport(r *http.Request, body []byte) (calls.IncomingCall, error) {
	var in ingestRequest
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return calls.IncomingCall{}, err
	}
	call := calls.IncomingCall{Provider: in.Provider, ProviderCallID: in.CallID, PhoneNumber: in.PhoneNumber, CallerName: in.CallerName}
	if in.ReceivedAt != nil {
		call.ReceivedAt = *in.ReceivedAt
	}
	if in.Risk != nil {
		call.Risk = &verigate.Risk{Score: in.Risk.Score}
	}
	for _, e := range in.Events {
		ce := verigate.CallEvent{Type: e.Type, Detail: e.Detail}
		if e.At != nil {
			ce.At = *e.At
		}
		call.Events = append(call.Events, ce)
	}
	return call, nil
}
