// Package webhook signs and verifies webhooks the Standard Webhooks way
// (https://www.standardwebhooks.com): headers webhook-id,
// webhook-timestamp and webhook-signature, the last a space-separated
// list of "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>", with secrets
// written "whsec_<base64 key>".
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
	secretPrefix    = "whsec_"
)

// Tolerance is how far a timestamp may stray from now.
const Tolerance = 5 * time.Minute

// FormatSecret writes a key as a whsec_ secret.
func FormatSecret(key []byte) string { return secretPrefix + base64.StdEncoding.EncodeToString(key) }

// ParseSecret reads a whsec_ secret (or bare base64) into its key.
func ParseSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) < 24 {
		return nil, errors.New("webhook: malformed secret")
	}
	return key, nil
}

// Sign returns the webhook-signature value for a message.
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, ts.Unix(), body))
}

func mac(key []byte, id string, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "."))
	h.Write(body)
	return h.Sum(nil)
}

// Errors Verify returns.
var (
	ErrMissingHeaders = errors.New("missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrTimestamp      = errors.New("webhook-timestamp is malformed or more than 5 minutes from now")
	ErrSignature      = errors.New("no webhook-signature matches the body")
)

// Signature is what a received webhook says of itself: its three headers.
type Signature struct {
	ID, Timestamp, Signatures string
}

// SignatureFrom reads a received webhook's signature headers.
func SignatureFrom(h http.Header) Signature {
	return Signature{ID: h.Get(HeaderID), Timestamp: h.Get(HeaderTimestamp), Signatures: h.Get(HeaderSignature)}
}

// Verify checks a received webhook's headers against its body.
func Verify(key []byte, h http.Header, body []byte, now time.Time) error {
	return Check(key, SignatureFrom(h), body, now)
}

// Check checks a received webhook's signature against its body.
func Check(key []byte, sig Signature, body []byte, now time.Time) error {
	id, tsText, sigs := sig.ID, sig.Timestamp, sig.Signatures
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return ErrTimestamp
	}
	want := mac(key, id, ts, body)
	for _, s := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}
