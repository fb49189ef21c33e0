// Command verigate-bench is Verigate's load benchmark (make bench). It
// builds the server, starts it on a loopback port (SQLite in a temporary
// directory; PostgreSQL too when VERIGATE_TEST_POSTGRES_URL is set, in a
// scratch schema), seeds a tenant through the admin CLI and the HTTP
// APIs, starts a bare net/http server (its own `bare` subcommand), and
// drives every case over keep-alive connections in rounds, each round
// measuring bare too, so each case's figure is a ratio to bare from the
// same round. It prints a Markdown table and writes a JSON result file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// postgresEnv names the PostgreSQL server the second engine runs on.
const postgresEnv = "VERIGATE_TEST_POSTGRES_URL"

type settings struct {
	Duration     string   `json:"durationPerCase"`
	Rounds       int      `json:"rounds"`
	Conns        int      `json:"connections"`
	OTPAccounts  int      `json:"otpAccountsPerRound"`
	CSRFSessions int      `json:"csrfSessions"`
	Engines      []string `json:"engines"`
	Cases        []string `json:"cases,omitempty"`
	duration     time.Duration
	out          string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		fs := flag.NewFlagSet("bare", flag.ExitOnError)
		addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
		fs.Parse(os.Args[2:])
		if err := serveBare(*addr); err != nil {
			fmt.Fprintln(os.Stderr, "verigate-bench bare:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "verigate-bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (*settings, error) {
	fs := flag.NewFlagSet("verigate-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./cmd/verigate-bench [flags]   (make bench BENCH_FLAGS=\"…\")\n\n"+
			"Load benchmark: every case beside a bare net/http server, in rounds; prints a Markdown table\n"+
			"and writes a JSON result file. PostgreSQL runs too when %s is set.\n\n", postgresEnv)
		fs.PrintDefaults()
	}
	st := &settings{}
	fs.DurationVar(&st.duration, "duration", 5*time.Second, "how long each case runs in each round")
	fs.IntVar(&st.Rounds, "rounds", 3, "rounds; each runs every case once, bare included")
	fs.IntVar(&st.Conns, "conns", 50, "concurrent keep-alive connections")
	fs.IntVar(&st.OTPAccounts, "otp-accounts", 1000, "logins waiting for a code opened before each round (the OTP case's requests)")
	fs.IntVar(&st.CSRFSessions, "csrf-sessions", 0, "sessions the CSRF case rotates over (0: enough for 30,000 req/s within the 300-a-minute limit of each)")
	engines := fs.String("engines", "", "sqlite, postgres or both, comma-separated (default: sqlite, and postgres when "+postgresEnv+" is set)")
	cases := fs.String("cases", "", "only these cases (comma-separated names, bare always runs); default: all")
	fs.StringVar(&st.out, "out", "", "JSON result file (default: tmp/bench-<time>.json in the repository)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if st.duration <= 0 || st.Rounds < 1 || st.Conns < 1 || st.OTPAccounts < 1 || st.CSRFSessions < 0 {
		return nil, errors.New("-duration, -rounds, -conns and -otp-accounts must be positive")
	}
	st.Duration = st.duration.String()
	if *cases != "" {
		var known []string
		for _, c := range serverCases(&fixture{}) {
			known = append(known, c.Name)
		}
		known = append(known, caseWebhook)
		for _, c := range strings.Split(*cases, ",") {
			c = strings.TrimSpace(c)
			if !slices.Contains(known, c) {
				return nil, fmt.Errorf("-cases: unknown case %q (cases: %s)", c, strings.Join(known, ", "))
			}
			st.Cases = append(st.Cases, c)
		}
	}
	if st.CSRFSessions == 0 {
		// A session's token is used at most within two rounds' windows a minute.
		busy := min(60, float64(min(st.Rounds, 2))*st.duration.Seconds())
		st.CSRFSessions = max(2, int(math.Ceil(30000*busy/300)))
	}
	switch *engines {
	case "":
		st.Engines = []string{"sqlite"}
		if os.Getenv(postgresEnv) != "" {
			st.Engines = append(st.Engines, "postgres")
		}
	default:
		for _, e := range strings.Split(*engines, ",") {
			switch e = strings.TrimSpace(e); e {
			case "sqlite":
			case "postgres":
				if os.Getenv(postgresEnv) == "" {
					return nil, fmt.Errorf("-engines postgres needs %s", postgresEnv)
				}
			default:
				return nil, fmt.Errorf("-engines: unknown engine %q", e)
			}
			st.Engines = append(st.Engines, e)
		}
	}
	return st, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	st, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	res := &result{StartedAt: time.Now().UTC(), Machine: describeMachine(), Commit: gitCommit(root), Settings: *st}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	logf("building ./cmd/verigate …")
	bin, err := buildVerigate(ctx, root)
	if err != nil {
		return err
	}
	defer os.Remove(bin)
	bare, bareURL, err := startBare()
	if err != nil {
		return err
	}
	defer bare.stop()
	for _, engine := range st.Engines {
		er, err := runEngine(ctx, st, engine, bin, bareURL, logf)
		if err != nil {
			return fmt.Errorf("%s: %w", engine, err)
		}
		res.Engines = append(res.Engines, *er)
	}
	out := st.out
	if out == "" {
		out = filepath.Join(root, "tmp", "bench-"+res.StartedAt.Format("20060102-150405")+".json")
	}
	if err := writeJSON(out, res); err != nil {
		return err
	}
	printTable(stdout, res)
	fmt.Fprintf(stdout, "\nJSON result: %s\n", out)
	return nil
}

// runEngine starts a server on the engine, seeds it and runs the rounds.
func runEngine(ctx context.Context, st *settings, engine, bin, bareURL string, logf func(string, ...any)) (*engineResult, error) {
	began := time.Now()
	dir, err := os.MkdirTemp("", "verigate-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var dbURL string
	if engine == "postgres" {
		var drop func()
		if dbURL, drop, err = pgSchema(ctx, os.Getenv(postgresEnv)); err != nil {
			return nil, err
		}
		defer drop()
	}
	s, err := newServer(bin, dir, dbURL)
	if err != nil {
		return nil, err
	}
	logf("%s: seeding through the admin CLI …", engine)
	f, err := seedAdmin(ctx, s)
	if err != nil {
		return nil, err
	}
	defer func() { s.p.stop() }() // also when it failed to become ready
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	logf("%s: server at %s; seeding over HTTP (%d sessions for the CSRF case) …", engine, s.base, st.CSRFSessions)
	t0 := time.Now()
	if err := f.seedHTTP(ctx, st.CSRFSessions); err != nil {
		return nil, err
	}
	logf("%s: seeded over HTTP in %.1f s", engine, time.Since(t0).Seconds())
	tr := newTransport(st.Conns)
	defer tr.CloseIdleConnections()
	cases := []benchCase{bareCase(bareURL)}
	for _, c := range serverCases(f) {
		if len(st.Cases) == 0 || slices.Contains(st.Cases, c.Name) {
			cases = append(cases, c)
		}
	}
	er := &engineResult{Engine: engine}
	for _, c := range cases {
		er.Cases = append(er.Cases, caseResult{Name: c.Name, Label: c.Label})
	}
	otp := slices.ContainsFunc(cases, func(c benchCase) bool { return c.Name == caseOTP })
	for round := range st.Rounds {
		var accounts []string
		if otp {
			logf("%s: round %d/%d: opening %d logins waiting for a code …", engine, round+1, st.Rounds, st.OTPAccounts)
			t0 := time.Now()
			var err error
			if accounts, err = f.awaitingAccounts(ctx, st.OTPAccounts); err != nil {
				return nil, err
			}
			logf("%s: round %d/%d: %d logins waiting after %.1f s", engine, round+1, st.Rounds, len(accounts), time.Since(t0).Seconds())
		}
		samples := make([]sample, len(cases))
		// Each round starts one case further on, so no case always
		// follows the same one.
		for k := range cases {
			i := (round + k) % len(cases)
			c := cases[i]
			settle(ctx)
			s := drive(ctx, tr, st.Conns, st.duration, c.next(accounts))
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if c.Name == caseOTP {
				used := accounts[:min(int(s.Requests), len(accounts))]
				if err := f.codesDelivered(ctx, used); err != nil {
					return nil, err
				}
			}
			samples[i] = s
			logf("%s: round %d  %-15s %8.0f req/s  p50 %6.1f ms  p99 %7.1f ms  non-2xx %d  (%d requests in %.2f s)",
				engine, round+1, c.Name, s.RPS, s.P50Ms, s.P99Ms, s.Non2xx, s.Requests, s.Seconds)
		}
		for i := range samples {
			if bare := samples[0].RPS; bare > 0 {
				samples[i].Ratio = samples[i].RPS / bare
			}
			er.Cases[i].Rounds = append(er.Cases[i].Rounds, samples[i])
		}
	}
	for i := range er.Cases {
		er.Cases[i].summarize()
	}
	if len(st.Cases) == 0 || slices.Contains(st.Cases, caseWebhook) {
		logf("%s: webhook delivery …", engine)
		dsn := dbURL
		if dsn == "" {
			dsn = filepath.Join(dir, "verigate.db")
		}
		if er.Webhooks, err = runWebhookCase(ctx, s, f, dsn, logf); err != nil {
			return nil, fmt.Errorf("webhook delivery: %w", err)
		}
	}
	logf("%s: done in %.0f s", engine, time.Since(began).Seconds())
	return er, nil
}

// settle lets the server finish what the last case set off (background
// work, garbage) before the next case starts.
func settle(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(300 * time.Millisecond):
	}
}
