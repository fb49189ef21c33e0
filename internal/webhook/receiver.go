package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxReceivedBody bounds a message the Receiver accepts.
const MaxReceivedBody = 1 << 20

// Receiver is a small webhook receiver for development and the demo
// (verigate webhook listen): it verifies each message's Standard Webhooks
// signature against any of its secrets and prints one line per message.
// It is safe for concurrent use; use it by pointer.
type Receiver struct {
	// Secrets are the keys a signature may verify with (ParseSecret's).
	// With none, messages are accepted and printed as "unverified".
	Secrets [][]byte
	// Out gets one line per message: time, webhook-id, type, verdict and
	// the compact body. nil discards them.
	Out io.Writer
	// Now is the clock signatures' timestamps are checked against; nil is
	// time.Now.
	Now func() time.Time
	// OnMessage, if set, is called with each accepted message (tests and
	// the demo wait on it).
	OnMessage func(id string, body []byte)

	mu sync.Mutex // serializes lines on Out
}

// ServeHTTP answers 204 to an accepted message, 400 with the reason to
// one whose signature does not verify.
func (rv *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST webhook messages here", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxReceivedBody))
	if err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			http.Error(w, "body larger than "+strconv.Itoa(MaxReceivedBody)+" bytes", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read the body", http.StatusBadRequest)
		return
	}
	now := time.Now()
	if rv.Now != nil {
		now = rv.Now()
	}
	sig := SignatureFrom(r.Header)
	verdict := "unverified"
	if len(rv.Secrets) > 0 {
		if err := rv.check(sig, body, now); err != nil {
			rv.print(now, sig.ID, body, "REJECTED: "+err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		verdict = "signature ok"
	}
	rv.print(now, sig.ID, body, verdict)
	if rv.OnMessage != nil {
		rv.OnMessage(sig.ID, body)
	}
	w.WriteHeader(http.StatusNoContent)
}

// check verifies sig under any key. Missing headers and a stale timestamp
// fail the same under every key, so the first error says why.
func (rv *Receiver) check(sig Signature, body []byte, now time.Time) error {
	var first error
	for _, key := range rv.Secrets {
		err := Check(key, sig, body, now)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func (rv *Receiver) print(now time.Time, id string, body []byte, verdict string) {
	if rv.Out == nil {
		return
	}
	var msg struct {
		Type any `json:"type"`
	}
	typ := ""
	if json.Unmarshal(body, &msg) == nil {
		if s, ok := msg.Type.(string); ok {
			typ = s
		}
	}
	line := now.Format(time.RFC3339) + "  " + field(id) + "  " + field(typ) + "  " + verdict + "  " + compact(body) + "\n"
	rv.mu.Lock()
	defer rv.mu.Unlock()
	io.WriteString(rv.Out, line)
}

// field shows a header or JSON value on a terminal line: quoted when it is
// empty-looking, spaced or not printable, so no value can forge a line or
// send escape sequences.
func field(s string) string {
	switch {
	case s == "":
		return "-"
	case !printable(s) || strings.ContainsRune(s, ' '):
		return strconv.Quote(s)
	}
	return s
}

// compact shows a body on one line: JSON compacted, anything else (and
// JSON holding unprintable text) quoted.
func compact(body []byte) string {
	if len(body) == 0 {
		return "(empty body)"
	}
	var b bytes.Buffer
	if json.Compact(&b, body) == nil && printable(b.String()) {
		return b.String()
	}
	return strconv.Quote(string(body))
}

func printable(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}
