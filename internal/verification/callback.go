package verification

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/reclaim"
)

// The Reclaim app on the applicant's phone posts the proof to the proof
// request's callbackUrl, with no cookie and no token of the browser's.
// That URL carries the step's callback key instead: an HMAC, under a key
// derived from the server's secret, of the step's id and nonce. Only the
// server can make it; the step's page hands it out (in the QR code and
// the deep link); it names one step, and stops mattering once the step
// has ended. It is checked before the body is read, and a wrong key
// answers exactly like a missing step.

// callbackKey is step st's callback key.
func (s *Service) callbackKey(st *verigate.Step) string {
	m := hmac.New(sha256.New, s.callbackSecret)
	m.Write([]byte("verigate reclaim callback v1\x00" + strconv.FormatInt(st.ID, 10) + "\x00" + st.Nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CallbackURL is where the Reclaim app submits step st's proof.
func (s *Service) CallbackURL(st *verigate.Step) string {
	return s.cfg.PublicURL + "/journey/steps/" + strconv.FormatInt(st.ID, 10) + "/callback/" + s.callbackKey(st)
}

// maxCallbackKey bounds the key read from the path (a real one is 43).
const maxCallbackKey = 100

// ReceiveCallback is the Reclaim app's callback for step stepID: key must
// be the step's callback key (else ErrStepNotFound, as for a step that
// does not exist, and nothing is read further); body is what the app
// posts (reclaim.ParseCallback; EINVALID when it is no proof). The proofs
// are then submitted as the step's session's applicant, by SubmitProofs:
// the same checks, results and answers as every other way in (ECONFLICT
// once the step or its session has ended).
func (s *Service) ReceiveCallback(ctx context.Context, stepID int64, key string, body []byte) (*verigate.Step, *verigate.Session, error) {
	if key == "" || len(key) > maxCallbackKey {
		return nil, nil, ErrStepNotFound
	}
	st, sess, err := s.store.GetStepSession(ctx, stepID)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, nil, ErrStepNotFound
	} else if err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(s.callbackKey(st))) != 1 {
		return nil, nil, ErrStepNotFound
	}
	// A disabled organization's applicants are turned away, as at the link.
	if active, err := s.store.OrgChainActive(ctx, sess.OrgID); err != nil {
		return nil, nil, err
	} else if !active {
		return nil, nil, ErrStepNotFound
	}
	proofs, perr := reclaim.ParseCallback(body)
	if perr != nil {
		return nil, nil, verigate.Errorf(verigate.EINVALID, "%s", perr.Reason)
	}
	applicant := &verigate.Principal{Kind: verigate.PrincipalApplicant, ID: "session:" + sessionIDString(sess.ID),
		OrgID: sess.OrgID, Orgs: []string{sess.OrgID}, Mode: sess.Mode, SessionID: sess.ID,
		Permissions: verigate.ApplicantPermissions}
	return s.SubmitProofs(verigate.WithPrincipal(ctx, applicant), stepID, proofs)
}
