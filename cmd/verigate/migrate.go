package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/verigate/verigate/internal/sqlstore"
)

func migrate(ctx context.Context, args []string, e *env) error {
	action := "up"
	if len(args) > 0 && (args[0] == "up" || args[0] == "status") {
		action, args = args[0], args[1:]
	}
	c := newCmdline("migrate", "[up|status] [--json] [flags]", "up (the default) applies the pending migrations; status lists them.", e)
	asJSON := c.Bool("json", false, "print JSON")
	if err := c.parse(args); err != nil {
		return err
	}
	cfg, err := c.loadPrepared()
	if err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, cfg.DatabaseURL, sqlstore.Options{Synchronous: cfg.SQLiteSynchronous, MaxConns: cfg.DatabaseMaxConns})
	if err != nil {
		return err
	}
	defer db.Close()
	if action == "up" {
		n, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, map[string]any{"applied": n, "database": db.Dialect()})
		}
		fmt.Fprintf(e.stdout, "applied %d migration(s) to %s\n", n, db.Dialect())
		return nil
	}
	st, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, st)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED")
	for _, m := range st {
		applied := "pending"
		if m.AppliedAt != nil {
			applied = m.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", m.Version, m.Name, applied)
	}
	return tw.Flush()
}
