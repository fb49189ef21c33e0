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
// SQL LOWER, so rows with non-ASCII names match searches folded in Go.
func refoldMigration() *goose.Migration {
	return goose.NewGoMigration(7, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		if err := refold(ctx, tx, `SELECT voice_id, phone_number || ' ' || caller_name, search_text FROM phone_calls WHERE voice_id > $1 ORDER BY voice_id LIMIT 500`,
			`UPDATE phone_calls SET search_text = $1 WHERE voice_id = $2`); err != nil {
			return err
		}
		return refold(ctx, tx, `SELECT institution_id || ' ' || person_id, name, name_folded FROM members WHERE institution_id || ' ' || person_id > $1 ORDER BY 1 LIMIT 500`,
			`UPDATE members SET name_folded = $1 WHERE institution_id || ' ' || person_id = $2`)
	}}, nil)
}

// refold walks a table in keyset batches (a batch is read whole before it
// is written: one connection cannot do both at once) and rewrites the
// folded text where Go's folding differs from what is stored.
func refold(ctx context.Context, tx *sql.Tx, read, write string) error {
	type row struct{ key, text, folded string }
	after := ""
	for {
		rows, err := tx.QueryContext(ctx, read, after)
		if err != nil {
			return err
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.key, &r.text, &r.folded); err != nil {
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
				if _, err := tx.ExecContext(ctx, write, f, r.key); err != nil {
					return err
				}
			}
		}
		after = batch[len(batch)-1].key
	}
}
