package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/config"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// TestDemoLinesRun pastes every line the demo prints into bash, in order,
// against the running demo: each must exit 0, and every curl line uses -f,
// so each request must answer 2xx. The lines' variables come only from the
// lines themselves (set -u).
func TestDemoLinesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go run and the whole tour")
	}
	for _, tool := range []string{"bash", "curl", "openssl", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	dir := t.TempDir()
	secret := strings.Repeat("s", 32) // startChild's; the lines' admin commands need the same
	c := startChild(t, dir, nil, "demo")
	var lines []string
	for {
		line, err := c.stdout.ReadString('\n')
		if err != nil {
			t.Fatalf("demo output ended early: %v\n%s\n%s", err, strings.Join(lines, "\n"), c.logs())
		}
		lines = append(lines, strings.TrimSuffix(line, "\n"))
		if strings.HasSuffix(line, "admin sources list\n") {
			break
		}
	}
	base := c.base(t)
	// The built-in receiver prints what it receives after the tour; read
	// it meanwhile, so the pipe never fills.
	received := make(chan string, 10000)
	go func() {
		for {
			line, err := c.stdout.ReadString('\n')
			if err != nil {
				close(received)
				return
			}
			received <- line
		}
	}()
	// One bash reads the lines as a newcomer pastes them; after each
	// command a check names the line that failed.
	var script strings.Builder
	script.WriteString("set -uo pipefail\n")
	commands := 0
	for i, line := range lines {
		script.WriteString(line + "\n")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		commands++
		fmt.Fprintf(&script, "rc=$?; if [ $rc -ne 0 ]; then echo \"@@ line %d exited $rc\" >&2; exit 1; fi\n", i+1)
	}
	// The webhook loop's variables, for the checks below.
	script.WriteString(`echo "@@ webhook $HOOK_KEY $HOOK $MSG"` + "\n")
	if commands < 60 {
		t.Fatalf("only %d commands printed:\n%s", commands, strings.Join(lines, "\n"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash")
	cmd.Dir = "../.." // the repository's root, as the lines say
	cmd.Stdin = strings.NewReader(script.String())
	cmd.Env = append(os.Environ(), "VERIGATE_SECRET_KEY="+secret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		numbered := make([]string, len(lines))
		for i, l := range lines {
			numbered[i] = fmt.Sprintf("%3d %s", i+1, l)
		}
		t.Fatalf("the demo's lines failed: %v\n--- output\n%s\n--- lines\n%s\n--- server\n%.3000s", err, out, strings.Join(numbered, "\n"), c.logs())
	}
	var hookKey, hook, msg string
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) == 5 && f[0] == "@@" && f[1] == "webhook" {
			hookKey, hook, msg = f[2], f[3], f[4]
		}
	}
	if msg == "" {
		t.Fatalf("the webhook loop's variables were not printed:\n%s", out)
	}
	// The receiver verified every message it got (the loop's endpoint's
	// too, before and after its rotation): the tour's reject line's
	// event, the loop's message three times (delivered, redelivered,
	// replayed) under one webhook-id, and the test message sent after the
	// rotation.
	var seen []string
	msgLines, rejected, tested := 0, false, false
	deadline := time.After(30 * time.Second)
	for !rejected || msgLines < 3 || !tested {
		select {
		case line, ok := <-received:
			if !ok {
				t.Fatalf("demo output ended; received:\n%s", strings.Join(seen, ""))
			}
			seen = append(seen, line)
			if !strings.HasPrefix(line, demoReceiverPrefix) || !strings.Contains(line, "  signature ok  ") {
				t.Fatalf("the receiver printed %q", line)
			}
			rejected = rejected || strings.Contains(line, "  verification.rejected  signature ok  ")
			tested = tested || strings.Contains(line, "  webhook.test  signature ok  ") && strings.Contains(line, hook)
			if strings.Contains(line, "  "+msg+"  verification.created  signature ok  ") {
				msgLines++
			}
		case <-deadline:
			t.Fatalf("within 30 s: verification.rejected %v, message %s %d times (want 3), webhook.test %v; received:\n%s\n--- server\n%.3000s",
				rejected, msg, msgLines, tested, strings.Join(seen, ""), c.logs())
		}
	}
	// The message's log holds the three attempts, each answered 204.
	var detail struct {
		Attempts []struct {
			Trigger    string `json:"trigger"`
			StatusCode int    `json:"status_code"`
		} `json:"attempts"`
	}
	for try := 0; ; try++ {
		req, _ := http.NewRequest("GET", base+"/v1/webhook-endpoints/"+hook+"/messages/"+msg, nil)
		req.Header.Set("x-api-key", hookKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(res.Body).Decode(&detail)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET the message: %d %v", res.StatusCode, err)
		}
		var got []string
		for _, at := range detail.Attempts {
			got = append(got, fmt.Sprintf("%s %d", at.Trigger, at.StatusCode))
		}
		if strings.Join(got, ",") == "scheduled 204,redeliver 204,replay 204" {
			break
		}
		if try == 50 {
			t.Fatalf("the message's attempts are %v, want scheduled, redeliver and replay, each 204", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.wait(t)
}

// TestDemoSetUpIdempotent starts the demo three times on one database:
// the objects its lines act on are reused while still usable, so the
// queues hold one call per sample caller, not one per start.
func TestDemoSetUpIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		dir := t.TempDir()
		setUp := func() (*demoState, *apptest.Env) {
			ae := apptest.New(t, db)
			ae.App.Config.DataDir = dir
			st, err := setUpDemo(context.Background(), ae.App, &env{stderr: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			return st, ae
		}
		first, _ := setUp()
		setUp()
		third, ae := setUp()
		ctx := verigate.WithPrincipal(context.Background(), cliPrincipal)
		for inst, want := range map[string]int{"demo-cu": 3, "acme-cu": 1} {
			o, err := ae.App.Access.Organization(ctx, inst)
			if err != nil {
				t.Fatal(err)
			}
			calls, _, err := ae.App.Calls.Queue(ctx, o, verigate.CallFilter{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != want {
				t.Errorf("%s queue holds %d calls after three starts, want %d", inst, len(calls), want)
			}
		}
		if third.DashboardReviewID == 0 || third.DashboardReviewID == third.ReviewSessionID || third.DashboardReviewID != first.DashboardReviewID ||
			len(third.Calls) != 4 || third.Calls[3].VoiceID != first.Calls[3].VoiceID {
			t.Fatalf("the dashboard's objects: first %+v, third %+v", first, third)
		}
		if third.Verification.SessionID != first.Verification.SessionID || third.ReviewSessionID != first.ReviewSessionID ||
			third.Connections[0].AccountID != first.Connections[0].AccountID || third.Calls[2].VoiceID != first.Calls[2].VoiceID ||
			first.demoKey(hookScopes) == "" || third.demoKey(hookScopes) != first.demoKey(hookScopes) || len(third.APIKeys) != len(first.APIKeys) {
			t.Fatalf("a restart replaced objects still usable:\nfirst %+v\nthird %+v", first, third)
		}

		// What the lines used up is replaced: a rejected session, an enrolled call.
		_, p, err := ae.App.Access.VerifyAPIKey(ctx, third.demoKey(demoScopes))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ae.App.Verify.Review(verigate.WithPrincipal(ctx, p), third.ReviewSessionID, false, "no"); err != nil {
			t.Fatal(err)
		}
		fourth, _ := setUp()
		if fourth.ReviewSessionID == third.ReviewSessionID || fourth.ReviewSessionID == 0 {
			t.Fatalf("the rejected session %d was not replaced (now %d)", third.ReviewSessionID, fourth.ReviewSessionID)
		}
	})
}

// TestWorkedExampleUnreachable: the JavaScript example says clearly that
// nothing answers at BASE, instead of a stack trace.
func TestWorkedExampleUnreachable(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	cmd := exec.Command(node, "../../examples/confirm-worked-example.mjs")
	cmd.Env = append(os.Environ(), "BASE="+base, "ACCESS_TOKEN=vgat_x", "SVC_EMAIL=svc@demo-reseller.test", "SVC_PASSWORD=x")
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "Cannot reach Verigate at "+base) ||
		strings.Contains(string(out), "    at ") {
		t.Fatalf("exit %v, output:\n%s\nwant exit 1 and one clear message naming %s", err, out, base)
	}
}

// TestAdminEnv: the demo's printed admin lines open the demo's database,
// whichever it is.
func TestAdminEnv(t *testing.T) {
	for _, tc := range []struct {
		cfg  config.Config
		want string
	}{
		{config.Config{DataDir: "./verigate-demo", DatabaseURL: "verigate-demo/verigate.db"}, "VERIGATE_DATA_DIR=./verigate-demo"},
		{config.Config{DataDir: "/tmp/d", DatabaseURL: "postgres://u:p w@127.0.0.1/test?sslmode=disable"},
			"VERIGATE_DATA_DIR=/tmp/d VERIGATE_DATABASE_URL='postgres://u:p w@127.0.0.1/test?sslmode=disable'"},
		{config.Config{DataDir: "/tmp/it's", DatabaseURL: "/tmp/it's/verigate.db"}, `VERIGATE_DATA_DIR='/tmp/it'\''s'`},
	} {
		if got := adminEnv(&tc.cfg); got != tc.want {
			t.Errorf("adminEnv(%+v) = %s, want %s", tc.cfg, got, tc.want)
		}
	}
}
