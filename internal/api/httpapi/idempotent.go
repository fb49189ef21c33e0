package httpapi

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/verigate/verigate/internal/idempotency"
)

// Idempotent runs fn under the request's Idempotency-Key (none: fn runs
// as is), keys being scope's: a repeated request replays the first
// response with Idempotent-Replayed: true; only a response under 300 is
// kept. The semantics are internal/idempotency's; this buffers the
// response so it can be stored before it is sent.
func Idempotent(svc *idempotency.Service, scope string, fn func(http.ResponseWriter, *http.Request) error, w http.ResponseWriter, r *http.Request) error {
	key, err := DataHeader(r, "Idempotency-Key")
	if err != nil {
		return err
	}
	if key == "" {
		return fn(w, r)
	}
	if err := idempotency.ValidateKey(key); err != nil {
		return err
	}
	body, err := ReadBody(r)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	claim, replay, err := svc.Begin(r.Context(), scope, key, body)
	if err != nil {
		return err
	}
	if replay != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(replay.Status)
		w.Write(replay.Body)
		return nil
	}
	// Bookkeeping outlives the request: a client that gave up must not
	// leave the key claimed (it would answer 409 for a day).
	bg := context.WithoutCancel(r.Context())
	defer claim.Release(bg)
	buf := &bufferedWriter{header: http.Header{}, code: http.StatusOK}
	if err := fn(buf, r); err != nil {
		return err
	}
	if buf.code < 300 {
		claim.Finish(bg, idempotency.Response{Status: buf.code, Body: buf.body.Bytes()})
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.WriteHeader(buf.code)
	w.Write(buf.body.Bytes())
	return nil
}

// bufferedWriter holds a response so it can be stored before it is sent.
type bufferedWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedWriter) WriteHeader(code int)        { b.code = code }
