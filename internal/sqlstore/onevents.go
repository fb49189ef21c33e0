package sqlstore

import (
	"database/sql"
	"sync"
	"sync/atomic"
)

// The events hook: a webhook worker waits for events, and the quickest
// news of one is the commit that wrote it. db.tx marks each write it runs
// while a hook is set; writeSideEffects flags the mark of the transaction
// it writes events in; once the write has committed (on SQLite, once its
// group's COMMIT has returned), db.tx calls the hook.

// eventMarks maps a transaction to the flag of the write running in it.
// SQLite's group commit runs several writes in one transaction, one after
// another on the writer's goroutine, so the mark is set per write.
var eventMarks sync.Map // *sql.Tx → *atomic.Bool

// OnEvents sets fn to be called after every committed write transaction
// that wrote at least one outbox event. It is called in the writer's
// goroutine and must not block (the webhook worker's Wake does not). Set
// it before the store is used.
func (db *DB) OnEvents(fn func()) { db.onEvents = fn }

// markedTx wraps fn so that writeSideEffects can flag it; wrote reports
// whether it wrote events in its last run.
func markedTx(fn func(*sql.Tx) error, wrote *atomic.Bool) func(*sql.Tx) error {
	return func(tx *sql.Tx) error {
		wrote.Store(false)
		eventMarks.Store(tx, wrote)
		defer eventMarks.Delete(tx)
		return fn(tx)
	}
}

// markEvents flags the write running in q's transaction as one that wrote
// events.
func markEvents(q queryer) {
	var tx *sql.Tx
	switch v := q.(type) {
	case *sql.Tx:
		tx = v
	case runner:
		tx = v.tx
	}
	if tx == nil {
		return
	}
	if f, ok := eventMarks.Load(tx); ok {
		f.(*atomic.Bool).Store(true)
	}
}
