package journey

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/connect"
	"github.com/verigate/verigate/internal/reclaim"
	"github.com/verigate/verigate/internal/verification"
	"github.com/verigate/verigate/internal/web/ui"
)

// notices are the fixed messages a page shows after a form came back
// (?e=…): never text from the address bar itself.
var notices = map[string]string{
	"missing": "Please fill in every field.",
	"none":    "Choose an account to continue.",
	"code":    "Please enter the code.",
}

func notice(r *http.Request) string { return notices[r.URL.Query().Get("e")] }

// resume sends the applicant to where they left off.
func (h *Handler) resume(q *req) error {
	id, err := pathID(q.r, "sessionId")
	if err != nil {
		return err
	}
	j, err := h.Verification.Journey(q.ctx, id, "")
	if err != nil {
		return err
	}
	return redirect(q, next(j))
}

func (h *Handler) consentPage(q *req) error {
	id, err := pathID(q.r, "sessionId")
	if err != nil {
		return err
	}
	j, err := h.Verification.Journey(q.ctx, id, "")
	if err != nil {
		return err
	}
	if !j.Open {
		return redirect(q, sessionPath(id, "done"))
	}
	return q.render(http.StatusOK, "consent", &view{Title: "Verify with " + j.OrgName, Stage: 1, J: j})
}

func (h *Handler) consent(q *req) error {
	id, err := pathID(q.r, "sessionId")
	if err != nil {
		return err
	}
	if err := h.Verification.ConsentTo(q.ctx, id); err != nil {
		return err
	}
	return redirect(q, sessionPath(id, ""))
}

func (h *Handler) sourcesPage(q *req) error {
	id, err := pathID(q.r, "sessionId")
	if err != nil {
		return err
	}
	text := strings.TrimSpace(q.r.URL.Query().Get("q"))
	j, err := h.Verification.Journey(q.ctx, id, text)
	if err != nil {
		return err
	}
	if !j.Open || j.Consent == nil {
		return redirect(q, next(j))
	}
	chosen := map[int64]bool{}
	for _, js := range active(j) {
		chosen[js.Step.DataSourceID] = true
	}
	return q.render(http.StatusOK, "sources", &view{Title: "Choose where to verify", Stage: 2, J: j, Query: text,
		Chosen: chosen, Notice: notice(q.r)})
}

func (h *Handler) selectSources(q *req) error {
	id, err := pathID(q.r, "sessionId")
	if err != nil {
		return err
	}
	var ids []int64
	for _, v := range q.r.PostForm["source"] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return verigate.FieldError("source", "is not a source")
		}
		ids = append(ids, n)
	}
	if len(ids) == 0 {
		return redirect(q, sessionPath(id, "sources")+"?e=none")
	}
	if _, err := h.Verification.SelectSources(q.ctx, id, ids); err != nil {
		return err
	}
	return redirect(q, sessionPath(id, ""))
}

// progress shows every step while the applicant has nothing to do; it
// sends them on (303) as soon as they have, so that its own refresh moves
// a page without JavaScript along too.
func (h *Handler) progress(q *req) error {
	id, err := pathID(q.r, "sessionId")
	if err != nil {
		return err
	}
	j, err := h.Verification.Journey(q.ctx, id, "")
	if err != nil {
		return err
	}
	sent := q.r.URL.Query().Get("sent")
	if n := next(j); n != sessionPath(id, "progress") && !delivering(j, sent) {
		return redirect(q, n)
	}
	return q.render(http.StatusOK, "progress", &view{Title: "Checking your details", Stage: 3, J: j, Refresh: 3,
		Live: state(j), Query: sent})
}

// delivering tells whether the code sent (its request and attempt,
// "id.attempts") is still on its way to the login: the page waits for
// the outcome rather than ask again.
func delivering(j *verification.Journey, sent string) bool {
	if sent == "" {
		return false
	}
	for _, js := range active(j) {
		if awaitingCode(js) && sentMark(js.Login.Pending) == sent {
			return true
		}
	}
	return false
}

func sentMark(r *verigate.AssistanceRequest) string { return fmt.Sprintf("%s.%d", r.ID, r.Attempts) }

func (h *Handler) done(q *req) error {
	id, err := pathID(q.r, "sessionId")
	if err != nil {
		return err
	}
	j, err := h.Verification.Journey(q.ctx, id, "")
	if err != nil {
		return err
	}
	if n := next(j); n != sessionPath(id, "done") {
		return redirect(q, n)
	}
	v := &view{Title: "Verification", Stage: 4, J: j}
	if h.Return != nil {
		if v.Return, err = h.Return(q.ctx, id); err != nil {
			return err
		}
	}
	return q.render(http.StatusOK, "done", v)
}

func (h *Handler) initiate(q *req) error {
	id, err := pathID(q.r, "stepId")
	if err != nil {
		return err
	}
	_, st, err := h.Verification.InitiateStep(q.ctx, id)
	if err != nil {
		return err
	}
	return redirect(q, stepPage(st))
}

// stepPage is a step's own page, by its kind.
func stepPage(st *verigate.Step) string {
	if st.Type == verigate.SourceReclaim {
		return stepPath(st.ID, "reclaim")
	}
	return stepPath(st.ID, "connect")
}

