// Package redirectsig checks the signature Verigate puts on the redirect
// back to a partner's redirectUrl when an applicant finishes a
// verification. Partners import it: it depends on nothing but the
// standard library.
//
// The redirect carries the query parameters verification_id, status (the
// Konfir status: waiting_for_candidate, completed or cancelled), state
// (the partner's own value, given when the verification was created) and
// sig, the lowercase hex HMAC-SHA256 of
//
//	verification_id + "." + status + "." + state
//
// keyed with the base64-decoded bytes of the organization's verification
// secret (the whsec_… value that signs its webhooks).
package redirectsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
)

// Errors Verify returns.
var (
	ErrMissing   = errors.New("redirectsig: the redirect carries no verification_id or sig")
	ErrSecret    = errors.New("redirectsig: a secret is not a whsec_ verification secret")
	ErrSignature = errors.New("redirectsig: the signature does not match")
)

const prefix = "whsec_"

func key(secret string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, prefix))
	if err != nil || len(k) == 0 {
		return nil, ErrSecret
	}
	return k, nil
}

func mac(k []byte, verificationID, status, state string) []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(verificationID + "." + status + "." + state))
	return m.Sum(nil)
}

// Sign returns the sig parameter for a redirect ("" when secret is not a
// verification secret).
func Sign(secret, verificationID, status, state string) string {
	k, err := key(secret)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(mac(k, verificationID, status, state))
}

// Verify checks a redirect's query (r.URL.Query() on the partner's
// return page) against the verification secret, or any of secrets during
// a rotation: nil when one of them signed it.
func Verify(query url.Values, secrets ...string) error {
	id, sig := query.Get("verification_id"), query.Get("sig")
	if id == "" || sig == "" {
		return ErrMissing
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return ErrSignature
	}
	ok := false
	for _, s := range secrets {
		k, err := key(s)
		if err != nil {
			return err
		}
		// Every secret is tried, so the time taken tells nothing of which matched.
		if hmac.Equal(got, mac(k, id, query.Get("status"), query.Get("state"))) {
			ok = true
		}
	}
	if !ok {
		return ErrSignature
	}
	return nil
}
