package v1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/verification"
)

// Verification requests in Konfir's dialect (seed 004): camelCase, a
// request and answer of {data, meta} — data is the verification (its
// applicant, sources, reference), meta how it is wired to the partner
// (candidate URL, redirect, webhook, state). The /v1 error shape still.
// A verification is a /partner session: ids are the same, as strings.

type createVerificationData struct {
	FirstName           string            `json:"firstName"`
	LastName            string            `json:"lastName"`
	Email               string            `json:"email"`
	PhoneNumber         string            `json:"phoneNumber"`
	DateOfBirth         string            `json:"dateOfBirth"`
	ExternalReferenceID string            `json:"externalReferenceId"`
	Metadata            json.RawMessage   `json:"metadata"`
	Activities          []json.RawMessage `json:"activities"`
	VerificationTypeID  *int64            `json:"verificationTypeId"`
	ExpiresInHours      *int              `json:"expiresInHours"`
}

type createVerificationMeta struct {
	RedirectURL string `json:"redirectUrl"`
	WebhookURL  string `json:"webhookUrl"`
	State       string `json:"state"`
}

type createVerificationRequest struct {
	Data *createVerificationData `json:"data"`
	Meta *createVerificationMeta `json:"meta"`
}

// verificationFields are the service's field names as this surface's
// requests spell them (activities[i] are added per request).
var verificationFields = map[string]string{
	"applicantFirstName": "data.firstName", "applicantLastName": "data.lastName", "applicantEmail": "data.email",
	"applicantPhone": "data.phoneNumber", "applicantDob": "data.dateOfBirth", "externalReferenceId": "data.externalReferenceId",
	"metadata": "data.metadata", "allowedSources": "data.activities", "verificationTypeId": "data.verificationTypeId",
	"expiresInHours": "data.expiresInHours", "expiryDate": "data.expiresInHours", "redirectUrl": "meta.redirectUrl",
	"webhookUrl": "meta.webhookUrl", "state": "meta.state",
}

// activityRefs reads activities: source ids, source names, or {id, name}.
func activityRefs(list []json.RawMessage) ([]verification.SourceRef, error) {
	out := make([]verification.SourceRef, 0, len(list))
	for i, raw := range list {
		var id int64
		var name string
		var obj struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		switch {
		case json.Unmarshal(raw, &id) == nil && id > 0:
			out = append(out, verification.SourceRef{ID: id})
		case json.Unmarshal(raw, &name) == nil && name != "":
			out = append(out, verification.SourceRef{Name: name})
		case len(raw) > 0 && raw[0] == '{' && dec.Decode(&obj) == nil && (obj.ID > 0 || obj.Name != ""):
			out = append(out, verification.SourceRef{ID: obj.ID, Name: obj.Name})
		default:
			return nil, verigate.FieldError(fmt.Sprintf("data.activities[%d]", i), "must be a source id, a source name, or an object with an id or a name")
		}
	}
	return out, nil
}

func (h *Handler) createVerification(w http.ResponseWriter, r *http.Request) error {
	var in createVerificationRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Data == nil {
		return verigate.FieldError("data", "is required")
	}
	if in.Meta == nil {
		in.Meta = &createVerificationMeta{}
	}
	d := in.Data
	refs, err := activityRefs(d.Activities)
	if err != nil {
		return err
	}
	v, _, err := h.Verification.CreateVerification(r.Context(), verification.VerificationInput{
		Session: verification.SessionInput{Metadata: d.Metadata, ApplicantFirstName: d.FirstName, ApplicantLastName: d.LastName,
			ApplicantEmail: d.Email, ApplicantPhone: d.PhoneNumber, ApplicantDOB: d.DateOfBirth, AllowedSources: refs,
			VerificationTypeID: d.VerificationTypeID, RedirectURL: in.Meta.RedirectURL, ExternalReferenceID: d.ExternalReferenceID,
			State: in.Meta.State},
		ExpiresInHours: d.ExpiresInHours, WebhookURL: in.Meta.WebhookURL})
	if err != nil {
		return renameVerificationFields(err, len(refs))
	}
	httpapi.WriteJSON(w, http.StatusCreated, h.verificationBody(v))
	return nil
}

