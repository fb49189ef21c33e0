// Package idempotency gives a request Stripe's Idempotency-Key semantics,
// for any surface: the same key and request replay the first response;
// the same key with another request is EINVALID; the same key while the
// first request still runs is ECONFLICT. Only successes are kept (TTL): a
// failed request may be retried under the same key. Stored responses are
// sealed (they may hold secrets, such as a session's link token).
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/seal"
)

// TTL is how long a key and its response are kept.
const TTL = 24 * time.Hour

// Store keeps Idempotency-Key records; internal/sqlstore implements it.
type Store interface {
	// ClaimIdempotencyKey claims (scope, key), or returns the record
	// already there (Status 0 while its request runs); records created
	// before since count as absent.
	ClaimIdempotencyKey(ctx context.Context, scope, key string, requestHash []byte, now, since time.Time) (*verigate.IdempotencyRecord, error)
	FinishIdempotencyKey(ctx context.Context, scope, key string, status int, body []byte) error
	ReleaseIdempotencyKey(ctx context.Context, scope, key string) error
}

// Service runs idempotent requests.
type Service struct {
	store Store
	seal  *seal.Sealer
	log   *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// New returns the service; stored responses are sealed under secret.
func New(store Store, secret string, log *slog.Logger) *Service {
	return &Service{store: store, seal: seal.New(secret, "verigate idempotent responses v1"), log: log, Now: time.Now}
}

// Response is a stored response, replayed as it was.
type Response struct {
	Status int
	Body   []byte
}

// Claim is a key claimed for a request that now runs: Finish it with the
// response, or Release it when the request failed.
type Claim struct {
	s          *Service
	scope, key string
	done       bool
}

// ValidateKey checks a key's form (a surface may check it before reading
// the request).
func ValidateKey(key string) error { return verigate.ValidateText("Idempotency-Key", key, 255) }

// Begin claims key within scope (whose keys they are: an API key, say)
// for a request whose body is request. It returns the claim to finish, or
// the response of the first request with this key to replay.
func (s *Service) Begin(ctx context.Context, scope, key string, request []byte) (*Claim, *Response, error) {
	if err := ValidateKey(key); err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(request)
	now := s.Now()
	rec, err := s.store.ClaimIdempotencyKey(ctx, scope, key, sum[:], now, now.Add(-TTL))
	if err != nil {
		return nil, nil, err
	}
	if rec == nil {
		return &Claim{s: s, scope: scope, key: key}, nil, nil
	}
	switch {
	case rec.Status == 0:
		return nil, nil, verigate.Errorf(verigate.ECONFLICT, "A request with this Idempotency-Key is still in progress, or its response could not be stored; retry later, or check for the session before using a new key.")
	case !bytes.Equal(rec.RequestHash, sum[:]):
		return nil, nil, verigate.Errorf(verigate.EINVALID, "This Idempotency-Key was used with a different request body.")
	}
	body, err := s.open(scope, key, rec.Body)
	if err != nil {
		return nil, nil, err
	}
	return nil, &Response{Status: rec.Status, Body: body}, nil
}

// Finish stores the response of a request that succeeded, sealed. Should
// storing fail (twice), the key stays claimed, so a retry meets ECONFLICT
// rather than doing the work a second time; the failure is logged.
func (c *Claim) Finish(ctx context.Context, resp Response) {
	c.done = true
	sealed := []byte(base64.StdEncoding.EncodeToString(c.s.seal.Seal(c.id(), resp.Body)))
	err := c.s.store.FinishIdempotencyKey(ctx, c.scope, c.key, resp.Status, sealed)
	if err != nil {
		err = c.s.store.FinishIdempotencyKey(ctx, c.scope, c.key, resp.Status, sealed)
	}
	if err != nil {
		c.s.log.Error("store idempotent response", "err", err)
	}
}

// Release forgets the claim of a request that did not succeed, so it may
// be retried under the same key; after Finish it does nothing.
func (c *Claim) Release(ctx context.Context) {
	if c.done {
		return
	}
	c.done = true
	if err := c.s.store.ReleaseIdempotencyKey(ctx, c.scope, c.key); err != nil {
		c.s.log.Error("release idempotency key", "err", err)
	}
}

func (c *Claim) id() string { return c.scope + "\x00" + c.key }

// open reads a stored response. One stored before responses were sealed
// is plain JSON; one this server cannot open (sealed under a secret since
// replaced) cannot be replayed, and the key cannot be reused.
func (s *Service) open(scope, key, stored string) ([]byte, error) {
	sealed, err := base64.StdEncoding.DecodeString(stored)
	if err != nil && json.Valid([]byte(stored)) {
		return []byte(stored), nil
	}
	if err == nil {
		var body []byte
		if body, err = s.seal.Open(scope+"\x00"+key, sealed); err == nil {
			return body, nil
		}
	}
	s.log.Error("open stored idempotent response", "err", err)
	return nil, verigate.Errorf(verigate.ECONFLICT, "The response stored for this Idempotency-Key can no longer be replayed; use a new key.")
}
