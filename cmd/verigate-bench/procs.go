package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL engine's scratch schema
)

// proc is a child process the bench started; stop always ends it.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when it exited
	err  error
	// stdin, when set, is held open for the process's life.
	stdin io.Closer
}

func startProc(name string, cmd *exec.Cmd) (*proc, error) {
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// stop asks the process to end (SIGTERM), and kills it after 5 s.
func (p *proc) stop() {
	if p == nil {
		return
	}
	if p.stdin != nil {
		p.stdin.Close()
	}
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// moduleRoot is the directory of the go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; run the bench inside the repository")
		}
		dir = parent
	}
}

// buildVerigate builds the server the way a user would (go build), into
// root/tmp under a name of this run's own, so that runs side by side do
// not replace each other's binary; the caller removes it.
func buildVerigate(ctx context.Context, root string) (string, error) {
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	out := filepath.Join(root, "tmp", fmt.Sprintf("verigate-bench-server-%d", os.Getpid()))
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", out, "./cmd/verigate")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/verigate: %v\n%s", err, b)
	}
	return out, nil
}

// server is one verigate process and how to reach and administer it.
type server struct {
	bin, base string
	env       []string
	dir       string // its data directory; the log is there too
	p         *proc
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func newServer(bin, dir, databaseURL string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"VERIGATE_ADDR="+addr,
		"VERIGATE_DATA_DIR="+dir,
		"VERIGATE_SECRET_KEY=verigate-bench-secret-key-0123456789",
		"VERIGATE_SHUTDOWN_TIMEOUT=2s",
		"VERIGATE_WEBHOOK_ALLOW_PRIVATE=true", // the webhook case's receiver is on loopback
	)
	if databaseURL != "" {
		env = append(env, "VERIGATE_DATABASE_URL="+databaseURL)
	}
	return &server{bin: bin, base: "http://" + addr, env: env, dir: dir}, nil
}

// admin runs `verigate admin args… --json` on the server's database.
func (s *server) admin(ctx context.Context, stdin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.bin, append(append([]string{"admin"}, args...), "--json")...)
	cmd.Env = s.env
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("verigate admin %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// start runs `verigate serve`, its log in its data directory, and waits
// until /readyz answers 200.
func (s *server) start(ctx context.Context) error {
	logf, err := os.Create(filepath.Join(s.dir, "verigate.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(s.bin, "serve")
	cmd.Env, cmd.Stdout, cmd.Stderr = s.env, logf, logf
	if s.p, err = startProc("verigate", cmd); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.p.done:
			return fmt.Errorf("verigate exited at start (%v):\n%s", s.p.err, s.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
	}
	return fmt.Errorf("verigate not ready after 30 s:\n%s", s.logTail())
}

func (s *server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "verigate.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// startBare runs this program's bare subcommand and returns its base URL.
func startBare() (*proc, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(self, "bare", "-addr", "127.0.0.1:0")
	stdin, err := cmd.StdinPipe() // closed when the bench ends: the bare server then exits
	if err != nil {
		return nil, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = os.Stderr
	p, err := startProc("bare server", cmd)
	if err != nil {
		return nil, "", err
	}
	p.stdin = stdin
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		p.stop()
		return nil, "", fmt.Errorf("bare server: %v", err)
	}
	return p, "http://" + strings.TrimSpace(line), nil
}

// pgSchema creates a scratch schema bench_<pid> and returns base pointing
// into it (search_path), and the function that drops it.
func pgSchema(ctx context.Context, base string) (string, func(), error) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("bench_%d", os.Getpid())
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(dctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			fmt.Fprintf(os.Stderr, "drop schema %s: %v\n", schema, err)
		}
		db.Close()
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
