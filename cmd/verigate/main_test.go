package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app"
)

// The end-to-end tests run this test binary as the real verigate binary
// (the same run function main calls), in a child process they can signal
// and kill. A child may get two extra routes for tests:
// GET /test/slow?d=DURATION answers after DURATION (headers first), and
// POST /test/write?key=K creates reseller K and answers 201 once committed.
const childEnv = "VERIGATE_E2E_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "" {
		os.Exit(m.Run())
	}
	var args []string
	json.Unmarshal([]byte(os.Getenv(childEnv)), &args)
	testHooks = func(a *app.App) {
		a.Server.HandleFunc("GET /test/slow", func(w http.ResponseWriter, r *http.Request) {
			d, _ := time.ParseDuration(r.URL.Query().Get("d"))
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			time.Sleep(d)
			io.WriteString(w, "done")
		})
		a.Server.HandleFunc("POST /test/write", func(w http.ResponseWriter, r *http.Request) {
			ctx := verigate.WithPrincipal(r.Context(), verigate.System)
			_, err := a.Access.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgReseller, Key: r.URL.Query().Get("key"), Name: "Durable"})
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusCreated)
		})
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, args, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// child is a running verigate process.
type child struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	mu     sync.Mutex
	stderr bytes.Buffer
	addr   chan string
	done   chan error
}

// startChild runs verigate with args; env adds to the environment. The
// child logs JSON and listens on a free port.
func startChild(t *testing.T, dataDir string, env []string, args ...string) *child {
	t.Helper()
	argv, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(argv), "VERIGATE_DATA_DIR="+dataDir,
		"VERIGATE_ADDR=127.0.0.1:0", "VERIGATE_LOG_FORMAT=json", "VERIGATE_SECRET_KEY="+strings.Repeat("s", 32))
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdout: bufio.NewReader(out), addr: make(chan string, 1), done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.stderr.WriteString(line + "\n")
			c.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "verigate ready" {
				c.addr <- rec.Addr
			}
		}
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

func (c *child) logs() string { c.mu.Lock(); defer c.mu.Unlock(); return c.stderr.String() }

// base waits for the "verigate ready" log line and returns the base URL.
func (c *child) base(t *testing.T) string {
	t.Helper()
	select {
	case a := <-c.addr:
		return "http://" + a
	case err := <-c.done:
		t.Fatalf("verigate exited before ready: %v\n%s", err, c.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("verigate not ready after 30s:\n%s", c.logs())
	}
	return ""
}

// wait waits for the process to exit and returns its exit code.
func (c *child) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
		return c.cmd.ProcessState.ExitCode()
	case <-time.After(60 * time.Second):
		t.Fatalf("verigate did not exit:\n%s", c.logs())
	}
	return -1
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeAndGracefulShutdown(t *testing.T) {
	c := startChild(t, t.TempDir(), nil, "serve")
	base := c.base(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, base+path); code != 200 {
			t.Fatalf("%s = %d %s", path, code, body)
		}
	}
	if _, body := get(t, base+"/metrics"); !strings.Contains(body, `verigate_http_requests_total{route="GET /healthz",status="200"} 1`) {
		t.Fatalf("/metrics lacks the request counter:\n%.2000s", body)
	}
	resp, err := http.Get(base + "/test/slow?d=2s")
	if err != nil {
		t.Fatal(err)
	}
	// The slow request is in flight (its headers arrived); now SIGTERM.
	c.cmd.Process.Signal(syscall.SIGTERM)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "done" {
		t.Fatalf("in-flight request cut off: %q %v", body, err)
	}
	if code := c.wait(t); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d\n%s", code, c.logs())
	}
	if !strings.Contains(c.logs(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop logged:\n%s", c.logs())
	}
}

