package ratelimit_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/verigate/verigate/internal/ratelimit"
)

// eachStore runs fn on the memory store, and on Redis when
// VERIGATE_TEST_REDIS_URL is set.
func eachStore(t *testing.T, fn func(t *testing.T, s ratelimit.Store, key string)) {
	t.Run("memory", func(t *testing.T) { fn(t, ratelimit.NewMemory(), "k") })
	t.Run("redis", func(t *testing.T) {
		url := os.Getenv("VERIGATE_TEST_REDIS_URL")
		if url == "" {
			t.Skip("VERIGATE_TEST_REDIS_URL not set: Redis not tested")
		}
		opt, err := redis.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		c := redis.NewClient(opt)
		t.Cleanup(func() { c.Close() })
		fn(t, ratelimit.NewRedis(c, fmt.Sprintf("vgtest:%d:", time.Now().UnixNano())), "k")
	})
}

var p = ratelimit.Policy{TTL: 10 * time.Second, Limit: 5, BlockDuration: 30 * time.Second}

func TestThrottlerSemantics(t *testing.T) {
	eachStore(t, func(t *testing.T, s ratelimit.Store, key string) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		for i := 1; i <= 5; i++ {
			r, err := s.Hit(ctx, key, p, t0.Add(time.Duration(i)*time.Millisecond))
			if err != nil || !r.Allowed || r.Remaining != 5-i {
				t.Fatalf("hit %d: %+v %v", i, r, err)
			}
		}
		r, _ := s.Hit(ctx, key, p, t0.Add(10*time.Millisecond))
		if r.Allowed || r.RetryAfter != 30*time.Second {
			t.Fatalf("6th hit: %+v, want blocked for 30s", r)
		}
		r, _ = s.Hit(ctx, key, p, t0.Add(29*time.Second))
		if r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > 2*time.Second {
			t.Fatalf("at 29s: %+v, want still blocked", r)
		}
		r, _ = s.Hit(ctx, key, p, t0.Add(31*time.Second))
		if !r.Allowed || r.Remaining != 4 {
			t.Fatalf("at 31s: %+v, want allowed afresh", r)
		}
		// Without a block, hits leave the window after the TTL.
		other := key + "-window"
		for i := range 5 {
			s.Hit(ctx, other, p, t0.Add(time.Duration(i)*time.Second))
		}
		if r, _ := s.Hit(ctx, other, p, t0.Add(10500*time.Millisecond)); !r.Allowed {
			t.Fatalf("a hit outside the window still counted: %+v", r)
		}
	})
}

func TestConcurrentHits(t *testing.T) {
	eachStore(t, func(t *testing.T, s ratelimit.Store, key string) {
		now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		var passed atomic.Int32
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := s.Hit(context.Background(), key+"-c", p, now)
				if err != nil {
					t.Error(err)
				}
				if r.Allowed {
					passed.Add(1)
				}
			}()
		}
		wg.Wait()
		if passed.Load() != 5 {
			t.Fatalf("%d of 50 concurrent hits passed, want exactly 5", passed.Load())
		}
	})
}
