package main

import (
	"io"
	"sync"
	"time"
)

// logBuffer batches the server's log lines: a request's line waits at
// most flushEvery before it is written, so a busy server makes one write
// system call per batch rather than one per request. slog hands it whole
// lines, so lines are never interleaved. Close writes what is left.
type logBuffer struct {
	mu    sync.Mutex
	w     io.Writer
	buf   []byte
	armed bool
	every time.Duration
}

// logFlushSize is how much it holds before writing at once.
const logFlushSize = 64 << 10

func newLogBuffer(w io.Writer, every time.Duration) *logBuffer {
	return &logBuffer{w: w, every: every}
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	switch {
	case len(b.buf) >= logFlushSize:
		b.flushLocked()
	case !b.armed:
		b.armed = true
		time.AfterFunc(b.every, b.Flush)
	}
	return len(p), nil
}

// Flush writes the buffered lines now.
func (b *logBuffer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *logBuffer) flushLocked() {
	b.armed = false
	if len(b.buf) == 0 {
		return
	}
	b.w.Write(b.buf) // a log that cannot be written has nowhere to say so
	b.buf = b.buf[:0]
}

// Close flushes; the buffer stays usable (late lines are written as they
// come, a flush interval later).
func (b *logBuffer) Close() error { b.Flush(); return nil }
