package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/verigate/verigate"
)

func openWriterTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.rw.Exec(`CREATE TABLE t (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func insertK(ctx context.Context, k string) func(*sql.Tx) error {
	return func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO t (k) VALUES ($1)`, k)
		if isUnique(err) {
			return verigate.Errorf(verigate.ECONFLICT, "%s is taken", k)
		}
		return err
	}
}

func keys(t *testing.T, db *DB) map[string]bool {
	t.Helper()
	rows, err := db.ro.Query(`SELECT k FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		rows.Scan(&k)
		out[k] = true
	}
	return out
}

// holdWriter keeps the writer loop busy in a write until release is
// called, so that the writes queued meanwhile commit as one group.
func holdWriter(t *testing.T, db *DB) (release func() error) {
	started, hold := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.tx(context.Background(), func(tx *sql.Tx) error {
			close(started)
			<-hold
			return insertK(context.Background(), "holder")(tx)
		})
	}()
	<-started
	return func() error { close(hold); return <-done }
}

// waitQueued waits until n writes are blocked handing themselves to the
// loop (they show as waiting senders only indirectly: give them time).
func waitQueued() { time.Sleep(100 * time.Millisecond) }

func TestGroupCommitIsolatesFailures(t *testing.T) {
	db := openWriterTest(t)
	ctx := context.Background()
	if err := db.tx(ctx, insertK(ctx, "taken")); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, db)
	before := db.writer.commits.Load()
	var wg sync.WaitGroup
	errs := map[string]error{}
	var mu sync.Mutex
	write := func(name string, fn func(*sql.Tx) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					mu.Lock()
					errs[name] = fmt.Errorf("panicked: %v", p)
					mu.Unlock()
				}
			}()
			err := db.tx(ctx, fn)
			mu.Lock()
			errs[name] = err
			mu.Unlock()
		}()
	}
	for i := range 5 {
		write(fmt.Sprint("ok", i), insertK(ctx, fmt.Sprint("ok", i)))
	}
	write("dup", insertK(ctx, "taken"))
	write("fails", func(tx *sql.Tx) error {
		if err := insertK(ctx, "fails-row")(tx); err != nil {
			return err
		}
		return errors.New("boom")
	})
	write("panics", func(tx *sql.Tx) error {
		if err := insertK(ctx, "panics-row")(tx); err != nil {
			return err
		}
		panic("fn panicked")
	})
	waitQueued()
	if err := release(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	// The holder's transaction had begun: one more for the eight queued.
	if n := db.writer.commits.Load() - before; n != 1 {
		t.Errorf("%d transactions for 8 queued writes, want 1", n)
	}
	for i := range 5 {
		if err := errs[fmt.Sprint("ok", i)]; err != nil {
			t.Errorf("ok%d: %v", i, err)
		}
	}
	if c := verigate.ErrorCode(errs["dup"]); c != verigate.ECONFLICT {
		t.Errorf("dup: %v, want ECONFLICT", errs["dup"])
	}
	if err := errs["fails"]; err == nil || err.Error() != "boom" {
		t.Errorf("fails: %v, want boom", err)
	}
	if err := errs["panics"]; err == nil || err.Error() != "panicked: fn panicked" {
		t.Errorf("panics: %v, want the panic re-raised", err)
	}
	got := keys(t, db)
	for _, k := range []string{"taken", "holder", "ok0", "ok1", "ok2", "ok3", "ok4"} {
		if !got[k] {
			t.Errorf("%s missing", k)
		}
	}
	for _, k := range []string{"fails-row", "panics-row"} {
		if got[k] {
			t.Errorf("%s written by a write that failed", k)
		}
	}
	// The loop goes on after a panic.
	if err := db.tx(ctx, insertK(ctx, "after")); err != nil {
		t.Fatal(err)
	}
}

func TestGroupCommitCancelledWhileQueued(t *testing.T) {
	db := openWriterTest(t)
	release := holdWriter(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- db.tx(ctx, func(tx *sql.Tx) error {
			ran <- struct{}{}
			return insertK(context.Background(), "cancelled")(tx)
		})
	}()
	waitQueued()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled write: %v", err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := db.tx(context.Background(), insertK(context.Background(), "next")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Error("a write cancelled while queued ran")
	default:
	}
	if keys(t, db)["cancelled"] {
		t.Error("a write cancelled while queued was written")
	}
}

func TestGroupCommitClosed(t *testing.T) {
	db := openWriterTest(t)
	db.writer.close()
	if err := db.tx(context.Background(), insertK(context.Background(), "late")); !errors.Is(err, errWriterClosed) {
		t.Fatalf("write after close: %v", err)
	}
}
