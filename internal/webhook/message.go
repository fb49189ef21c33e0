package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Delivery is one HTTP attempt to make: the delivery service builds it,
// a Sender makes it.
type Delivery struct {
	URL    string
	Header map[string]string // signatures, auth; Content-Type is always JSON
	Body   []byte
}

// Result is what one attempt came to.
type Result struct {
	Status     int           // the response's status; 0 when there was none
	Latency    time.Duration // from the request's start to the response's end
	Body       string        // the response body's first MaxResponseBody bytes, as valid UTF-8 without NUL
	RetryAfter time.Duration // a 429's or 503's Retry-After; 0 when absent
	Abort      bool          // the receiver answered webhook-delivery: abort-message
	Err        error         // no response: refused address, timeout, connection error
}

// OK reports whether the attempt succeeded: a 2xx response. A 3xx is a
// failure, never followed.
func (r Result) OK() bool { return r.Err == nil && r.Status >= 200 && r.Status < 300 }

// MaxResponseBody bounds how much of a response is kept in the log.
const MaxResponseBody = 4 << 10

// schedule is the delay before each retry, after the first attempt at 0.
var schedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// Attempts is how many attempts a message gets.
var Attempts = len(schedule) + 1

// Retry returns the delay before the next attempt of a message that has
// failed attempts times (1 after the first), with jitter in [0, 1) adding
// up to 10 % of it (a jitter outside [0, 1], or NaN, is clamped, so the
// delay never shrinks nor grows by more than 10 %); ok is false when the
// message has had every attempt.
func Retry(attempts int, jitter float64) (delay time.Duration, ok bool) {
	if attempts < 1 || attempts > len(schedule) {
		return 0, false
	}
	if !(jitter >= 0) { // also NaN
		jitter = 0
	}
	jitter = min(jitter, 1)
	d := schedule[attempts-1]
	return d + time.Duration(float64(d)*0.1*jitter), true
}

// NewSecret returns a new endpoint secret: whsec_ and the base64 of 32
// random bytes.
func NewSecret() string {
	key := make([]byte, 32)
	rand.Read(key)
	return FormatSecret(key)
}

// StandardHeaders are a message's Standard Webhooks headers, signed with
// every key (two while a rotated secret's old one is still in use).
func StandardHeaders(id string, ts time.Time, body []byte, keys ...[]byte) map[string]string {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = Sign(k, id, ts, body)
	}
	return map[string]string{
		HeaderID:        id,
		HeaderTimestamp: strconv.FormatInt(ts.Unix(), 10),
		HeaderSignature: strings.Join(sigs, " "),
	}
}

// Reconbanker's notification headers.
const (
	HeaderReconbankerTimestamp = "X-Webhook-Timestamp"
	HeaderReconbankerSignature = "X-Signature-256"
)

// ReconbankerSignature is Reconbanker's X-Signature-256 value:
// sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>, the timestamp
// in Unix seconds as sent in X-Webhook-Timestamp.
func ReconbankerSignature(secret []byte, ts time.Time, body []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(strconv.FormatInt(ts.Unix(), 10) + "."))
	h.Write(body)
	return "sha256=" + hex.EncodeToString(h.Sum(nil))
}
