// Package ratelimit limits request rates per key with the semantics of the
// NestJS throttler: at most Limit hits in any TTL window; the hit that
// exceeds it blocks the key for BlockDuration, during which every hit is
// refused and not counted; once the block ends the count starts afresh.
// Stores: in memory (one process) and Redis (shared by replicas).
package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Policy is a limit.
type Policy struct {
	TTL           time.Duration
	Limit         int
	BlockDuration time.Duration // 0 means TTL, as in NestJS
}

func (p Policy) block() time.Duration {
	if p.BlockDuration <= 0 {
		return p.TTL
	}
	return p.BlockDuration
}

// Result is the outcome of one hit.
type Result struct {
	Allowed    bool
	Limit      int
	Remaining  int
	Reset      time.Duration // until the oldest counted hit leaves the window
	RetryAfter time.Duration // while blocked: until the block ends
}

// Store counts hits.
type Store interface {
	Hit(ctx context.Context, key string, p Policy, now time.Time) (Result, error)
}

// Memory is an in-process Store.
type Memory struct {
	mu   sync.Mutex
	keys map[string]*memKey
	hits int
}

type memKey struct {
	hits         []time.Time // within the window, oldest first
	blockedUntil time.Time
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{keys: map[string]*memKey{}} }

// Hit records a hit on key at now.
func (m *Memory) Hit(_ context.Context, key string, p Policy, now time.Time) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hits++
	if m.hits%1024 == 0 {
		m.sweep(now, p)
	}
	k := m.keys[key]
	if k == nil {
		k = &memKey{}
		m.keys[key] = k
	}
	if now.Before(k.blockedUntil) {
		return Result{Limit: p.Limit, RetryAfter: k.blockedUntil.Sub(now)}, nil
	}
	if !k.blockedUntil.IsZero() { // the block is over: start afresh
		k.hits, k.blockedUntil = nil, time.Time{}
	}
	cut := 0
	for cut < len(k.hits) && !k.hits[cut].After(now.Add(-p.TTL)) {
		cut++
	}
	k.hits = append(k.hits[cut:], now)
	if len(k.hits) > p.Limit {
		k.blockedUntil = now.Add(p.block())
		return Result{Limit: p.Limit, RetryAfter: p.block()}, nil
	}
	return Result{Allowed: true, Limit: p.Limit, Remaining: p.Limit - len(k.hits), Reset: k.hits[0].Add(p.TTL).Sub(now)}, nil
}

// sweep forgets keys with nothing to remember; called now and then.
func (m *Memory) sweep(now time.Time, p Policy) {
	for key, k := range m.keys {
		if now.After(k.blockedUntil) && (len(k.hits) == 0 || now.Sub(k.hits[len(k.hits)-1]) > 24*time.Hour) {
			delete(m.keys, key)
		}
	}
}
