package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store shared by every replica: one Lua script per hit keeps
// the window (a sorted set of hit times) and the block atomic. Times come
// from the caller's clock, so every replica and test agrees on them.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// NewRedis returns a Redis store; keys are prefixed with prefix.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

var hitScript = redis.NewScript(`
local now, ttl, limit, block = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then
  return {0, 0, 0, blocked - now}
end
if blocked > 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], ttl + block + 60000)
local n = redis.call('ZCARD', KEYS[1])
if n > limit then
  redis.call('SET', KEYS[2], now + block, 'PX', ttl + block + 60000)
  return {0, n, 0, block}
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
return {1, n, oldest + ttl - now, 0}
`)

// Hit records a hit on key at now.
func (r *Redis) Hit(ctx context.Context, key string, p Policy, now time.Time) (Result, error) {
	nonce := make([]byte, 8)
	rand.Read(nonce)
	member := now.Format("20060102T150405.000000000") + hex.EncodeToString(nonce)
	vals, err := hitScript.Run(ctx, r.client, []string{r.prefix + key + ":hits", r.prefix + key + ":block"},
		now.UnixMilli(), p.TTL.Milliseconds(), p.Limit, p.block().Milliseconds(), member).Int64Slice()
	if err != nil {
		return Result{}, err
	}
	res := Result{Allowed: vals[0] == 1, Limit: p.Limit}
	if res.Allowed {
		res.Remaining = p.Limit - int(vals[1])
		res.Reset = time.Duration(vals[2]) * time.Millisecond
	} else {
		res.RetryAfter = time.Duration(vals[3]) * time.Millisecond
	}
	return res, nil
}
