package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// Exec runs a statement directly (tests set up states the API never writes).
func (db *DB) Exec(ctx context.Context, query string, args ...any) error {
	_, err := db.rw.ExecContext(ctx, query, args...)
	return err
}

// RedoMigration undoes migration version and everything after it, then
// applies them again.
func (db *DB) RedoMigration(ctx context.Context, version int64) error {
	p, err := db.provider()
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, version-1); err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Unprepared makes the store run its reads without the statement cache,
// for benchmarks that compare.
func (db *DB) Unprepared() { db.read = runner{db: db, pool: db.ro} }

// WriterStats returns the group-commit loop's busy time, the writes it
// took and the groups it committed (zeros on PostgreSQL).
func (db *DB) WriterStats() (busy time.Duration, writes, groups int64) {
	if db.writer == nil {
		return 0, 0, 0
	}
	return time.Duration(db.writer.busy.Load()), db.writer.grouped.Load(), db.writer.commits.Load()
}

// Begin opens a transaction on the write pool directly (PostgreSQL tests
// hold one open beside the store's own).
func (db *DB) Begin(ctx context.Context) (*sql.Tx, error) { return db.rw.BeginTx(ctx, nil) }

// MessageIDs returns n message ids made after prev at now.
func MessageIDs(prev string, now time.Time, n int) []string {
	s := newIDSeq(prev)
	out := make([]string, n)
	for i := range out {
		out[i] = s.next(now)
	}
	return out
}
