package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/pressly/goose/v3"
)

// fold is the case folding of search text, done in Go so both engines
// (SQLite's LOWER folds ASCII only, PostgreSQL's depends on the locale)
// store and search the same text.
func fold(s string) string { return strings.ToLower(s) }

// goMigrationNames name the Go migrations in `verigate migrate status`.
var goMigrationNames = map[int64]string{7: "00007_refold (Go)"}

// refoldMigration (00007) refolds the search columns 00006 backfilled with
// SQL LOWER, so rows with non-ASCII names match searches folded in Go; and
// starts, a lease on, connections held by a build whose holds never lapsed.
func refoldMigration() *goose.Migration {
	return goose.NewGoMigration(7, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		// A call's key is one column; the second part is always ''.
		if err := refold(ctx, tx, `SELECT voice_id, '', phone_number || ' ' || caller_name, search_text FROM phone_calls
			WHERE voice_id > $1 OR (voice_id = $1 AND '' > $2) ORDER BY voice_id LIMIT 500`,
			`UPDATE phone_calls SET search_text = $1 WHERE voice_id = $2 AND '' = $3`); err != nil {
			return err
		}
		if err := refold(ctx, tx, `SELECT institution_id, person_id, name, name_folded FROM members
			WHERE institution_id > $1 OR (institution_id = $1 AND person_id > $2) ORDER BY institution_id, person_id LIMIT 500`,
			`UPDATE members SET name_folded = $1 WHERE institution_id = $2 AND person_id = $3`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE connections SET next_run_at = created_at + 30000
			WHERE status = 'queued' AND next_run_at IS NULL`)
		return err
	}}, nil)
}

// refold walks a table in keyset batches over its two-part primary key (a
// batch is read whole before it is written: one connection cannot do both
// at once) and rewrites the folded text where Go's folding differs from
// what is stored.
func refold(ctx context.Context, tx *sql.Tx, read, write string) error {
	type row struct{ k1, k2, text, folded string }
	var k1, k2 string
	for {
		rows, err := tx.QueryContext(ctx, read, k1, k2)
		if err != nil {
			return err
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.k1, &r.k2, &r.text, &r.folded); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, r := range batch {
			if f := fold(r.text); f != r.folded {
				if _, err := tx.ExecContext(ctx, write, f, r.k1, r.k2); err != nil {
					return err
				}
			}
		}
		k1, k2 = batch[len(batch)-1].k1, batch[len(batch)-1].k2
	}
}