// TestCrashDurability kills the server with SIGKILL in the middle of a
// stream of writes; after a restart every acknowledged write is there.
func TestCrashDurability(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, dir, nil, "serve")
	base := c.base(t)
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	client := &http.Client{Timeout: 5 * time.Second}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%05d", w, i)
				resp, err := client.Post(base+"/test/write?key="+key, "", nil)
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					mu.Lock()
					acked = append(acked, key)
					mu.Unlock()
				}
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.cmd.Process.Kill() // SIGKILL, mid-stream
	c.wait(t)
	close(stop)
	wg.Wait()

	c2 := startChild(t, dir, nil, "admin", "org", "list", "--kind", "reseller", "--json")
	out, _ := io.ReadAll(c2.stdout)
	if code := c2.wait(t); code != 0 {
		t.Fatalf("admin org list after the crash: exit %d\n%s", code, c2.logs())
	}
	var orgs []verigate.Organization
	if err := json.Unmarshal(out, &orgs); err != nil {
		t.Fatalf("org list: %v\n%s", err, out)
	}
	have := map[string]bool{}
	for _, o := range orgs {
		have[o.Key] = true
	}
	for _, k := range acked {
		if !have[k] {
			t.Fatalf("acknowledged write %s lost after kill -9 (%d acknowledged, %d stored)", k, len(acked), len(orgs))
		}
	}
	t.Logf("%d writes acknowledged before kill -9, %d stored, none lost", len(acked), len(orgs))
	c3 := startChild(t, dir, nil, "serve")
	if code, body := get(t, c3.base(t)+"/readyz"); code != 200 {
		t.Fatalf("/readyz after the crash = %d %s", code, body)
	}
}

func TestDemoJSON(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, dir, nil, "demo", "--json")
	line, err := c.stdout.ReadString('\n')
	if err != nil {
		t.Fatalf("no JSON line: %v\n%s", err, c.logs())
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(line), &st); err != nil {
		t.Fatalf("demo --json printed %q: %v", line, err)
	}
	var demo demoState
	json.Unmarshal([]byte(line), &demo)
	for _, k := range []string{"baseUrl", "reseller", "institutions", "users", "apiKeys"} {
		if _, ok := st[k]; !ok {
			t.Errorf("demo JSON lacks %q", k)
		}
	}
	if demo.Reseller.Key != "demo-reseller" || !strings.HasPrefix(demo.Reseller.AccessToken, "vgat_") ||
		demo.Reseller.ServiceAccount.Password == "" || len(demo.Institutions) < 2 || len(demo.Calls) == 0 || len(demo.Users) != len(verigate.BuiltinRoles) ||
		len(demo.APIKeys) == 0 || !strings.HasPrefix(demo.APIKeys[0].Key, "vgk_") {
		t.Fatalf("demo JSON incomplete: %s", line)
	}
	if code, _ := get(t, demo.BaseURL+"/readyz"); code != 200 {
		t.Fatalf("demo not ready when it printed its JSON")
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(c.stdout)
	if code := c.wait(t); code != 0 || strings.TrimSpace(string(rest)) != "" {
		t.Fatalf("exit %d, more stdout after the JSON object: %q", code, rest)
	}

	// A second run reuses the demo and says so.
	c2 := startChild(t, dir, nil, "demo", "--json")
	line2, _ := c2.stdout.ReadString('\n')
	var demo2 demoState
	json.Unmarshal([]byte(line2), &demo2)
	if demo2.Reseller.AccessToken != demo.Reseller.AccessToken {
		t.Fatal("second run did not reuse the demo")
	}
	c2.base(t)
	for i := 0; i < 100 && !strings.Contains(c2.logs(), "Reusing the demo"); i++ {
		time.Sleep(20 * time.Millisecond) // stderr is read by another goroutine
	}
	if !strings.Contains(c2.logs(), "Reusing the demo") {
		t.Fatalf("second run did not say it reuses the demo:\n%s", c2.logs())
	}
	c2.cmd.Process.Signal(syscall.SIGTERM)
	c2.wait(t)
}

// TestSeedWorkedExample runs the seed's JavaScript worked example under
// Node against the demo: only the base URL and credentials differ.
func TestSeedWorkedExample(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	c := startChild(t, t.TempDir(), nil, "demo", "--json")
	line, err := c.stdout.ReadString('\n')
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, c.logs())
	}
	var demo demoState
	if err := json.Unmarshal([]byte(line), &demo); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "../../examples/confirm-worked-example.mjs")
	cmd.Env = append(os.Environ(), "BASE="+demo.BaseURL, "ACCESS_TOKEN="+demo.Reseller.AccessToken,
		"SVC_EMAIL="+demo.Reseller.ServiceAccount.Email, "SVC_PASSWORD="+demo.Reseller.ServiceAccount.Password)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	s := strings.TrimSpace(string(out))
	if !strings.HasPrefix(s, "[") || s == "[]" || !strings.Contains(s, "voiceId") {
		t.Fatalf("the worked example printed %q, want a non-empty array of phone calls", s)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.wait(t)
}

