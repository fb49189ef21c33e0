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
	"slices"
	"strings"
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
  verigate webhook listen [--addr A] [--secret whsec_…]   receive and verify webhooks locally
  verigate openapi              print the OpenAPI 3.1 document
  verigate version              print the version

'verigate COMMAND --help' (or -h, or help) describes a command.
Configuration comes from VERIGATE_* environment variables (see the README);
serve, demo, migrate and admin also take --addr, --data-dir, --database-url,
--public-url, --log-format and --log-level.
`

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		return report(usagef("name a command (serve, demo, migrate, admin, webhook, openapi, version); run 'verigate help'"), e.stderr)
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
	case "webhook":
		err = webhookCmd(ctx, rest, e)
	case "openapi":
		if err = bare(cmd, "Prints the OpenAPI 3.1 document of every JSON surface to standard output.", rest, e); err == nil {
			var doc []byte
			if doc, err = openapi.Document(); err == nil {
				_, err = e.stdout.Write(append(doc, '\n'))
			}
		}
	case "version", "--version", "-v":
		if err = bare("version", "Prints the version.", rest, e); err == nil {
			fmt.Fprintln(e.stdout, "verigate", app.Version)
		}
	case "help", "--help", "-h", "-help":
		if len(rest) > 0 && !isHelp(rest[0]) { // verigate help COMMAND …
			return run(ctx, append(slices.Clone(rest), "--help"), e)
		}
		fmt.Fprint(e.stdout, usage)
	default:
		err = usagef("unknown command %q; run 'verigate help'", cmd)
	}
	return report(err, e.stderr)
}

// bare checks the arguments of a command that takes none: a request for
// help prints about and returns flag.ErrHelp.
func bare(name, about string, args []string, e *env) error {
	switch {
	case len(args) == 0:
		return nil
	case len(args) == 1 && isHelp(args[0]):
		fmt.Fprintf(e.stdout, "Usage: verigate %s\n\n%s\n", name, about)
		return flag.ErrHelp
	}
	return usagef("%s: unexpected argument %q; run 'verigate %s --help'", name, args[0], name)
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

// cmdline is one command's flags: the common settings are bound, and
// --help prints the command's usage to standard output.
type cmdline struct {
	*flag.FlagSet
	name     string // "serve", "admin org create"
	synopsis string // what follows the name in the usage line
	about    string
	// helpWord: "help" as the only argument asks for help (commands whose
	// positional argument could be named "help" leave it off).
	helpWord bool
	bind     func(getenv func(string) string) (*config.Config, error)
	e        *env
}

func newCmdline(name, synopsis, about string, e *env) *cmdline {
	c := newToolCmdline(name, synopsis, about, e)
	c.bind = config.Bind(c.FlagSet)
	return c
}

// newToolCmdline is a command line without the common settings, for
// commands that do not run the server (webhook listen has its own --addr).
func newToolCmdline(name, synopsis, about string, e *env) *cmdline {
	fs := flag.NewFlagSet("verigate "+name, flag.ContinueOnError)
	// The flag package would print its own usage on every error; we print
	// one line on errors and the usage, to stdout, on --help.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &cmdline{FlagSet: fs, name: name, synopsis: synopsis, about: about, helpWord: true, e: e}
}

// parse parses args, turning flag errors into one-line usage errors and a
// request for help into the usage on stdout (and flag.ErrHelp).
func (c *cmdline) parse(args []string) error {
	if c.helpWord && len(args) == 1 && args[0] == "help" {
		return c.help()
	}
	if err := c.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c.help()
		}
		return usagef("%s: %v; run 'verigate %s --help'", c.name, err, c.name)
	}
	return nil
}

func (c *cmdline) help() error {
	w := c.e.stdout
	fmt.Fprintf(w, "Usage: verigate %s %s\n", c.name, c.synopsis)
	if c.about != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(c.about, "\n"))
	}
	fmt.Fprint(w, "\nFlags:\n")
	c.SetOutput(w)
	c.PrintDefaults()
	c.SetOutput(io.Discard)
	return flag.ErrHelp
}

// load reads the configuration. It writes nothing: serve binds its port
// before prepare creates the data directory and the secret key.
func (c *cmdline) load() (*config.Config, error) {
	if c.NArg() > 0 {
		return nil, usagef("%s: unexpected argument %q; run 'verigate %s --help'", c.name, c.Arg(0), c.name)
	}
	return c.bind(c.e.getenv)
}

// loadPrepared reads the configuration and prepares the data directory
// and the secret key.
func (c *cmdline) loadPrepared() (*config.Config, error) {
	cfg, err := c.load()
	if err != nil {
		return nil, err
	}
	return cfg, cfg.Prepare(c.e.stderr)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
