package verification

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/verigate/verigate"
)

// CatalogTTL bounds how long a catalog or source-enablement change made by
// another process (the admin CLI, another replica) takes to reach this
// one: entries older than this are read again. A change made through this
// process's Service is seen at once.
const CatalogTTL = 5 * time.Second

// catalogCache keeps the source catalog and the organizations' source
// enablement, which every session create and applicant choice reads and
// which change rarely. Cached values are shared: never modify them.
type catalogCache struct {
	mu       sync.Mutex
	gen      uint64 // bumped on every invalidation
	sources  []*verigate.DataSource
	loadedAt time.Time
	settings map[string]settingsEntry // by org chain, "id/parent/grandparent"
}

type settingsEntry struct {
	byOrg    map[string]map[int64]bool
	loadedAt time.Time
}

// invalidate forgets everything; the next read goes to the store.
func (c *catalogCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.sources, c.settings = nil, nil
	c.mu.Unlock()
}

// catalog returns the whole catalog, by id.
func (s *Service) catalog(ctx context.Context) ([]*verigate.DataSource, error) {
	c, now := &s.cache, s.Now()
	c.mu.Lock()
	if c.sources != nil && now.Sub(c.loadedAt) < CatalogTTL {
		defer c.mu.Unlock()
		return c.sources, nil
	}
	gen := c.gen
	c.mu.Unlock()
	all, err := s.store.ListSources(ctx)
	if err != nil {
		return nil, err
	}
	if all == nil {
		all = []*verigate.DataSource{}
	}
	c.mu.Lock()
	if c.gen == gen { // not invalidated while reading: what was read is current
		c.sources, c.loadedAt = all, now
	}
	c.mu.Unlock()
	return all, nil
}

// sourceSettings returns the enablement overrides of an organization
// chain: org id → source id → enabled.
func (s *Service) sourceSettings(ctx context.Context, chain []string) (map[string]map[int64]bool, error) {
	c, now, key := &s.cache, s.Now(), strings.Join(chain, "/")
	c.mu.Lock()
	if e, ok := c.settings[key]; ok && now.Sub(e.loadedAt) < CatalogTTL {
		c.mu.Unlock()
		return e.byOrg, nil
	}
	gen := c.gen
	c.mu.Unlock()
	byOrg, err := s.store.SourceSettings(ctx, chain)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.settings == nil || len(c.settings) >= maxCachedChains {
			c.settings = map[string]settingsEntry{} // crude, but bounded
		}
		c.settings[key] = settingsEntry{byOrg, now}
	}
	c.mu.Unlock()
	return byOrg, nil
}

// maxCachedChains bounds the enablement cache (one entry per organization
// that creates sessions).
const maxCachedChains = 10000
