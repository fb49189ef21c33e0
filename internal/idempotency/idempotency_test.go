package idempotency_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/idempotency"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// TestService runs the semantics on the real store, on every engine.
func TestService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		s := idempotency.New(db, "a secret of at least thirty-two bytes", slog.New(slog.NewTextHandler(io.Discard, nil)))
		claim, replay, err := s.Begin(ctx, "k", "key-1", []byte(`{"a":1}`))
		if err != nil || claim == nil || replay != nil {
			t.Fatalf("first Begin = %v, %v, %v", claim, replay, err)
		}
		// While it runs, the key is taken.
		if _, _, err := s.Begin(ctx, "k", "key-1", []byte(`{"a":1}`)); verigate.ErrorCode(err) != verigate.ECONFLICT {
			t.Fatalf("Begin while running: %v", err)
		}
		claim.Finish(ctx, idempotency.Response{Status: 201, Body: []byte(`{"link":"secret"}`)})
		claim.Release(ctx) // after Finish: nothing
		_, replay, err = s.Begin(ctx, "k", "key-1", []byte(`{"a":1}`))
		if err != nil || replay == nil || replay.Status != 201 || string(replay.Body) != `{"link":"secret"}` {
			t.Fatalf("replay = %+v, %v", replay, err)
		}
		if _, _, err := s.Begin(ctx, "k", "key-1", []byte(`{"a":2}`)); verigate.ErrorCode(err) != verigate.EINVALID {
			t.Fatalf("another body: %v", err)
		}
		// Another scope's key of the same name is another key.
		if c, _, err := s.Begin(ctx, "other", "key-1", []byte(`{"a":2}`)); err != nil || c == nil {
			t.Fatalf("another scope: %v", err)
		}
		// A released claim may be retried.
		c, _, _ := s.Begin(ctx, "k", "key-2", nil)
		c.Release(ctx)
		if c, _, err := s.Begin(ctx, "k", "key-2", nil); err != nil || c == nil {
			t.Fatalf("after release: %v", err)
		}
		if _, _, err := s.Begin(ctx, "k", "", nil); verigate.ErrorCode(err) != verigate.EINVALID {
			t.Fatalf("empty key: %v", err)
		}
	})
}
