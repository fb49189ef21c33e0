package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// A group commit for SQLite. SQLite has one writer, and with
// synchronous=FULL every COMMIT waits for an fsync of the WAL: writes
// that each commit on their own queue behind each other's fsync. The
// writer loop instead takes every write transaction waiting at that
// moment, runs each in its own SAVEPOINT of one transaction, and commits
// them with one COMMIT (one fsync). A write that fails rolls back to its
// savepoint only; every caller learns its outcome after the COMMIT has
// returned, so no caller sees success before its write is durable.

// maxGroup bounds how many writes share one COMMIT, so that a long queue
// still commits (and answers) in steps.
const maxGroup = 64

// Request states: a request is taken by the loop or given up by its caller,
// never both.
const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

type writeReq struct {
	ctx   context.Context
	fn    func(*sql.Tx) error
	state atomic.Int32
	done  chan writeResult // buffered: the loop never waits for a caller
}

type writeResult struct {
	err   error
	panic any // fn's panic, re-raised in the caller's goroutine
	ok    bool
}

type groupWriter struct {
	db   *sql.DB // the one-connection write pool
	reqs chan *writeReq
	quit chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	// commits counts the transactions the loop committed or tried to.
	commits atomic.Int64
	// busy is the loop's time spent running and committing groups, and
	// grouped the writes it took: the loop is the one serial section of
	// every SQLite write, so busy/grouped bounds the write throughput.
	busy, grouped atomic.Int64
	// The savepoint statements, prepared once on the loop's connection
	// (nil when preparing failed: they then run unprepared); parsing
	// them again for every write cost the loop about a tenth of its time.
	savepoint, rollbackTo, release *sql.Stmt
}

func newGroupWriter(db *sql.DB) *groupWriter {
	w := &groupWriter{db: db, reqs: make(chan *writeReq), quit: make(chan struct{})}
	w.wg.Add(1)
	go w.loop()
	return w
}

// close stops the loop; writes queued after it fail.
func (w *groupWriter) close() {
	w.once.Do(func() { close(w.quit) })
	w.wg.Wait()
}

var errWriterClosed = errors.New("sqlstore: database is closed")

// do queues fn and waits for its outcome. A caller whose ctx ends while
// fn is still queued gets ctx's error and fn never runs; once the loop has
// taken fn, the caller waits for the COMMIT (fn's statements run with the
// caller's ctx, as with an ordinary transaction).
func (w *groupWriter) do(ctx context.Context, fn func(*sql.Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan writeResult, 1)}
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.quit:
		return errWriterClosed
	}
	var res writeResult
	select {
	case res = <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		res = <-r.done // taken: its outcome is decided by the COMMIT
	}
	if res.panic != nil {
		panic(res.panic)
	}
	return res.err
}

func (w *groupWriter) loop() {
	defer w.wg.Done()
	w.savepoint, w.rollbackTo, w.release = w.prepare(`SAVEPOINT w`), w.prepare(`ROLLBACK TO w`), w.prepare(`RELEASE w`)
	defer func() {
		for _, s := range []*sql.Stmt{w.savepoint, w.rollbackTo, w.release} {
			if s != nil {
				s.Close()
			}
		}
	}()
	for {
		var group []*writeReq
		select {
		case r := <-w.reqs:
			group = append(group, r)
		case <-w.quit:
			return
		}
	drain:
		for len(group) < maxGroup {
			select {
			case r := <-w.reqs:
				group = append(group, r)
			default:
				break drain
			}
		}
		start := time.Now()
		w.commit(group)
		w.busy.Add(int64(time.Since(start)))
		w.grouped.Add(int64(len(group)))
	}
}

func (w *groupWriter) prepare(query string) *sql.Stmt {
	s, err := w.db.Prepare(query)
	if err != nil {
		return nil
	}
	return s
}

// exec runs one of the savepoint statements in tx.
func exec(tx *sql.Tx, s *sql.Stmt, query string) error {
	var err error
	if s != nil {
		_, err = tx.Stmt(s).Exec()
	} else {
		_, err = tx.Exec(query)
	}
	return err
}

// commit runs the group's writes in one transaction and answers each.
func (w *groupWriter) commit(group []*writeReq) {
	var taken []*writeReq
	for _, r := range group {
		if r.ctx.Err() == nil && r.state.CompareAndSwap(reqQueued, reqTaken) {
			taken = append(taken, r)
		}
	}
	for len(taken) > 0 {
		taken = w.commitOnce(taken)
	}
}

// commitOnce runs writes in one transaction and answers those it decided;
// it returns those still to run when the transaction was lost midway (an
// error that makes SQLite roll back the whole transaction, such as an
// interrupt or a full disk).
func (w *groupWriter) commitOnce(reqs []*writeReq) (rest []*writeReq) {
	w.commits.Add(1)
	tx, err := w.db.BeginTx(context.Background(), nil)
	if err != nil {
		for _, r := range reqs {
			r.done <- writeResult{err: fmt.Errorf("begin: %w", err)}
		}
		return nil
	}
	// One write alone needs no savepoint: its own transaction is one.
	alone := len(reqs) == 1
	results := make([]writeResult, 0, len(reqs))
	for i, r := range reqs {
		if !alone {
			if err := exec(tx, w.savepoint, `SAVEPOINT w`); err != nil {
				return w.lost(tx, reqs[:i], results, nil, writeResult{}, reqs[i:], err)
			}
		}
		res := run(r, tx)
		if !alone {
			var err error
			if !res.ok {
				err = exec(tx, w.rollbackTo, `ROLLBACK TO w`)
			}
			if err == nil {
				err = exec(tx, w.release, `RELEASE w`)
			}
			if err != nil {
				// The whole transaction is gone with r's failure; r
				// has its answer, the others run again or are told.
				return w.lost(tx, reqs[:i], results, r, res, reqs[i+1:], err)
			}
		}
		results = append(results, res)
	}
	if alone && !results[0].ok {
		tx.Rollback()
		reqs[0].done <- results[0]
		return nil
	}
	if err := tx.Commit(); err != nil {
		for i, r := range reqs {
			if results[i].ok {
				results[i] = writeResult{err: fmt.Errorf("commit: %w", err)}
			}
			r.done <- results[i]
		}
		return nil
	}
	for i, r := range reqs {
		r.done <- results[i]
	}
	return nil
}

// lost answers the writes of a transaction that SQLite rolled back midway:
// those that had run are told their write did not commit (running them
// again could apply a caller's in-memory changes twice), failed ones (and
// last, whose failure lost it) keep their own error, and those not yet run
// are returned to run in a new transaction.
func (w *groupWriter) lost(tx *sql.Tx, ran []*writeReq, results []writeResult, last *writeReq, lastRes writeResult, notRun []*writeReq, cause error) []*writeReq {
	tx.Rollback()
	for i, r := range ran {
		res := results[i]
		if res.ok {
			res = writeResult{err: fmt.Errorf("commit: the group's transaction was lost: %w", cause)}
		}
		r.done <- res
	}
	if last != nil {
		if lastRes.ok { // its RELEASE failed
			lastRes = writeResult{err: fmt.Errorf("commit: %w", cause)}
		}
		last.done <- lastRes
	}
	return notRun
}

// run calls r's fn, turning a panic into a result.
func run(r *writeReq, tx *sql.Tx) (res writeResult) {
	defer func() {
		if p := recover(); p != nil {
			res = writeResult{panic: p, err: fmt.Errorf("panic in write: %v", p)}
		}
	}()
	err := r.fn(tx)
	return writeResult{err: err, ok: err == nil}
}
