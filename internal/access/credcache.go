package access

import (
	"container/list"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verigate/verigate"
)

// The credential cache keeps verified credentials (API keys, SSO tokens,
// user and application tokens) with the principal they act as, keyed by
// the SHA-256 of the secret, so that a request with a credential verified
// moments ago reads nothing from the store. An entry is used only while
// all of these hold:
//   - it is younger than the TTL, on the service clock;
//   - the credential's own ends (expiry, sliding window, sign-in cap, its
//     creators' ends) are still ahead, on the service clock; past one, the
//     credential is verified again from the store, which may know of a
//     slide made elsewhere;
//   - no change that can narrow or end a credential happened since it was
//     verified: the process's own changes drop the cache as they return
//     (invalidating, below), and the store's generation, bumped in the
//     transaction of every such change by any process, is polled at least
//     every PollEvery while requests come; an entry is used only if a poll
//     that started less than Fresh ago has been taken into account.
//
// So a change committed at t is honoured by every replica for requests
// verified after t + Fresh, and at once on the process that made it.
const (
	PollEvery = 250 * time.Millisecond
	Fresh     = time.Second
	// CacheSize bounds the entries; the least recently used go first.
	CacheSize = 10_000
)

// GenerationStore is the store's credential-cache generation.
type GenerationStore interface {
	CacheGeneration(ctx context.Context) (int64, error)
}

type credCache struct {
	ttl  time.Duration
	size int
	// gen is the local generation: entries verified under another are
	// stale. Read before the store is, so that an entry verified across
	// a change is stale on arrival.
	gen atomic.Uint64

	epoch   time.Time    // base of polledAt, on the monotonic clock
	polled  atomic.Int64 // when the last successful poll started, since epoch; -1: never
	polling atomic.Bool  // one poll at a time; guards seen
	seen    int64        // the store generation last polled

	mu  sync.Mutex
	m   map[string]*list.Element
	lru list.List // of *cached, most recently used first
}

// cached is one verified credential. Entries are never changed once
// stored (a slide or touch stores a new one), so what a request got from
// the cache is its own to read.
type cached struct {
	key      string
	gen      uint64
	at       time.Time  // when verified, on the service clock
	fixedEnd *time.Time // the earliest end that does not slide
	notAfter *time.Time // fixedEnd and the sliding expiry: the earliest end
	apiKey   *verigate.APIKey
	sso      *SSOSession
	token    *verigate.Token
	p        *verigate.Principal
}

func newCredCache(ttl time.Duration, size int) *credCache {
	c := &credCache{ttl: ttl, size: size, epoch: time.Now(), m: map[string]*list.Element{}}
	c.polled.Store(-1)
	return c
}

// CacheCredentials turns the credential cache on with entries living at
// most ttl (0: off). Call it before serving.
func (s *Service) CacheCredentials(ttl time.Duration) {
	s.creds = nil
	if ttl > 0 {
		s.creds = newCredCache(ttl, CacheSize)
	}
}

// RefreshCredentialCache polls the store's generation now, dropping every
// cached credential if it moved. Requests poll on their own at most
// every PollEvery; tests call this to not wait.
func (s *Service) RefreshCredentialCache(ctx context.Context) error {
	if s.creds == nil {
		return nil
	}
	for !s.creds.polling.CompareAndSwap(false, true) {
		time.Sleep(time.Millisecond)
	}
	defer s.creds.polling.Store(false)
	return s.creds.poll(ctx, s.store)
}

// poll reads the store's generation; the caller holds polling.
func (c *credCache) poll(ctx context.Context, st GenerationStore) error {
	start := time.Since(c.epoch)
	g, err := st.CacheGeneration(ctx)
	if err != nil {
		return err
	}
	if g != c.seen || c.polled.Load() < 0 {
		c.seen = g
		c.invalidate()
	}
	c.polled.Store(int64(start))
	return nil
}

// fresh polls if PollEvery has passed (one request at a time does), and
// reports whether the cache may be used: a poll started within Fresh.
func (c *credCache) fresh(ctx context.Context, st GenerationStore) bool {
	last := c.polled.Load()
	if (last < 0 || time.Since(c.epoch)-time.Duration(last) >= PollEvery) && c.polling.CompareAndSwap(false, true) {
		c.poll(ctx, st) // a failed poll leaves the cache unused once Fresh passes
		c.polling.Store(false)
		last = c.polled.Load()
	}
	return last >= 0 && time.Since(c.epoch)-time.Duration(last) < Fresh
}

// invalidate drops every entry and makes those being verified stale.
func (c *credCache) invalidate() {
	if c == nil {
		return
	}
	c.gen.Add(1)
	c.mu.Lock()
	clear(c.m)
	c.lru.Init()
	c.mu.Unlock()
}

