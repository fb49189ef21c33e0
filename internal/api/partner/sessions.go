package partner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/verification"
)

type createSessionRequest struct {
	Params *createParams `json:"params"`
}

type createParams struct {
	ExpiryDate         string            `json:"expiryDate"`
	Metadata           json.RawMessage   `json:"metadata"`
	ApplicantID        string            `json:"applicantId"`
	ApplicantData      json.RawMessage   `json:"applicantData"`
	Instructions       string            `json:"instructions"`
	ApplicantFirstName string            `json:"applicantFirstName"`
	ApplicantLastName  string            `json:"applicantLastName"`
	ApplicantEmail     string            `json:"applicantEmail"`
	AllowedSources     []json.RawMessage `json:"allowedSources"`
	SelectedPlatform   *int64            `json:"selectedPlatform"`
	VerificationTypeID *int64            `json:"verificationTypeId"`
	RedirectURL        string            `json:"redirectUrl"`
	InstitutionKey     string            `json:"institutionKey"`
}

// sourceRefs reads allowedSources: ids, or {id, name} objects.
func sourceRefs(list []json.RawMessage) ([]verification.SourceRef, error) {
	var out []verification.SourceRef
	for i, raw := range list {
		field := fmt.Sprintf("params.allowedSources[%d]", i)
		var id int64
		if err := json.Unmarshal(raw, &id); err == nil {
			out = append(out, verification.SourceRef{ID: id})
			continue
		}
		var obj struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&obj); err != nil || (obj.ID == 0 && obj.Name == "") {
			return nil, verigate.FieldError(field, "must be a source id or an object with an id (and a name)")
		}
		out = append(out, verification.SourceRef{ID: obj.ID, Name: obj.Name})
	}
	return out, nil
}

// parseTime reads an ISO 8601 time: RFC 3339, or a date (midnight UTC).
func parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func (h *Handler) createSession(w http.ResponseWriter, r *http.Request) error {
	var in createSessionRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Params == nil {
		return verigate.FieldError("params", "is required")
	}
	p := in.Params
	var expiry time.Time // zero when missing: the service says it is required
	if p.ExpiryDate != "" {
		var ok bool
		if expiry, ok = parseTime(p.ExpiryDate); !ok {
			return verigate.FieldError("params.expiryDate", "must be an ISO 8601 date string such as 2025-12-31T23:59:59.000Z")
		}
	}
	refs, err := sourceRefs(p.AllowedSources)
	if err != nil {
		return err
	}
	sess, token, err := h.Verification.CreateSession(r.Context(), verification.SessionInput{ExpiryDate: expiry,
		Metadata: p.Metadata, ApplicantID: p.ApplicantID, ApplicantData: p.ApplicantData, Instructions: p.Instructions,
		ApplicantFirstName: p.ApplicantFirstName, ApplicantLastName: p.ApplicantLastName, ApplicantEmail: p.ApplicantEmail,
		AllowedSources: refs, SelectedPlatform: p.SelectedPlatform, VerificationTypeID: p.VerificationTypeID,
		RedirectURL: p.RedirectURL, InstitutionKey: p.InstitutionKey})
	if err != nil {
		return verigate.Nest("params.", err) // the fields are under params here
	}
	data := toSession(sess)
	data.VerificationLink = h.link(sess, token)
	return ok(w, http.StatusCreated, struct {
		Success bool        `json:"success"`
		Message string      `json:"message"`
		Data    sessionJSON `json:"data"`
	}{true, "Verification session created successfully", data})
}

func (h *Handler) link(sess *verigate.Session, token string) *linkJSON {
	manual, deep := h.Verification.Links(sess, token)
	return &linkJSON{ManualVerificationLink: manual, DeeplinkVerificationLink: deep, Token: token}
}

func (h *Handler) getSession(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "sessionId")
	if err != nil {
		return err
	}
	sess, steps, err := h.Verification.Session(r.Context(), id)
	if err != nil {
		return err
	}
	data := toSession(sess)
	data.Steps = toSteps(steps)
	return ok(w, http.StatusOK, struct {
		Success bool        `json:"success"`
		Data    sessionJSON `json:"data"`
	}{true, data})
}

