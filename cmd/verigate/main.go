// Command verigate is the one Verigate binary: the server, the demo, the
// migrations and the admin CLI.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/config"
	"github.com/verigate/verigate/internal/openapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// env is what a command may touch of the outside world.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// Exit codes.
const (
	exitOK     = 0
	exitError  = 1 // the command failed; nothing was written half-way
	exitConfig = 2 // bad configuration or usage
)

// usageError is bad usage: exit 2 with the message.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

const usage = `Verigate — self-hostable partner verification platform.

Usage:
  verigate serve   [flags]      run the server
  verigate demo    [--json]     run the server with a demo tenant and print credentials
  verigate migrate [up|status] [--json]   apply or list database migrations
  verigate admin   …            manage organizations, users and credentials (verigate admin help)
  verigate openapi              print the OpenAPI 3.1 document
  verigate version              print the version

Configuration comes from VERIGATE_* environment variables (see the README);
serve, demo, migrate and admin also take --addr, --data-dir, --database-url,
--public-url, --log-format and --log-level.
`

func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitConfig
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = serve(ctx, rest, e)
	case "demo":
		err = demo(ctx, rest, e)
	case "migrate":
		err = migrate(ctx, rest, e)
	case "admin":
		err = admin(ctx, rest, e)
	case "openapi":
		var doc []byte
		if doc, err = openapi.Document(); err == nil {
			_, err = e.stdout.Write(append(doc, '\n'))
		}
	case "version", "--version", "-v":
		fmt.Fprintln(e.stdout, "verigate", app.Version)
	case "help", "--help", "-h":
		fmt.Fprint(e.stdout, usage)
	default:
		err = usagef("unknown command %q; run 'verigate help'", cmd)
	}
	return report(err, e.stderr)
}

// report prints err on one line and returns the exit code.
func report(err error, stderr io.Writer) int {
	var ue *usageError
	var ce *config.Error
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue), errors.As(err, &ce):
		fmt.Fprintln(stderr, "verigate:", err)
		return exitConfig
	case verigate.ErrorCode(err) != verigate.EINTERNAL:
		fmt.Fprintln(stderr, "verigate:", verigate.ErrorMessage(err))
	default:
		fmt.Fprintln(stderr, "verigate:", err)
	}
	return exitError
}

// flags returns a FlagSet for a command with the common settings bound.
func flags(name string, e *env) (*flag.FlagSet, func() (*config.Config, error)) {
	fs := flag.NewFlagSet("verigate "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	load := config.Bind(fs)
	return fs, func() (*config.Config, error) {
		if fs.NArg() > 0 {
			return nil, usagef("%s: unexpected argument %q", name, fs.Arg(0))
		}
		cfg, err := load(e.getenv)
		if err != nil {
			return nil, err
		}
		return cfg, cfg.Prepare(e.stderr)
	}
}

// parse parses args into fs, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
