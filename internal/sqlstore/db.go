// Package sqlstore is Verigate's one SQL store. The same hand-written SQL
// runs on SQLite (modernc.org/sqlite, the embedded default) and PostgreSQL
// (pgx); only the migrations differ per dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/verigate/verigate"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

//go:embed migrations
var migrations embed.FS

// DB is the store. On SQLite it keeps two pools: one connection for writes
// (SQLite has one writer; queuing in Go beats spinning on SQLITE_BUSY) and
// several read-only connections that WAL lets run beside it.
type DB struct {
	dialect string
	rw      *sql.DB
	ro      *sql.DB
	writer  *groupWriter // SQLite's group commit (writer.go); nil on PostgreSQL
	// read and write run statements outside a transaction on ro and rw,
	// counted and prepared through the pools' statement caches; adhoc
	// runs (counted, unprepared) reads whose text varies with an id
	// list's length, which would only crowd the cache.
	read, write, adhoc queryer
	roStmts, rwStmts   *stmtCache
	queries            atomic.Int64
	onEvents           func() // see OnEvents
}

// newDB returns the store on its pools. On SQLite each pool gets a
// statement cache; pgx already keeps one per connection (its default
// QueryExecModeCacheStatement, 512 statements), which also forgets a
// statement a schema change invalidated, so PostgreSQL gets none.
func newDB(dialect string, rw, ro *sql.DB) *DB {
	db := &DB{dialect: dialect, rw: rw, ro: ro}
	if dialect == SQLite {
		db.rwStmts, db.roStmts = newStmtCache(rw), newStmtCache(ro)
	}
	detach := dialect == SQLite
	db.read = runner{db: db, pool: ro, cache: db.roStmts, detach: detach}
	db.write = runner{db: db, pool: rw, cache: db.rwStmts}
	db.adhoc = runner{db: db, pool: ro, detach: detach}
	return db
}

// readConns is the least number of SQLite read connections.
const readConns = 32

// Options tune Open.
type Options struct {
	// Synchronous is SQLite's synchronous pragma; FULL (the default) makes
	// every acknowledged commit survive power loss.
	Synchronous string
	// MaxConns bounds PostgreSQL's pool; 0 means 4 per CPU, at least 8.
	MaxConns int
}

// Open connects to the database named by dsn: a postgres:// or
// postgresql:// URL, or a path to an SQLite file (created when missing).
// It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn, opts)
	}
	return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite://"), opts)
}

func openPostgres(ctx context.Context, dsn string, opts Options) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// A pool wider than the cores that serve it only queues the same work
	// in more backends: on the 2-core machine, 8 connections served the
	// status read about 5 % faster than 25 did (make bench).
	n := opts.MaxConns
	if n == 0 {
		n = max(8, 4*runtime.NumCPU())
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return newDB(Postgres, db, db), nil
}

