package connect

import (
	"context"
	"testing"
	"time"
)

func TestSandboxBank(t *testing.T) {
	b, ctx := SandboxBank{SlowLogin: time.Second}, context.Background()
	creds := func(u string) Credentials { return Credentials{"username": u, "password": "pass"} }
	if o := b.Start(ctx, creds("good")); o.Kind != Connected {
		t.Fatalf("good: %+v", o)
	}
	if o := b.Start(ctx, Credentials{"username": "good", "password": "x"}); o.Kind != Failed {
		t.Fatalf("wrong password: %+v", o)
	}
	o := b.Start(ctx, creds("twice"))
	if o.Kind != NeedCode || o.Descriptor.Length != 6 {
		t.Fatalf("twice: %+v", o)
	}
	if w := b.Submit(ctx, creds("twice"), o.State, "000000"); w.Kind != WrongCode {
		t.Fatalf("wrong code: %+v", w)
	}
	o = b.Submit(ctx, creds("twice"), o.State, "123456")
	if o.Kind != NeedCode {
		t.Fatalf("second code wanted: %+v", o)
	}
	if o = b.Submit(ctx, creds("twice"), o.State, "654321"); o.Kind != Connected {
		t.Fatalf("twice done: %+v", o)
	}
	o = b.Start(ctx, creds("slow"))
	if o.Kind != Working || o.After != time.Second {
		t.Fatalf("slow: %+v", o)
	}
	if o = b.Resume(ctx, creds("slow"), o.State); o.Kind != Connected {
		t.Fatalf("slow resumed: %+v", o)
	}
}

func TestMemoryBroker(t *testing.T) {
	b := NewMemoryBroker()
	wake, cancel := b.Subscribe("x")
	b.Publish(context.Background(), "x")
	b.Publish(context.Background(), "x") // coalesced, never blocks
	select {
	case <-wake:
	default:
		t.Fatal("not woken")
	}
	cancel()
	b.Publish(context.Background(), "x")
	if len(b.subs) != 0 {
		t.Fatal("subscription left behind")
	}
}