func renameVerificationFields(err error, activities int) error {
	names := make(map[string]string, len(verificationFields)+activities)
	for k, v := range verificationFields {
		names[k] = v
	}
	for i := range activities {
		names[fmt.Sprintf("allowedSources[%d]", i)] = fmt.Sprintf("data.activities[%d]", i)
	}
	return verigate.Rename(err, names)
}

// pathVerification reads the {id} of a verification path.
func pathVerification(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, verigate.FieldError("id", "must be a verification id: a positive whole number")
	}
	return id, nil
}

func (h *Handler) getVerification(w http.ResponseWriter, r *http.Request) error {
	id, err := pathVerification(r)
	if err != nil {
		return err
	}
	v, err := h.Verification.Verification(r.Context(), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, h.verificationBody(v))
	return nil
}

func (h *Handler) listVerifications(w http.ResponseWriter, r *http.Request) error {
	q := verification.VerificationQuery{}
	var err error
	if q.Limit, err = httpapi.QueryInt(r, "limit", verification.DefaultPageSize); err != nil {
		return err
	}
	if q.Before, err = httpapi.QueryID(r, "cursor"); err != nil {
		return err
	}
	if q.Status, err = httpapi.QueryString(r, "status"); err != nil {
		return err
	}
	if q.ExternalReferenceID, err = httpapi.QueryString(r, "externalReferenceId"); err != nil {
		return err
	}
	if q.CreatedFrom, err = httpapi.QueryTime(r, "createdFrom", false); err != nil {
		return err
	}
	if q.CreatedTo, err = httpapi.QueryTime(r, "createdTo", true); err != nil {
		return err
	}
	page, next, err := h.Verification.Verifications(r.Context(), q)
	if err != nil {
		return err
	}
	out := make([]verificationJSON, 0, len(page))
	for _, v := range page {
		out = append(out, h.toVerification(v, false))
	}
	var cursor *string
	if next != 0 {
		c := strconv.FormatInt(next, 10)
		cursor = &c
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"data": out, "meta": map[string]any{"limit": q.Limit, "nextCursor": cursor}})
	return nil
}

type cancelRequest struct {
	Reason verigate.CancelReason `json:"reason"`
}

func (h *Handler) cancelVerification(w http.ResponseWriter, r *http.Request) error {
	id, err := pathVerification(r)
	if err != nil {
		return err
	}
	var in cancelRequest
	if err := httpapi.DecodeJSON(r, &in, true); err != nil {
		return err
	}
	v, err := h.Verification.Cancel(r.Context(), id, in.Reason)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, h.verificationBody(v))
	return nil
}

func (h *Handler) rotateVerificationLink(w http.ResponseWriter, r *http.Request) error {
	id, err := pathVerification(r)
	if err != nil {
		return err
	}
	v, err := h.Verification.RotateVerificationLink(r.Context(), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, h.verificationBody(v))
	return nil
}

type applicantJSON struct {
	FirstName   *string `json:"firstName"`
	LastName    *string `json:"lastName"`
	Email       *string `json:"email"`
	PhoneNumber *string `json:"phoneNumber"`
	DateOfBirth *string `json:"dateOfBirth"`
}

type activityJSON struct {
	ID            int64           `json:"id"` // the data source's
	Name          string          `json:"name"`
	SourceName    string          `json:"sourceName"`
	Kind          string          `json:"kind"`
	Status        string          `json:"status"`
	CoreStatus    *string         `json:"coreStatus"` // the step's, null when not started
	StepID        *int64          `json:"stepId"`
	Results       json.RawMessage `json:"results"`
	FailureReason *string         `json:"failureReason"`
	UpdatedAt     *string         `json:"updatedAt"`
}

type timelineJSON struct {
	At         string  `json:"at"`
	Type       string  `json:"type"`
	CoreStatus string  `json:"coreStatus"`
	ActivityID *int64  `json:"activityId"` // a step event's data source
	StepID     *int64  `json:"stepId"`
	StepStatus *string `json:"stepStatus"`
	Reason     *string `json:"reason"`
}