// connectPage is a connector step's page: its introduction, then the
// login form, then the code the login asks for.
func (h *Handler) connectPage(q *req) error {
	id, err := pathID(q.r, "stepId")
	if err != nil {
		return err
	}
	p, err := h.Verification.StepPage(q.ctx, id)
	if err != nil {
		return err
	}
	st := p.Step
	v := &view{Title: p.Source.Name, Stage: 3, J: p.Journey, Step: p, Notice: notice(q.r)}
	switch {
	case st.Type != verigate.SourceConnector:
		return redirect(q, stepPage(st))
	case !p.Journey.Open || st.Status.Ended():
		return redirect(q, sessionPath(st.SessionID, ""))
	case st.Status == verigate.StepPending:
		return q.render(http.StatusOK, "start", v)
	case st.Status == verigate.StepInitiated:
		v.Title = "Sign in to " + p.Source.Name
		return q.render(http.StatusOK, "credentials", v)
	case awaitingCode(p.JourneyStep):
		v.Title, v.Descriptor = "Enter your code", p.Login.Pending.Descriptor
		v.Attempts = connect.MaxAttempts - p.Login.Pending.Attempts
		v.Query = sentMark(p.Login.Pending)
		if p.Login.Pending.Attempts > 0 && v.Notice == "" {
			v.Notice = "That code did not work. Please check it and try again."
		}
		return q.render(http.StatusOK, "code", v)
	}
	return redirect(q, sessionPath(st.SessionID, "progress"))
}

func (h *Handler) connect(q *req) error {
	id, err := pathID(q.r, "stepId")
	if err != nil {
		return err
	}
	if err := h.limit(q.w, q.r, "journey:connect:"+strconv.FormatInt(q.sessID, 10), FormLimit); err != nil {
		return err
	}
	creds := map[string]string{}
	for k, vs := range q.r.PostForm {
		if k == "csrf" {
			continue
		}
		if len(vs) != 1 || vs[0] == "" {
			return redirect(q, stepPath(id, "connect")+"?e=missing")
		}
		creds[k] = vs[0]
	}
	if _, _, err := h.Verification.ConnectStep(q.ctx, id, creds); err != nil {
		return err
	}
	return redirect(q, sessionPath(q.sessID, "progress"))
}

func (h *Handler) code(q *req) error {
	id, err := pathID(q.r, "stepId")
	if err != nil {
		return err
	}
	if err := h.limit(q.w, q.r, "journey:code:"+strconv.FormatInt(id, 10), FormLimit); err != nil {
		return err
	}
	code := strings.TrimSpace(q.r.PostForm.Get("code"))
	if code == "" {
		return redirect(q, stepPath(id, "connect")+"?e=code")
	}
	if err := h.Verification.SubmitStepCode(q.ctx, id, code); err != nil {
		return err
	}
	sent := q.r.PostForm.Get("sent")
	return redirect(q, sessionPath(q.sessID, "progress")+"?sent="+url.QueryEscape(sent))
}

// reclaimPage is a Reclaim step's page: its introduction, then the proof
// request (QR code and deep link), and in test mode the sandbox provider.
func (h *Handler) reclaimPage(q *req) error {
	id, err := pathID(q.r, "stepId")
	if err != nil {
		return err
	}
	p, err := h.Verification.StepPage(q.ctx, id)
	if err != nil {
		return err
	}
	st := p.Step
	v := &view{Title: p.Source.Name, Stage: 3, J: p.Journey, Step: p, Refresh: 5}
	switch {
	case st.Type != verigate.SourceReclaim:
		return redirect(q, stepPage(st))
	case !p.Journey.Open || st.Status.Ended():
		return redirect(q, sessionPath(st.SessionID, ""))
	case st.Status == verigate.StepPending:
		v.Refresh = 0
		return q.render(http.StatusOK, "start", v)
	}
	if v.QR, err = ui.QRSVG(p.ProofRequest, "QR code of the proof request"); err != nil {
		return err
	}
	v.Deeplink, v.Title, v.Live = p.ProofRequest, "Share from "+p.Source.Name, state(p.Journey)
	return q.render(http.StatusOK, "reclaim", v)
}

// sandboxPage stands in for the Reclaim app in test mode: it holds a
// sandbox-signed proof for the step, which its form submits to the
// step's callback like the app would.
func (h *Handler) sandboxPage(q *req) error {
	id, err := pathID(q.r, "stepId")
	if err != nil {
		return err
	}
	proof, err := h.Verification.SandboxProof(q.ctx, id)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(proof)
	return q.render(http.StatusOK, "sandbox", &view{Title: "Sandbox provider", Proof: string(b), Query: strconv.FormatInt(id, 10),
		Mode: verigate.ModeTest})
}

// proof is a Reclaim step's callback: the proof is verified on the
// production path.
func (h *Handler) proof(q *req) error {
	id, err := pathID(q.r, "stepId")
	if err != nil {
		return err
	}
	var p reclaim.Proof
	raw := q.r.PostForm.Get("proof")
	if raw == "" || len(raw) > verification.MaxJSONFieldSize*4 || json.Unmarshal([]byte(raw), &p) != nil {
		return verigate.FieldError("proof", "is not a Reclaim proof")
	}
	_, sess, err := h.Verification.SubmitProofs(q.ctx, id, []reclaim.Proof{p})
	if err != nil && sess == nil {
		return err
	}
	return redirect(q, sessionPath(q.sessID, ""))
}
