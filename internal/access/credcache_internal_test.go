package access

import (
	"testing"
	"time"
)

// TestCacheBounds: an entry lives at most the TTL on the service clock,
// and the least recently used go first once the cache is full.
func TestCacheBounds(t *testing.T) {
	c := newCredCache(30*time.Second, 2)
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for _, k := range []string{"a", "b"} {
		c.store(&cached{key: k, gen: c.generation(), at: t0})
	}
	if c.get("a", t0.Add(29*time.Second)) == nil {
		t.Fatal("a fresh entry is not served")
	}
	if c.get("a", t0.Add(30*time.Second)) != nil {
		t.Fatal("an entry outlives the TTL")
	}
	c.store(&cached{key: "a", gen: c.generation(), at: t0})
	c.store(&cached{key: "c", gen: c.generation(), at: t0}) // evicts b, the least recently used
	if c.get("b", t0) != nil || c.get("a", t0) == nil || c.get("c", t0) == nil || c.lru.Len() != 2 {
		t.Fatalf("eviction kept the wrong entries (%d)", c.lru.Len())
	}
	// Verified under an older generation: never stored.
	gen := c.generation()
	c.invalidate()
	c.store(&cached{key: "d", gen: gen, at: t0})
	if c.get("d", t0) != nil || c.get("a", t0) != nil {
		t.Fatal("an entry from before an invalidation is served")
	}
}
