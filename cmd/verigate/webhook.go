package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/verigate/verigate/internal/webhook"
)

const webhookUsage = `Usage: verigate webhook <command> [flags]

  listen [--addr HOST:PORT] [--secret whsec_…]…   receive webhooks locally, verify and print them
`

// webhookCmd runs the webhook tools.
func webhookCmd(ctx context.Context, args []string, e *env) error {
	switch {
	case len(args) == 0:
		return usagef("webhook: name a command (listen); run 'verigate webhook help'")
	case isHelp(args[0]):
		fmt.Fprint(e.stdout, webhookUsage)
		return flag.ErrHelp
	case args[0] == "listen":
		return webhookListen(ctx, args[1:], e)
	}
	return usagef("webhook: unknown command %q; run 'verigate webhook help'", args[0])
}

// webhookSecretEnv holds the listener's secrets when no --secret is given.
const webhookSecretEnv = "VERIGATE_WEBHOOK_SECRET"

func webhookListen(ctx context.Context, args []string, e *env) error {
	c := newToolCmdline("webhook listen", "[--addr HOST:PORT] [--secret whsec_…]…",
		`Runs a webhook receiver for development (like stripe listen): point an
endpoint at http://ADDR/ and every message it receives is printed on one
line (time, webhook-id, type, verdict, body). With secrets, each message's
Standard Webhooks signature must verify under one of them (two while a
rotated secret overlaps), or it is answered 400 and printed REJECTED;
without, messages are printed "unverified". Stops on SIGINT or SIGTERM.`, e)
	addr := c.String("addr", "127.0.0.1:9000", "the `HOST:PORT` to listen on")
	var raw []string
	c.Func("secret", "an endpoint `secret` (whsec_…) to verify with; repeat for several. Without it, "+
		webhookSecretEnv+" (space- or comma-separated) is used", func(s string) error {
		raw = append(raw, s)
		return nil
	})
	if err := c.parse(args); err != nil {
		return err
	}
	if c.NArg() > 0 {
		return usagef("webhook listen: unexpected argument %q; run 'verigate webhook listen --help'", c.Arg(0))
	}
	source := "--secret"
	if len(raw) == 0 {
		source = webhookSecretEnv
		raw = strings.FieldsFunc(e.getenv(webhookSecretEnv), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	}
	keys := make([][]byte, len(raw))
	for i, s := range raw {
		key, err := webhook.ParseSecret(s)
		if err != nil { // the secret itself is not echoed
			return usagef("webhook listen: %s: secret %d is malformed; want whsec_ and the base64 of at least 24 bytes", source, i+1)
		}
		keys[i] = key
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	rv := &webhook.Receiver{Secrets: keys, Out: e.stdout}
	how := fmt.Sprintf("verifying signatures with %d secret(s)", len(keys))
	if len(keys) == 0 {
		how = "no secret given, so messages are not verified; pass --secret whsec_… to verify"
	}
	fmt.Fprintf(e.stdout, "Listening for webhooks on http://%s/ (%s). Ctrl-C stops.\n", ln.Addr(), how)

	srv := &http.Server{Handler: rv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(stop); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