type verificationJSON struct {
	ID                  string          `json:"id"`
	Status              string          `json:"status"`
	CoreStatus          string          `json:"coreStatus"`
	CancellationReason  *string         `json:"cancellationReason"`
	ExternalReferenceID *string         `json:"externalReferenceId"`
	Applicant           applicantJSON   `json:"applicant"`
	Metadata            json.RawMessage `json:"metadata"`
	VerificationTypeID  *int64          `json:"verificationTypeId"`
	Activities          *[]activityJSON `json:"activities,omitempty"` // not in lists
	Timeline            *[]timelineJSON `json:"timeline,omitempty"`   // not in lists
	CreatedAt           string          `json:"createdAt"`
	UpdatedAt           string          `json:"updatedAt"`
	CompletedAt         *string         `json:"completedAt"`
	ExpiresAt           string          `json:"expiresAt"`
}

type verificationMetaJSON struct {
	CandidateURL *string `json:"candidateUrl"` // null once ended
	QRCodeURL    *string `json:"qrCodeUrl"`
	RedirectURL  *string `json:"redirectUrl"`
	WebhookURL   *string `json:"webhookUrl"`
	State        *string `json:"state"`
	IsSandbox    bool    `json:"isSandbox"`
	ExpiresAt    string  `json:"expiresAt"`
}

type verificationBody struct {
	Data verificationJSON     `json:"data"`
	Meta verificationMetaJSON `json:"meta"`
}

func (h *Handler) verificationBody(v *verification.Verification) verificationBody {
	s := v.Session
	meta := verificationMetaJSON{RedirectURL: strPtr(s.RedirectURL), WebhookURL: strPtr(v.WebhookURL), State: strPtr(s.State),
		IsSandbox: s.Mode == verigate.ModeTest, ExpiresAt: ts(s.ExpiryDate)}
	if v.LinkToken != "" {
		manual, _ := h.Verification.Links(s, v.LinkToken)
		qr := h.PublicURL + "/v1/verifications/" + strconv.FormatInt(s.ID, 10) + "/qr.png"
		meta.CandidateURL, meta.QRCodeURL = &manual, &qr
	}
	return verificationBody{Data: h.toVerification(v, true), Meta: meta}
}

func (h *Handler) toVerification(v *verification.Verification, detail bool) verificationJSON {
	s := v.Session
	status, reason := s.Status.Konfir(s.CancelReason)
	j := verificationJSON{ID: strconv.FormatInt(s.ID, 10), Status: string(status), CoreStatus: string(s.Status),
		CancellationReason: strPtr(string(reason)), ExternalReferenceID: strPtr(s.ExternalReferenceID),
		Applicant: applicantJSON{FirstName: strPtr(s.ApplicantFirstName), LastName: strPtr(s.ApplicantLastName),
			Email: strPtr(s.ApplicantEmail), PhoneNumber: strPtr(s.ApplicantPhone), DateOfBirth: strPtr(s.ApplicantDOB)},
		Metadata: s.Metadata, VerificationTypeID: s.VerificationTypeID, CreatedAt: ts(s.CreatedAt), UpdatedAt: ts(s.UpdatedAt),
		ExpiresAt: ts(s.ExpiryDate)}
	if len(j.Metadata) == 0 {
		j.Metadata = json.RawMessage("{}")
	}
	if s.CompletedAt != nil {
		j.CompletedAt = tsPtr(*s.CompletedAt)
	}
	if !detail {
		return j
	}
	acts := make([]activityJSON, 0, len(v.Activities))
	for _, a := range v.Activities {
		aj := activityJSON{ID: a.Source.ID, Name: a.Source.Name, SourceName: a.Source.SourceName, Kind: a.Source.Kind,
			Status: string(a.Status), Results: json.RawMessage("null")}
		if st := a.Step; st != nil {
			core := string(st.Status)
			aj.CoreStatus, aj.StepID, aj.FailureReason, aj.UpdatedAt = &core, &st.ID, strPtr(st.FailureReason), tsPtr(st.UpdatedAt)
			if len(st.Results) > 0 && json.Valid(st.Results) {
				aj.Results = st.Results
			}
		}
		acts = append(acts, aj)
	}
	timeline := make([]timelineJSON, 0, len(v.Timeline))
	for _, e := range v.Timeline {
		tj := timelineJSON{At: ts(e.At), Type: string(e.Type), CoreStatus: string(e.Status), Reason: strPtr(e.Reason)}
		if e.StepID != 0 {
			st := string(e.StepStatus)
			tj.StepID, tj.ActivityID, tj.StepStatus = &e.StepID, &e.SourceID, &st
		}
		timeline = append(timeline, tj)
	}
	j.Activities, j.Timeline = &acts, &timeline
	return j
}
