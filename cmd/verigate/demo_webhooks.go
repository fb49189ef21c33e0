package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/seal"
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
	wctx, org, err := webhookPrincipal(verigate.WithPrincipal(ctx, cliPrincipal), a, demoResellerKey, string(verigate.ModeTest))
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
	rv := &demoReceiver{a: a, ctx: wctx, orgID: org.ID, url: url, own: key, seal: seal.New(a.Config.SecretKey, delivery.SealPurpose),
		out: &linePrefixer{w: out, prefix: demoReceiverPrefix}, plain: out}
	srv := &http.Server{Handler: rv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() { defer close(served); srv.Serve(ln) }()
	return func() { srv.Close(); <-served }, nil
}

// demoReceiver verifies each message with the secrets of every test-mode
// endpoint of demo-reseller's that posts to it (the demo's own and those
// the tour's lines create), read when the message arrives: an endpoint
// made or rotated while the demo runs verifies too, and a rotated secret
// keeps verifying while it still signs.
type demoReceiver struct {
	a     *app.App
	ctx   context.Context // demo-reseller's test-mode principal
	orgID string          // demo-reseller
	url   string
	own   []byte // the demo endpoint's key, used whatever the store answers
	seal  *seal.Sealer
	out   io.Writer // the webhook lines
	plain io.Writer // the return page's lines
}

// ServeHTTP receives webhooks, and answers the journey's redirect back
// (GET demoReturnPath) as a partner's return page would.
func (d *demoReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == demoReturnPath {
		d.returnPage(w, r)
		return
	}
	rv := &webhook.Receiver{Secrets: d.keys(), Out: d.out}
	rv.ServeHTTP(w, r)
}

// keys returns the demo endpoint's key and those of the other endpoints
// posting to the receiver; one that cannot be read is skipped (its
// messages are then refused, and retried).
func (d *demoReceiver) keys() [][]byte {
	keys := [][]byte{d.own}
	now := time.Now()
	open := func(id string, sealed []byte) {
		if plain, err := d.seal.Open(id, sealed); err == nil {
			if k, err := webhook.ParseSecret(string(plain)); err == nil {
				keys = append(keys, k)
			}
		}
	}
	const page = 100
	for after := ""; ; {
		eps, err := d.a.Webhooks.List(d.ctx, after, page)
		if err != nil {
			return keys
		}
		for _, ep := range eps {
			if !strings.HasPrefix(ep.URL, d.url) {
				continue
			}
			k, err := d.a.DB.WebhookEndpointKeys(d.ctx, ep.ID)
			if err != nil {
				continue
			}
			open(ep.ID, k.Secret)
			if len(k.Previous) > 0 && now.Before(k.PreviousUntil) {
				open(ep.ID, k.Previous)
			}
		}
		if len(eps) < page {
			return keys
		}
		after = eps[len(eps)-1].ID
	}
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

// printWebhooks prints the webhook part of the tour: the demo's endpoint,
// then the loop on the webhooks API with an endpoint of the reader's own
// on the same receiver. now dates the new session's expiry.
func printWebhooks(p func(string, ...any), st *demoState, adminEnv string, now time.Time) {
	wh := st.Webhook
	if wh == nil {
		return
	}
	key := `-H "x-api-key: $HOOK_KEY"`
	js := `-H "Content-Type: application/json"`
	p("# Webhooks: endpoint %s (test mode, every event type, demo-reseller and its institutions) posts to the", wh.EndpointID)
	p("# demo's built-in receiver, which verifies each Standard Webhooks signature and prints every message in the")
	p("# demo's terminal on a line starting %q: each session change above shows there.", demoReceiverPrefix)
	p("export RECEIVER=%s   # the built-in receiver: it verifies the messages of every demo endpoint posting to it", wh.ReceiverURL)
	p("export WEBHOOK_SECRET=%s   # the demo endpoint's signing secret", wh.Secret)
	p("%s go run ./cmd/verigate admin webhook list --org demo-reseller --mode test", adminEnv)
	p("# The loop on the webhooks API (/v1, $HOOK_KEY): an endpoint of your own on the same receiver, for two event")
	p("# types; the answer carries its secret, shown this once.")
	p(`SINCE=$(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ)   # for the replay below`)
	p(`HOOK_JSON=$(curl -sf -X POST $BASE/v1/webhook-endpoints %s %s -d '{"url":"'$RECEIVER'","description":"my receiver","event_types":["verification.created","verification.completed"]}'); echo "$HOOK_JSON"`, key, js)
	p(`HOOK=$(echo "$HOOK_JSON" | sed -E 's/.*"id":"([^"]+)","organization_id".*/\1/'); HOOK_SECRET=$(echo "$HOOK_JSON" | sed -E 's/.*"secret":"([^"]+)".*/\1/'); echo $HOOK`)
	p("# A session change: a new session is verification.created; the demo's terminal prints it for both endpoints.")
	p(`curl -sf -X POST $BASE/partner/session -H "x-api-key: $PARTNER_KEY" %s -d '{"params":{"expiryDate":"%s","applicantId":"applicant-43"}}' | sed -E 's/.*"data":\{"id":([0-9]+).*/session \1 created/'`,
		js, now.Add(7*24*time.Hour).UTC().Format("2006-01-02T15:04:05Z"))
	p("# Delivery takes a moment: delivered prints the id of the endpoint's newest delivered message, failing while there is none.")
	p(`delivered() { curl -sf "$BASE/v1/webhook-endpoints/$HOOK/messages?status=delivered&limit=1" %s | grep -o '"id":"[^"]*"' | cut -d'"' -f4 | grep .; }`, key)
	p(`MSG=$(retry delivered); echo $MSG`)
	p(`curl -sf "$BASE/v1/webhook-endpoints/$HOOK/messages?event_type=verification.created" %s   # the delivery log`, key)
	p(`curl -sf $BASE/v1/webhook-endpoints/$HOOK/messages/$MSG %s   # one message with its attempts`, key)
	p(`curl -sf -X POST $BASE/v1/webhook-endpoints/$HOOK/messages/$MSG/redeliver %s   # the demo's terminal prints it again, same webhook-id`, key)
	p(`retry delivered   # until the redelivery is in`)
	p(`curl -sf -X POST $BASE/v1/webhook-endpoints/$HOOK/replay %s %s -d '{"since":"'$SINCE'"}'   # every message since $SINCE, again`, key, js)
	p("# Rotate the secret: for 24 h every message carries two signatures, the new secret's and the old one's.")
	p(`curl -sf -X POST $BASE/v1/webhook-endpoints/$HOOK/rotate-secret %s`, key)
	p(`curl -sf -X POST $BASE/v1/webhook-endpoints/$HOOK/test %s   # a webhook.test message, signed with both`, key)
	p(`curl -sf "$BASE/v1/events?type=verification.created&limit=5" %s   # the event stream, oldest first; pass next_after as after`, key)
	p(`curl -sf $BASE/v1/webhook-endpoints %s`, key)
	p("# To receive webhooks in a terminal of your own (like stripe listen), run a standalone receiver there with a new")
	p("# endpoint's secret, then change a session as above (the first line makes the endpoint, the second listens):")
	p(`#   WH_SECRET=$(VERIGATE_WEBHOOK_ALLOW_PRIVATE=true %s go run ./cmd/verigate admin webhook create --org demo-reseller --mode test --include-children --url http://127.0.0.1:9000/ --json | sed -E 's/.*"secret":"([^"]+)".*/\1/')`, adminEnv)
	p("#   go run ./cmd/verigate webhook listen --addr 127.0.0.1:9000 --secret $WH_SECRET")
	p("")
}