// generation is the local generation to verify a credential under.
func (c *credCache) generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

// lookup returns the live entry for key, or nil.
func (s *Service) lookup(ctx context.Context, key string, now time.Time) *cached {
	if s.creds == nil || !s.creds.fresh(ctx, s.store) {
		return nil
	}
	return s.creds.get(key, now)
}

// get returns key's entry if it is live at now, or nil.
func (c *credCache) get(key string, now time.Time) *cached {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.m[key]
	if el == nil {
		return nil
	}
	e := el.Value.(*cached)
	if e.gen != c.gen.Load() || now.Sub(e.at) >= c.ttl || now.Before(e.at) || (e.notAfter != nil && !now.Before(*e.notAfter)) {
		c.lru.Remove(el)
		delete(c.m, key)
		return nil
	}
	c.lru.MoveToFront(el)
	return e
}

// store keeps e unless the generation moved since it was verified.
func (c *credCache) store(e *cached) {
	if c == nil {
		return
	}
	e.notAfter = earliest(e.fixedEnd, e.slidingEnd())
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.gen != c.gen.Load() {
		return
	}
	if el := c.m[e.key]; el != nil {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.m[e.key] = c.lru.PushFront(e)
	for c.lru.Len() > c.size {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.m, old.Value.(*cached).key)
	}
}

// replace stores a changed copy of key's entry, if it is still there.
func (c *credCache) replace(key string, change func(e *cached)) {
	if c == nil {
		return
	}
	c.mu.Lock()
	el := c.m[key]
	if el == nil {
		c.mu.Unlock()
		return
	}
	e := *el.Value.(*cached)
	c.mu.Unlock()
	change(&e)
	c.store(&e)
}

// slidingEnd is the entry's credential's idle expiry, if it slides.
func (e *cached) slidingEnd() *time.Time {
	switch {
	case e.sso != nil:
		return &e.sso.Token.ExpiresAt
	case e.token != nil:
		return e.token.ExpiresAt
	}
	return nil
}

func earliest(ts ...*time.Time) *time.Time {
	var min *time.Time
	for _, t := range ts {
		if t != nil && (min == nil || t.Before(*min)) {
			min = t
		}
	}
	return min
}

// Cache keys: the credential's kind and the SHA-256 of its secret.
func apiKeyCacheKey(hash []byte) string { return "k" + string(hash) }
func ssoCacheKey(hash []byte) string    { return "s" + string(hash) }
func tokenCacheKey(hash []byte) string  { return "t" + string(hash) }
func jwtCacheKey(hash []byte) string    { return "j" + string(hash) }

// invalidating is the store as the service sees it: every change that can
// narrow or end a verified credential drops the cache when it returns
// (even on error: it may have committed), before the caller can act on it.
type invalidating struct {
	Store
	s *Service
}

func (st invalidating) bump() { st.s.creds.invalidate() }

func (st invalidating) CreateOrganization(ctx context.Context, o *verigate.Organization, ev verigate.AuditEvent) error {
	defer st.bump() // a new institution widens its ancestors' reach
	return st.Store.CreateOrganization(ctx, o, ev)
}

func (st invalidating) UpdateOrganization(ctx context.Context, o *verigate.Organization, ev verigate.AuditEvent) error {
	defer st.bump()
	return st.Store.UpdateOrganization(ctx, o, ev)
}

func (st invalidating) UpdateUser(ctx context.Context, u *verigate.User, ev verigate.AuditEvent) error {
	defer st.bump()
	return st.Store.UpdateUser(ctx, u, ev)
}

func (st invalidating) SetPasswordHash(ctx context.Context, userID, hash string, ev verigate.AuditEvent) error {
	defer st.bump()
	return st.Store.SetPasswordHash(ctx, userID, hash, ev)
}

func (st invalidating) RevokeAPIKey(ctx context.Context, id string, ev verigate.AuditEvent) error {
	defer st.bump()
	return st.Store.RevokeAPIKey(ctx, id, ev)
}

func (st invalidating) RevokeSSOToken(ctx context.Context, id string, ev verigate.AuditEvent) error {
	defer st.bump()
	return st.Store.RevokeSSOToken(ctx, id, ev)
}

func (st invalidating) RevokeToken(ctx context.Context, id string, ev verigate.AuditEvent) error {
	defer st.bump()
	return st.Store.RevokeToken(ctx, id, ev)
}

func (st invalidating) UpdateRole(ctx context.Context, r *verigate.Role, ev verigate.AuditEvent) error {
	defer st.bump()
	return st.Store.UpdateRole(ctx, r, ev)
}

func (st invalidating) DeleteRole(ctx context.Context, id string, ev verigate.AuditEvent) error {
	defer st.bump()
	return st.Store.DeleteRole(ctx, id, ev)
}