// TestSeedMachineExamples runs the seed's two /v1 curl examples against the
// demo: the status with a pending code, the code (202), the status without.
func TestSeedMachineExamples(t *testing.T) {
	c := startChild(t, t.TempDir(), nil, "demo", "--json")
	line, err := c.stdout.ReadString('\n')
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, c.logs())
	}
	var demo demoState
	json.Unmarshal([]byte(line), &demo)
	key := demo.demoKey(otpScopes)
	if key == "" || len(demo.Connections) != 1 {
		t.Fatalf("demo JSON lacks the machine key or the connection: %s", line)
	}
	acct := demo.Connections[0].AccountID
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, demo.BaseURL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Api-Key "+key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := do("GET", "/v1/accounts/"+acct+"/status", "")
	if code != 200 || !strings.Contains(body, `"session_running":true,"pending_assistance":{"id":"req_`) || !strings.Contains(body, `"descriptor":{"length":6,"type":"numeric","purpose":"login"},"attempts":0`) {
		t.Fatalf("status with a pending code: %d %s", code, body)
	}
	if code, body := do("POST", "/v1/accounts/"+acct+"/otp", `{ "code": "123456" }`); code != 202 || body != "{\"submitted\":true}\n" {
		t.Fatalf("otp: %d %s", code, body)
	}
	want := `{"account_id":"` + acct + `","session_running":false,"pending_assistance":null}` + "\n"
	for i := 0; ; i++ {
		if _, body = do("GET", "/v1/accounts/"+acct+"/status", ""); body == want {
			break
		}
		if i == 100 {
			t.Fatalf("status never settled: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// An open event stream does not hold shutdown up.
	req, _ := http.NewRequest("GET", demo.BaseURL+"/v1/accounts/"+acct+"/events", nil)
	req.Header.Set("x-api-key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stream: %v %v", resp, err)
	}
	defer resp.Body.Close()
	start := time.Now()
	c.cmd.Process.Signal(syscall.SIGTERM)
	if code := c.wait(t); code != 0 || time.Since(start) > 10*time.Second {
		t.Fatalf("exit %d after %v with a stream open\n%s", code, time.Since(start), c.logs())
	}
}

// TestDebugListener: pprof answers on the opt-in admin listener only.
func TestDebugListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	debugAddr := l.Addr().String()
	l.Close()
	c := startChild(t, t.TempDir(), []string{"VERIGATE_DEBUG_ADDR=" + debugAddr}, "serve")
	base := c.base(t)
	if code, body := get(t, "http://"+debugAddr+"/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Fatalf("pprof on the debug listener = %d %.200s", code, body)
	}
	if code, _ := get(t, base+"/debug/pprof/"); code != 404 {
		t.Fatalf("pprof on the public listener = %d, want 404", code)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	if code := c.wait(t); code != 0 {
		t.Fatalf("exit code = %d\n%s", code, c.logs())
	}
}

// TestTuneGC: the server raises GOGC unless the environment sets it.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("GOGC unset: percent %d, want %d", got, gcPercent)
	}
	tuneGC(func(k string) string { return map[string]string{"GOGC": "50"}[k] })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: percent changed to %d", got)
	}
}

// TestServeWarnsOfAnUntrustedProxy: an https public URL with no trusted
// proxy would leave the dashboard's cookie without Secure; the server
// says so at start, and not when a proxy is trusted.
func TestServeWarnsOfAnUntrustedProxy(t *testing.T) {
	for _, c := range []struct {
		env  []string
		warn bool
	}{
		{[]string{"VERIGATE_PUBLIC_URL=https://verify.example.com"}, true},
		{[]string{"VERIGATE_PUBLIC_URL=https://verify.example.com", "VERIGATE_TRUSTED_PROXIES=10.0.0.0/8"}, false},
	} {
		ch := startChild(t, t.TempDir(), c.env, "serve")
		ch.base(t)
		if got := strings.Contains(ch.logs(), "VERIGATE_TRUSTED_PROXIES is empty"); got != c.warn {
			t.Errorf("%v: warned %v\n%s", c.env, got, ch.logs())
		}
	}
}
