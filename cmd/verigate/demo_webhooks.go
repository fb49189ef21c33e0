package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/webhook"
)

// demoWebhook is the demo's endpoint, which posts to the receiver built
// into the demo process.
type demoWebhook struct {
	EndpointID  string `json:"endpointId"`
	Secret      string `json:"secret"`
	ReceiverURL string `json:"receiverUrl"`
}

// demoReceiverPrefix starts each line the demo's receiver prints: a bash
// comment, so that the demo's whole output still pastes.
const demoReceiverPrefix = "# webhook received: "

// startDemoReceiver starts the demo's webhook receiver on a loopback port
// and points the demo endpoint at it: demo-reseller's, in test mode (the
// tour's mode), for every event type of the reseller and its
// institutions. The first run creates the endpoint; later ones move it to
// the new port (its secret, kept in the demo's state, stays). Each
// message is verified and printed to out, one line each. stop closes the
// receiver.
func startDemoReceiver(ctx context.Context, a *app.App, st *demoState, out io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	url := "http://" + ln.Addr().String() + "/"
	wctx, _, err := webhookPrincipal(verigate.WithPrincipal(ctx, cliPrincipal), a, demoResellerKey, string(verigate.ModeTest))
	if err != nil {
		ln.Close()
		return nil, err
	}
	if err := demoEndpoint(wctx, a, st, url); err != nil {
		ln.Close()
		return nil, fmt.Errorf("set up the demo's webhook endpoint: %w", err)
	}
	key, err := webhook.ParseSecret(st.Webhook.Secret)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("the demo's webhook secret: %w", err)
	}
	rv := &webhook.Receiver{Secrets: [][]byte{key}, Out: &linePrefixer{w: out, prefix: demoReceiverPrefix}}
	srv := &http.Server{Handler: rv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() { defer close(served); srv.Serve(ln) }()
	return func() { srv.Close(); <-served }, nil
}

// demoEndpoint points the demo's endpoint at url, making it when the
// state has none (or it was deleted).
func demoEndpoint(ctx context.Context, a *app.App, st *demoState, url string) error {
	if st.Webhook != nil {
		on := true
		_, err := a.Webhooks.Update(ctx, st.Webhook.EndpointID, delivery.EndpointUpdate{URL: &url, Enabled: &on})
		if err == nil {
			st.Webhook.ReceiverURL = url
			return nil
		}
		if verigate.ErrorCode(err) != verigate.ENOTFOUND {
			return err
		}
	}
	org, err := a.Access.Organization(ctx, demoResellerKey)
	if err != nil {
		return err
	}
	got, err := a.Webhooks.Create(ctx, delivery.EndpointInput{OrgID: org.ID, URL: url, IncludeChildren: true,
		Description: "the demo's built-in receiver"})
	if err != nil {
		return err
	}
	st.Webhook = &demoWebhook{EndpointID: got.Endpoint.ID, Secret: got.Secret, ReceiverURL: url}
	return nil
}

// linePrefixer writes each line it is given after prefix.
type linePrefixer struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
}

func (l *linePrefixer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b bytes.Buffer
	for line := range bytes.Lines(p) {
		b.WriteString(l.prefix)
		b.Write(line)
	}
	if _, err := l.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// printWebhooks prints the webhook part of the tour.
func printWebhooks(p func(string, ...any), st *demoState, adminEnv string) {
	wh := st.Webhook
	if wh == nil {
		return
	}
	p("# Webhooks: endpoint %s (test mode, every event type, demo-reseller and its institutions) posts to the", wh.EndpointID)
	p("# demo's built-in receiver at %s, which verifies each Standard Webhooks signature and prints", wh.ReceiverURL)
	p("# every message in the demo's terminal on a line starting %q: each session change above shows there.", demoReceiverPrefix)
	p("export WEBHOOK_SECRET=%s   # the endpoint's signing secret", wh.Secret)
	p("%s go run ./cmd/verigate admin webhook list --org demo-reseller --mode test", adminEnv)
	p("# To receive webhooks in a terminal of your own (like stripe listen), run a standalone receiver there with a new")
	p("# endpoint's secret, then change a session as above (the first line makes the endpoint, the second listens):")
	p(`#   WH_SECRET=$(VERIGATE_WEBHOOK_ALLOW_PRIVATE=true %s go run ./cmd/verigate admin webhook create --org demo-reseller --mode test --include-children --url http://127.0.0.1:9000/ --json | sed -E 's/.*"secret":"([^"]+)".*/\1/')`, adminEnv)
	p("#   go run ./cmd/verigate webhook listen --addr 127.0.0.1:9000 --secret $WH_SECRET")
	p("")
}
