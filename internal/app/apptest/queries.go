package apptest

import (
	"context"

	"github.com/verigate/verigate/internal/sqlstore"
)

// CountQueries returns a context under which the store counts every
// statement it runs into the returned counter (read it atomically), for
// surface tests, which may not import the store, to bound a request's
// queries.
func CountQueries(ctx context.Context) (context.Context, *int64) { return sqlstore.CountQueries(ctx) }
