package sqlstore

import "context"

// CacheGeneration reads the credential-cache generation, which triggers
// (migration 00009) bump in the transaction of every change that can
// narrow or end a verified credential; servers poll it to drop their
// cached credentials.
func (db *DB) CacheGeneration(ctx context.Context) (int64, error) {
	var g int64
	err := db.ro.QueryRowContext(ctx, `SELECT generation FROM cache_generation WHERE id = 1`).Scan(&g)
	return g, err
}