func (h *Handler) rotateLink(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "sessionId")
	if err != nil {
		return err
	}
	sess, token, err := h.Verification.RotateLink(r.Context(), id)
	if err != nil {
		return err
	}
	return ok(w, http.StatusCreated, struct {
		Success bool      `json:"success"`
		Data    *linkJSON `json:"data"`
	}{true, h.link(sess, token)})
}

type sdkRequest struct {
	SourceName string `json:"sourceName"`
}

func (h *Handler) sdkSession(w http.ResponseWriter, r *http.Request) error {
	var in sdkRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	sdk, err := h.Verification.CreateSDKSession(r.Context(), in.SourceName)
	if err != nil {
		return err
	}
	// The seed's four fields, then what the app needs to finish: the link
	// (exchanged for a CSRF token), the step and its nonce.
	type data struct {
		SessionID        string               `json:"sessionId"`
		ProviderID       string               `json:"providerId"`
		AppID            string               `json:"appId"`
		Steps            []verigate.LoginStep `json:"steps"`
		StepID           int64                `json:"stepId"`
		Nonce            string               `json:"nonce"`
		VerificationLink *linkJSON            `json:"verificationLink"`
	}
	return ok(w, http.StatusCreated, struct {
		Success bool `json:"success"`
		Data    data `json:"data"`
	}{true, data{SessionID: strconv.FormatInt(sdk.Session.ID, 10), ProviderID: sdk.Source.ProviderID, AppID: sdk.AppID,
		Steps: sdk.Source.LoginFlow, StepID: sdk.Step.ID, Nonce: sdk.Step.Nonce, VerificationLink: h.link(sdk.Session, sdk.LinkToken)}})
}

func (h *Handler) reviewerSessions(w http.ResponseWriter, r *http.Request) error {
	var rq verification.ReviewerQuery
	var status string
	for _, p := range []struct {
		name string
		to   *string
	}{{"status", &status}, {"sortBy", &rq.SortBy}, {"sortOrder", &rq.SortOrder}} {
		var err error
		if *p.to, err = httpapi.QueryString(r, p.name); err != nil {
			return err
		}
	}
	rq.Status = verigate.SessionStatus(status)
	if rq.SortBy == "" {
		rq.SortBy = "createdAt"
	}
	if rq.SortOrder == "" {
		rq.SortOrder = "desc"
	}
	var err error
	if rq.Limit, err = httpapi.QueryInt(r, "limit", verification.DefaultPageSize); err != nil {
		return err
	}
	if rq.Offset, err = httpapi.QueryInt(r, "offset", 0); err != nil {
		return err
	}
	list, total, err := h.Verification.ReviewerSessions(r.Context(), rq)
	if err != nil {
		return err
	}
	out := []reviewerSessionJSON{}
	for _, s := range list {
		out = append(out, toReviewerSession(s))
	}
	return ok(w, http.StatusOK, struct {
		Success bool                  `json:"success"`
		Data    []reviewerSessionJSON `json:"data"`
		Total   int                   `json:"total"`
		Limit   int                   `json:"limit"`
		Offset  int                   `json:"offset"`
	}{true, out, total, rq.Limit, rq.Offset})
}

type reviewRequest struct {
	Reason string `json:"reason"`
}

func (h *Handler) review(w http.ResponseWriter, r *http.Request, approve bool) error {
	id, err := pathID(r, "sessionId")
	if err != nil {
		return err
	}
	var in reviewRequest
	if err := httpapi.DecodeJSON(r, &in, approve); err != nil {
		return err
	}
	sess, err := h.Verification.Review(r.Context(), id, approve, in.Reason)
	if err != nil {
		return err
	}
	return ok(w, http.StatusCreated, struct {
		Success bool        `json:"success"`
		Data    sessionJSON `json:"data"`
	}{true, toSession(sess)})
}

func (h *Handler) approve(w http.ResponseWriter, r *http.Request) error { return h.review(w, r, true) }
func (h *Handler) reject(w http.ResponseWriter, r *http.Request) error  { return h.review(w, r, false) }
