package partner

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/reclaim"
)

func (h *Handler) types(w http.ResponseWriter, r *http.Request) error {
	types, err := h.Verification.Types(r.Context())
	if err != nil {
		return err
	}
	if types == nil {
		types = []verigate.VerificationType{}
	}
	return ok(w, http.StatusOK, struct {
		Success bool                        `json:"success"`
		Data    []verigate.VerificationType `json:"data"`
	}{true, types})
}

func (h *Handler) sourcesByType(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "verificationTypeId")
	if err != nil {
		return err
	}
	list, err := h.Verification.SourcesByType(r.Context(), id)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, struct {
		Success bool         `json:"success"`
		Data    []sourceJSON `json:"data"`
	}{true, toSources(list)})
}

func (h *Handler) sessionSources(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "sessionId")
	if err != nil {
		return err
	}
	list, err := h.Verification.SessionSources(r.Context(), id)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toSources(list))
}

func (h *Handler) searchSources(w http.ResponseWriter, r *http.Request) error {
	var sessionID *int64
	id, err := httpapi.QueryID(r, "sessionId")
	if err != nil {
		return err
	}
	if id != 0 {
		sessionID = &id
	}
	text, err := httpapi.QueryString(r, "text")
	if err != nil {
		return err
	}
	list, err := h.Verification.SearchSources(r.Context(), strings.TrimSpace(text), sessionID)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toSources(list))
}

type selectRequest struct {
	DataSourceIDs []int64 `json:"dataSourceIds"`
	SessionID     int64   `json:"sessionId"`
}

func (h *Handler) selectSources(w http.ResponseWriter, r *http.Request) error {
	var in selectRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.SessionID <= 0 {
		return verigate.FieldError("sessionId", "is required")
	}
	if _, err := h.Verification.SelectSources(r.Context(), in.SessionID, in.DataSourceIDs); err != nil {
		return err
	}
	return ok(w, http.StatusCreated, statusBody{Status: "success"})
}

func (h *Handler) sessionSteps(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "sessionId")
	if err != nil {
		return err
	}
	steps, err := h.Verification.Steps(r.Context(), id)
	if err != nil {
		return err
	}
	type data struct {
		Steps []stepJSON `json:"steps"`
	}
	return ok(w, http.StatusOK, struct {
		Status string `json:"status"`
		Data   data   `json:"data"`
	}{"success", data{toSteps(steps)}})
}

type stepRequest struct {
	StepID int64 `json:"stepId"`
}

func (h *Handler) initiate(w http.ResponseWriter, r *http.Request) error {
	var in stepRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.StepID <= 0 {
		return verigate.FieldError("stepId", "is required")
	}
	init, _, err := h.Verification.InitiateStep(r.Context(), in.StepID)
	if err != nil {
		return err
	}
	type data struct {
		RedirectURL string         `json:"redirectUrl"`
		FormData    map[string]any `json:"formData"`
		Metadata    map[string]any `json:"metadata"`
	}
	return ok(w, http.StatusCreated, struct {
		Status string `json:"status"`
		Data   data   `json:"data"`
	}{"success", data{init.RedirectURL, init.FormData, init.Metadata}})
}

func (h *Handler) step(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "stepId")
	if err != nil {
		return err
	}
	st, login, err := h.Verification.Step(r.Context(), id)
	if err != nil {
		return err
	}
	out := toStep(st)
	out.Connection = toConnection(login)
	return ok(w, http.StatusOK, out)
}

type submitRequest struct {
	StepID int64             `json:"stepId"`
	Proofs []json.RawMessage `json:"proofs"`
}

func (h *Handler) submit(w http.ResponseWriter, r *http.Request) error {
	var in submitRequest
	if err := httpapi.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.StepID <= 0 {
		return verigate.FieldError("stepId", "is required")
	}
	proofs := make([]reclaim.Proof, 0, len(in.Proofs))
	for i, raw := range in.Proofs {
		var p reclaim.Proof
		if err := json.Unmarshal(raw, &p); err != nil {
			return verigate.FieldError("proofs["+strconv.Itoa(i)+"]", "is not a Reclaim proof object")
		}
		proofs = append(proofs, p)
	}
	st, sess, err := h.Verification.SubmitProofs(r.Context(), in.StepID, proofs)
	if err != nil {
		return err
	}
	type data struct {
		Step          stepJSON `json:"step"`
		SessionStatus string   `json:"sessionStatus"`
	}
	return ok(w, http.StatusCreated, struct {
		Status string `json:"status"`
		Data   data   `json:"data"`
	}{"success", data{toStep(st), string(sess.Status)}})
}

// verifyLink exchanges the link token for a CSRF token, as JSON for an
// app that asks for it (Accept: application/json). A browser is served
// by the hosted journey (Browser): a cookie and a redirect into its
// pages, or a page saying why the link does not open.
func (h *Handler) verifyLink(w http.ResponseWriter, r *http.Request) error {
	if !strings.Contains(r.Header.Get("Accept"), "application/json") && h.Browser != nil {
		h.Browser(w, r)
		return nil
	}
	id, err := httpapi.QueryID(r, "sessionId")
	if err == nil && id == 0 {
		err = verigate.FieldError("sessionId", "must be a positive whole number")
	}
	if err != nil {
		return err
	}
	token, err := httpapi.QueryString(r, "token")
	if err != nil {
		return err
	}
	csrf, expires, sess, err := h.Verification.OpenLink(r.Context(), token, id)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, struct {
		CSRFToken string `json:"csrfToken"`
		ExpiresAt string `json:"expiresAt"`
		SessionID int64  `json:"sessionId"`
	}{csrf, formatTime(expires), sess.ID})
}
