package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// maxCachedStmts bounds a pool's statement cache. The store's queries are
// a fixed set of texts, but a few are built with IN lists of varying
// length; past the bound those run unprepared instead of growing the
// cache without end.
const maxCachedStmts = 512

// stmtCache holds a pool's prepared statements by SQL text, prepared on
// first use. database/sql prepares a *sql.Stmt again, once, on each pooled
// connection it runs on, and keeps it there: so every query after the
// first on a connection skips SQLite's parse and plan.
type stmtCache struct {
	pool  *sql.DB
	stmts sync.Map // string → *sql.Stmt
	later sync.Map // string → true: being prepared in the background
	n     atomic.Int32
	mu    sync.Mutex // serializes preparing and closing
	done  bool
}

func newStmtCache(pool *sql.DB) *stmtCache { return &stmtCache{pool: pool} }

// get returns the prepared statement for query, or nil when it cannot be
// prepared (the cache is full or closed, the context ended, a bad query):
// the caller then runs the query unprepared, which reports any error.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	if s := c.lookup(query); s != nil {
		return s
	}
	if c.n.Load() >= maxCachedStmts {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts.Load(query); ok {
		return s.(*sql.Stmt)
	}
	if c.done {
		return nil
	}
	s, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.stmts.Store(query, s)
	c.n.Add(1)
	return s
}

// lookup returns the prepared statement for query, or nil when none is
// cached yet.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	if s, ok := c.stmts.Load(query); ok {
		return s.(*sql.Stmt)
	}
	return nil
}

// prepareLater prepares query in the background, once.
func (c *stmtCache) prepareLater(query string) {
	if _, busy := c.later.LoadOrStore(query, true); busy {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c.get(ctx, query)
	}()
}

// close closes every cached statement (none when c is nil); later gets
// prepare nothing.
func (c *stmtCache) close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	var err error
	c.stmts.Range(func(k, s any) bool {
		err = errors.Join(err, s.(*sql.Stmt).Close())
		c.stmts.Delete(k)
		return true
	})
	return err
}

// runner is the queryer every store statement outside a transaction goes
// through: it counts the statement and runs it prepared when it can.
type runner struct {
	db    *DB
	pool  *sql.DB
	cache *stmtCache // nil: run unprepared (the driver may cache itself)
	tx    *sql.Tx    // set: run inside this transaction
	// detach runs queries under a context that is never cancelled. Both
	// database/sql (Rows.awaitDone) and modernc's driver (interruptOnDone)
	// start a goroutine per query to watch a cancellable context: about
	// 5 % of a status read's CPU. SQLite reads on the read-only pool are
	// short, indexed and bounded (every list has a LIMIT), so there is
	// nothing worth interrupting; a context that has already ended still
	// fails before the query starts.
	detach bool
}

func (r runner) stmt(ctx context.Context, query string) *sql.Stmt {
	r.db.count(ctx)
	if r.cache == nil {
		return nil
	}
	if r.tx == nil {
		return r.cache.get(ctx, query)
	}
	// Preparing on the pool now would wait for the connection the
	// transaction holds (SQLite's writer pool has one): run this one
	// unprepared and prepare it for the next, after the transaction.
	s := r.cache.lookup(query)
	if s == nil {
		r.cache.prepareLater(query)
		return nil
	}
	// Reuses the statement already prepared on the transaction's
	// connection; closed with the transaction.
	return r.tx.StmtContext(ctx, s)
}

func (r runner) target() queryer {
	if r.tx != nil {
		return r.tx
	}
	return r.pool
}

func (r runner) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := r.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return r.target().ExecContext(ctx, query, args...)
}

func (r runner) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx, err := r.context(ctx)
	if err != nil {
		return nil, err
	}
	if s := r.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return r.target().QueryContext(ctx, query, args...)
}

func (r runner) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if r.detach && ctx.Err() == nil {
		ctx = context.WithoutCancel(ctx)
	}
	if s := r.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return r.target().QueryRowContext(ctx, query, args...)
}

// context returns the context a query runs under: ctx itself, or detached
// from its cancellation (see runner.detach) unless it has already ended.
func (r runner) context(ctx context.Context) (context.Context, error) {
	if !r.detach {
		return ctx, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// in returns the queryer for statements inside tx, a transaction on the
// write pool: counted and prepared like the others.
func (db *DB) in(tx *sql.Tx) queryer {
	return runner{db: db, pool: db.rw, cache: db.rwStmts, tx: tx}
}

// QueryCount returns how many statements the store has run through its
// query helpers since it was opened (reads, writes outside a transaction,
// and statements in a transaction that go through db.in).
func (db *DB) QueryCount() int64 { return db.queries.Load() }

type queryCounterKey struct{}

// CountQueries returns a context under which the store counts every
// statement it runs into the returned counter (read it with atomic.LoadInt64
// once the calls are done): a test's bound on one request's queries,
// untouched by whatever else runs at the same time.
func CountQueries(ctx context.Context) (context.Context, *int64) {
	n := new(int64)
	return context.WithValue(ctx, queryCounterKey{}, n), n
}

func (db *DB) count(ctx context.Context) {
	db.queries.Add(1)
	if n, ok := ctx.Value(queryCounterKey{}).(*int64); ok {
		atomic.AddInt64(n, 1)
	}
}
