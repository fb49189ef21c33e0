package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// result is the JSON result file: enough to compare runs.
type result struct {
	StartedAt time.Time      `json:"startedAt"`
	Machine   machine        `json:"machine"`
	Commit    string         `json:"commit"`
	Settings  settings       `json:"settings"`
	Engines   []engineResult `json:"engines"`
}

type machine struct {
	CPUs      int    `json:"cpus"` // nproc
	Arch      string `json:"arch"` // uname -m
	OS        string `json:"os"`
	CPUModel  string `json:"cpuModel,omitempty"`
	GoVersion string `json:"goVersion"`
}

type engineResult struct {
	Engine string       `json:"engine"`
	Cases  []caseResult `json:"cases"`
	// Webhooks is the webhook-delivery case (webhooks.go).
	Webhooks *webhookResult `json:"webhooks,omitempty"`
}

// caseResult is one case's rounds and their summary: medians over the
// rounds, non-2xx summed.
type caseResult struct {
	Name   string   `json:"name"`
	Label  string   `json:"label"`
	Rounds []sample `json:"rounds"`
	RPS    float64  `json:"rps"`
	P50Ms  float64  `json:"p50Ms"`
	P99Ms  float64  `json:"p99Ms"`
	Non2xx int64    `json:"non2xx"`
	Ratio  float64  `json:"ratioToBare"`
}

func (c *caseResult) summarize() {
	var rps, p50, p99, ratio []float64
	c.Non2xx = 0
	for _, s := range c.Rounds {
		rps, p50, p99, ratio = append(rps, s.RPS), append(p50, s.P50Ms), append(p99, s.P99Ms), append(ratio, s.Ratio)
		c.Non2xx += s.Non2xx
	}
	c.RPS, c.P50Ms, c.P99Ms, c.Ratio = median(rps), median(p50), median(p99), median(ratio)
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Arch: runtime.GOARCH, OS: runtime.GOOS, GoVersion: runtime.Version()}
	if out, err := exec.Command("uname", "-m").Output(); err == nil {
		m.Arch = strings.TrimSpace(string(out))
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func gitCommit(root string) string {
	cmd := exec.Command("git", "describe", "--always", "--dirty")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func writeJSON(path string, res *result) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

var engineNames = map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}

// printTable prints the README-ready Markdown table and what it means.
func printTable(w io.Writer, res *result) {
	m, st := res.Machine, res.Settings
	fmt.Fprintf(w, "\nMachine: %d CPUs (nproc), %s (uname -m), %s", m.CPUs, m.Arch, m.OS)
	if m.CPUModel != "" {
		fmt.Fprintf(w, ", %s", m.CPUModel)
	}
	fmt.Fprintf(w, "; %s; commit %s.\n", m.GoVersion, res.Commit)
	fmt.Fprintf(w, "%d connections, %d rounds of %s per case, bare measured in every round.\n\n", st.Conns, st.Rounds, st.Duration)
	fmt.Fprintln(w, "| case | engine | req/s | p50 / p99 ms | non-2xx | × bare |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, er := range res.Engines {
		for _, c := range er.Cases {
			engine := engineNames[er.Engine]
			if c.Name == caseBare {
				engine = "(" + engine + " run)"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s / %s | %d | %s |\n", c.Label, engine, thousands(c.RPS),
				oneDecimal(c.P50Ms), oneDecimal(c.P99Ms), c.Non2xx, ratio(c))
		}
	}
	fmt.Fprintf(w, "\nreq/s, p50 and p99 are medians over the rounds; non-2xx is summed (transport errors count);\n"+
		"× bare is the median over rounds of the case's req/s over bare's in the same round.\n")
	var ran []string
	for _, er := range res.Engines {
		for _, c := range er.Cases {
			if c.Name == caseOTP {
				var secs []float64
				for _, s := range c.Rounds {
					secs = append(secs, s.Seconds)
				}
				ran = append(ran, fmt.Sprintf("%.2f s on %s", median(secs), engineNames[er.Engine]))
			}
		}
	}
	if len(ran) > 0 {
		fmt.Fprintf(w, "OTP submit: before each round %d Sandbox Bank logins are opened and wait for a code (not timed); the case\n"+
			"submits the right code once to each (202). A login waits for one code at a time and takes at most 5 per\n"+
			"10 minutes, so every submit needs a waiting login of its own: the case ends when they are used up\n"+
			"(-otp-accounts opens more). It ran %s (median of the rounds).\n"+
			"The worker delivering the codes runs in the measured server meanwhile, as it would in production.\n",
			st.OTPAccounts, strings.Join(ran, ", "))
	}
	printWebhooks(w, res)
	fmt.Fprintf(w, "CSRF step read: round robin over %d test-mode sessions, each allowed 300 applicant requests a minute.\n"+
		"API keys are created with --rate-limit %s so no case measures 429s.\n", st.CSRFSessions, keyRate)
}

func ratio(c caseResult) string {
	if c.Name == caseBare {
		return "1"
	}
	return fmt.Sprintf("%.3f", c.Ratio)
}

func oneDecimal(x float64) string {
	if x >= 100 {
		return thousands(x)
	}
	return fmt.Sprintf("%.1f", x)
}

// thousands formats x rounded, with commas: 14880 → 14,880.
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// printWebhooks prints the webhook-delivery case's rows: figures of their
// own (no bare ratio means anything for them).
func printWebhooks(w io.Writer, res *result) {
	var rows []string
	for _, er := range res.Engines {
		wh := er.Webhooks
		if wh == nil {
			continue
		}
		engine := engineNames[er.Engine]
		for _, t := range wh.Throughput {
			rows = append(rows, fmt.Sprintf("| burst of %s events → %d endpoint(s) | %s | %s signed deliveries/s (%s in %.2f s) |",
				thousands(float64(t.Events)), t.Endpoints, engine, thousands(t.DeliveriesSec), thousands(float64(t.Messages)), t.Seconds))
		}
		l := wh.Latency
		rows = append(rows, fmt.Sprintf("| %d sessions created at %d/s, created → delivered | %s | p50 %s ms, p99 %s ms (max %s) |",
			l.Events, l.EventsPerSecond, engine, oneDecimal(l.P50Ms), oneDecimal(l.P99Ms), oneDecimal(l.MaxMs)))
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\n| webhook-delivery | engine | figure |\n|---|---|---|")
	fmt.Fprintln(w, strings.Join(rows, "\n"))
	fmt.Fprintf(w, "Webhook delivery, to a receiver in the bench process that verifies every signature: a burst of events\n"+
		"committed at once straight into the outbox (500 per statement), timed from the first write to the last\n"+
		"message received (the server finds another process's events by its 250 ms poll); then sessions created\n"+
		"over HTTP at a steady rate, each timed from its request being sent to its message arriving. One endpoint's\n"+
		"messages go out one after another, in order; several endpoints are sent to at once.\n\n")
}