func openSQLite(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	sync := strings.ToUpper(opts.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	switch sync {
	case "OFF", "NORMAL", "FULL", "EXTRA":
	default:
		return nil, fmt.Errorf("open sqlite: synchronous must be OFF, NORMAL, FULL or EXTRA, not %q", opts.Synchronous)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+sync+")")
	rwq := url.Values{"_txlock": {"immediate"}}
	for k, v := range q {
		rwq[k] = v
	}
	// WAL is set once on the writer; it is persistent in the file.
	rwq.Add("_pragma", "journal_mode(WAL)")
	// The group commit's savepoints journal the pages each write changes
	// in a statement journal, which past 64 KiB spills to a temporary
	// file (a write syscall per page): in memory, a group's journal is a
	// few MB at most and never touches the disk.
	rwq.Add("_pragma", "temp_store(MEMORY)")
	rw, err := sql.Open("sqlite", "file:"+abs+"?"+rwq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	rw.SetMaxOpenConns(1)
	rw.SetConnMaxIdleTime(0)
	if err := rw.PingContext(ctx); err != nil {
		rw.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", abs, err)
	}
	q.Add("_pragma", "query_only(1)")
	ro, err := sql.Open("sqlite", "file:"+abs+"?"+q.Encode())
	if err != nil {
		rw.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// Enough readers that 50 concurrent requests seldom wait for one
	// (with 4, 94 % of queries did): a WAL reader is cheap, opened only
	// when needed, and then kept (idle equals open, no idle timeout) so
	// its prepared statements and page cache stay warm.
	n := max(readConns, 4*runtime.NumCPU())
	ro.SetMaxOpenConns(n)
	ro.SetMaxIdleConns(n)
	db := newDB(SQLite, rw, ro)
	db.writer = newGroupWriter(rw)
	return db, nil
}

// Close closes the prepared statements and the pools.
func (db *DB) Close() error {
	if db.writer != nil {
		db.writer.close()
	}
	err := errors.Join(db.rwStmts.close(), db.roStmts.close(), db.rw.Close())
	if db.ro != db.rw {
		err = errors.Join(err, db.ro.Close())
	}
	return err
}

// Dialect returns SQLite or Postgres.
func (db *DB) Dialect() string { return db.dialect }

// Pools returns the underlying pools by name, for metrics.
func (db *DB) Pools() map[string]*sql.DB {
	if db.ro == db.rw {
		return map[string]*sql.DB{"main": db.rw}
	}
	return map[string]*sql.DB{"write": db.rw, "read": db.ro}
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.rw.PingContext(ctx); err != nil {
		return err
	}
	return db.ro.PingContext(ctx)
}

func (db *DB) provider() (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations/"+db.dialect)
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithGoMigrations(refoldMigration())}
	if db.dialect == Postgres {
		dialect = goose.DialectPostgres
		// Replicas starting together must not migrate twice.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db.rw, fsys, opts...)
}

// Migrate applies every pending migration and returns how many ran.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	p, err := db.provider()
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate: %w", err)
	}
	return len(res), nil
}

// Migration is one migration's state.
type Migration struct {
	Version   int64      `json:"version"`
	Name      string     `json:"name"`
	AppliedAt *time.Time `json:"appliedAt,omitempty"`
}

// MigrationStatus lists every known migration and whether it was applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]Migration, error) {
	p, err := db.provider()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Migration, 0, len(st))
	for _, s := range st {
		m := Migration{Version: s.Source.Version, Name: filepath.Base(s.Source.Path)}
		if s.Source.Path == "" {
			m.Name = goMigrationNames[s.Source.Version]
		}
		if s.State == goose.StateApplied {
			at := s.AppliedAt
			m.AppliedAt = &at
		}
		out = append(out, m)
	}
	return out, nil
}

// Pending reports whether migrations remain to be applied; /readyz uses it.
func (db *DB) Pending(ctx context.Context) (bool, error) {
	p, err := db.provider()
	if err != nil {
		return false, err
	}
	return p.HasPending(ctx)
}

// tx runs fn in a write transaction, committing when it returns nil; it
// returns once the commit is durable. On SQLite fn joins the writer's
// group commit (writer.go), in a savepoint of its own.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if db.onEvents != nil {
		var wrote atomic.Bool
		if err := db.commit(ctx, markedTx(fn, &wrote)); err != nil {
			return err
		}
		if wrote.Load() {
			db.onEvents()
		}
		return nil
	}
	return db.commit(ctx, fn)
}

// commit runs fn in a write transaction and commits it.
func (db *DB) commit(ctx context.Context, fn func(*sql.Tx) error) error {
	if db.writer != nil {
		return db.writer.do(ctx, fn)
	}
	tx, err := db.rw.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// queryer is what both *sql.DB and *sql.Tx offer.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// notFound maps sql.ErrNoRows to the domain's not-found error.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return verigate.Errorf(verigate.ENOTFOUND, "%s not found.", what)
	}
	return err
}

// Times are stored as Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// list runs a query and scans every row with scan.
func list[T any](ctx context.Context, q queryer, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func itoa(n int) string { return strconv.Itoa(n) }

// inList appends vals to args and returns their placeholders, "($n, …)".
// Build the query into a variable before passing args: Go leaves unordered
// whether args is read before or after a call in the same argument list.
func inList[T any](args *[]any, vals []T) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		*args = append(*args, v)
		b.WriteString("$" + strconv.Itoa(len(*args)))
	}
	b.WriteByte(')')
	return b.String()
}
