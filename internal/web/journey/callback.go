package journey

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/ratelimit"
)

// The callback's rate limits. A step's own limit counts the requests
// bearing one key (the right key's holder is limited per step, and a
// stranger's wrong keys cannot use up the phone's allowance); the
// client's limit bounds the guessing from one address.
var (
	CallbackLimit       = ratelimit.Policy{TTL: time.Minute, Limit: 10, BlockDuration: 5 * time.Minute}
	CallbackClientLimit = ratelimit.Policy{TTL: time.Minute, Limit: 60, BlockDuration: time.Minute}
)

// callbackPath tells whether a request is for a step's callback (a JSON
// route among the pages): its errors are JSON too, even those the surface
// answers before any route runs.
func callbackPath(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/journey/steps/") && strings.Contains(r.URL.Path, "/callback/")
}

// callback is where the Reclaim app on the applicant's phone posts a
// step's proof (the step's callback URL): no cookie, the callback key in
// the path. JSON in, JSON out; the use case checks the key, reads the
// body and verifies the proof.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	if err := h.receive(w, r); err != nil {
		if verigate.ErrorCode(err) == verigate.EINTERNAL {
			httpapi.LogInternal(h.Log, r, err)
		}
		writeCallbackError(w, err)
	}
}

func (h *Handler) receive(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "stepId")
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if err := h.limit(w, r, "journey:callback:client:"+host, CallbackClientLimit); err != nil {
		return err
	}
	fp := sha256.Sum256([]byte(key))
	if err := h.limit(w, r, "journey:callback:"+strconv.FormatInt(id, 10)+":"+hex.EncodeToString(fp[:8]), CallbackLimit); err != nil {
		return err
	}
	body, err := httpapi.ReadBody(r)
	if err != nil {
		return err
	}
	st, sess, err := h.Verification.ReceiveCallback(r.Context(), id, key, body)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"stepId": st.ID, "status": st.Status, "sessionStatus": sess.Status})
	return nil
}

// writeCallbackError is the callback's error shape: the code and a
// message for whoever reads the app's log.
func writeCallbackError(w http.ResponseWriter, err error) {
	code := verigate.ErrorCode(err)
	status, msg := httpapi.Status(code), verigate.ErrorMessage(err)
	switch {
	case code == verigate.ENOTFOUND || code == verigate.EFORBIDDEN:
		// A wrong key, another's step, a missing one: one answer.
		status, code, msg = http.StatusNotFound, verigate.ENOTFOUND, "Step not found"
	case status == http.StatusInternalServerError:
		msg = "Internal server error"
	}
	httpapi.SetRetryAfter(w, err)
	httpapi.WriteJSON(w, status, map[string]string{"error": code, "message": msg})
}
