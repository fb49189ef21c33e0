package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the flush timer's goroutine.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestLogBuffer: lines arrive whole, in batches, within the flush
// interval, and Close writes what is left.
func TestLogBuffer(t *testing.T) {
	out := &syncBuffer{}
	b := newLogBuffer(out, 20*time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				fmt.Fprintf(b, "line g%d i%d %s\n", g, i, strings.Repeat("x", 40))
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(2 * time.Second)
	for strings.Count(out.String(), "\n") < 800 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines after the flush interval, want 800", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "line g") || !strings.HasSuffix(l, strings.Repeat("x", 40)) {
			t.Fatalf("a line came apart: %q", l)
		}
	}
	if out.writes >= 800 {
		t.Errorf("%d writes for 800 lines: not batched", out.writes)
	}
	fmt.Fprintln(b, "last")
	b.Close()
	if !strings.HasSuffix(out.String(), "last\n") {
		t.Errorf("Close did not write the last line")
	}
}
