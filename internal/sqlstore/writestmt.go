package sqlstore

import (
	"context"
	"database/sql"
	"sync/atomic"
)

// The session write path counts the statements it sends, so that a test
// can hold a create to its budget (issue 10: at most 5). The read side
// has its own counter (stmt.go); the two are to become one.

// stmtCounter counts statements run through counted.
type stmtCounter struct{ n atomic.Int64 }

// SessionStatements is how many statements the session write path
// (CreateSession, ApplySessionChange, SessionOrg and the side effects they
// write) has sent since the store opened.
func (db *DB) SessionStatements() int64 { return db.sessionStmts.n.Load() }

// countedQueryer is a queryer whose every statement is counted.
type countedQueryer struct {
	q queryer
	c *stmtCounter
}

func (db *DB) counted(q queryer) countedQueryer { return countedQueryer{q, &db.sessionStmts} }

func (c countedQueryer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	c.c.n.Add(1)
	return c.q.ExecContext(ctx, query, args...)
}

func (c countedQueryer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	c.c.n.Add(1)
	return c.q.QueryContext(ctx, query, args...)
}

func (c countedQueryer) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	c.c.n.Add(1)
	return c.q.QueryRowContext(ctx, query, args...)
}
