package connect

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Broker wakes whoever waits on a topic (a connection's event stream, the
// worker). Wake-ups carry no data: waiters re-read the database, so a
// missed or duplicated wake-up costs nothing but latency.
type Broker interface {
	Publish(ctx context.Context, topic string)
	Subscribe(topic string) (wake <-chan struct{}, cancel func())
}

// MemoryBroker is a Broker within one process.
type MemoryBroker struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]bool
}

// NewMemoryBroker returns an empty broker.
func NewMemoryBroker() *MemoryBroker { return &MemoryBroker{subs: map[string]map[chan struct{}]bool{}} }

// Publish wakes the topic's subscribers.
func (b *MemoryBroker) Publish(_ context.Context, topic string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs[topic] {
		select {
		case ch <- struct{}{}:
		default: // already awake
		}
	}
}

// Subscribe returns a channel woken on each Publish to topic.
func (b *MemoryBroker) Subscribe(topic string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	b.mu.Lock()
	if b.subs[topic] == nil {
		b.subs[topic] = map[chan struct{}]bool{}
	}
	b.subs[topic][ch] = true
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs[topic], ch)
		if len(b.subs[topic]) == 0 {
			delete(b.subs, topic)
		}
		b.mu.Unlock()
	}
}

// RedisBroker fans wake-ups out to every replica through Redis pub/sub, on
// top of a local broker for this process's subscribers.
type RedisBroker struct {
	local  *MemoryBroker
	client redis.UniversalClient
	prefix string
}

// NewRedisBroker relays topics through Redis channels prefix+topic until
// ctx ends.
func NewRedisBroker(ctx context.Context, client redis.UniversalClient, prefix string) *RedisBroker {
	b := &RedisBroker{local: NewMemoryBroker(), client: client, prefix: prefix}
	ps := client.PSubscribe(ctx, prefix+"*")
	go func() {
		defer ps.Close()
		ch := ps.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				b.local.Publish(ctx, m.Channel[len(prefix):])
			}
		}
	}()
	return b
}

// Publish wakes the topic's subscribers on every replica.
func (b *RedisBroker) Publish(ctx context.Context, topic string) {
	if err := b.client.Publish(ctx, b.prefix+topic, "1").Err(); err != nil {
		b.local.Publish(ctx, topic) // at least this replica
	}
}

// Subscribe subscribes locally; Redis delivers other replicas' wake-ups.
func (b *RedisBroker) Subscribe(topic string) (<-chan struct{}, func()) {
	return b.local.Subscribe(topic)
}
