package partner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/verification"
)

// idempotent gives fn Stripe's Idempotency-Key semantics, per API key: the
// same key and body replay the first response (with Idempotent-Replayed:
// true); the same key with another body is 400; the same key while the
// first request still runs is 409. Only successes are kept (24 hours): a
// failed request may be retried under the same key.
func (h *Handler) idempotent(fn func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			return fn(w, r)
		}
		if err := verigate.ValidateText("Idempotency-Key", key, 255); err != nil {
			return err
		}
		body, err := httpapi.ReadBody(r)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		scope := "partner-session:" + verigate.PrincipalFrom(r.Context()).ID
		now := h.Now()
		rec, err := h.Idempotency.ClaimIdempotencyKey(r.Context(), scope, key, sum[:], now, now.Add(-verification.IdempotencyTTL))
		if err != nil {
			return err
		}
		if rec != nil {
			switch {
			case rec.Status == 0:
				return verigate.Errorf(verigate.ECONFLICT, "A request with this Idempotency-Key is still in progress, or its response could not be stored; retry later, or check for the session before using a new key.")
			case !bytes.Equal(rec.RequestHash, sum[:]):
				return verigate.Errorf(verigate.EINVALID, "This Idempotency-Key was used with a different request body.")
			}
			body, err := h.openStored(scope, key, rec.Body)
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(rec.Status)
			w.Write(body)
			return nil
		}
		// Bookkeeping outlives the request: a client that gave up must not
		// leave the key claimed (it would answer 409 for a day).
		bg := context.WithoutCancel(r.Context())
		finished := false
		defer func() {
			if !finished {
				if rerr := h.Idempotency.ReleaseIdempotencyKey(bg, scope, key); rerr != nil {
					h.Log.Error("release idempotency key", "err", rerr)
				}
			}
		}()
		rec2 := &bufferedWriter{header: http.Header{}, code: http.StatusOK}
		if err := fn(rec2, r); err != nil {
			return err
		}
		if rec2.code < 300 {
			// The stored response holds the link token: sealed, never in the clear.
			sealed := base64.StdEncoding.EncodeToString(h.Seal.Seal(scope+"\x00"+key, rec2.body.Bytes()))
			err := h.Idempotency.FinishIdempotencyKey(bg, scope, key, rec2.code, []byte(sealed))
			if err != nil {
				err = h.Idempotency.FinishIdempotencyKey(bg, scope, key, rec2.code, []byte(sealed))
			}
			if err != nil {
				// The session exists: still answer, and keep the key
				// claimed, so a retry meets 409 rather than a second session.
				h.Log.Error("store idempotent response", "err", err)
			}
			finished = true
		}
		for k, v := range rec2.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec2.code)
		w.Write(rec2.body.Bytes())
		return nil
	}
}

// openStored reads a stored response. One stored before responses were
// sealed is plain JSON; one this server cannot open (sealed under a secret
// since replaced) cannot be replayed, and the key cannot be reused.
func (h *Handler) openStored(scope, key, stored string) ([]byte, error) {
	sealed, err := base64.StdEncoding.DecodeString(stored)
	if err != nil && json.Valid([]byte(stored)) {
		return []byte(stored), nil
	}
	if err == nil {
		var body []byte
		if body, err = h.Seal.Open(scope+"\x00"+key, sealed); err == nil {
			return body, nil
		}
	}
	h.Log.Error("open stored idempotent response", "err", err)
	return nil, verigate.Errorf(verigate.ECONFLICT, "The response stored for this Idempotency-Key can no longer be replayed; use a new key.")
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
