package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultTimeout bounds one attempt: connecting, sending and reading the
// response.
const DefaultTimeout = 15 * time.Second

// UserAgent is the User-Agent of every delivery.
const UserAgent = "Verigate-Webhooks/1"

// ErrTimeout is what an attempt that ran out of time fails with (wrapped:
// "timeout after 15s").
var ErrTimeout = errors.New("timeout")

const (
	// maxDrain bounds how much of a response beyond MaxResponseBody is read
	// and discarded so its connection can be reused; a longer response's
	// connection is closed instead.
	maxDrain = 64 << 10
	// maxIdlePerHost is how many kept-alive connections to one receiver
	// stay open: the worker sends one endpoint's batch on one connection,
	// and a receiver behind one host may have several endpoints.
	maxIdlePerHost = 16
	// maxResponseHeader bounds a response's headers.
	maxResponseHeader = 64 << 10
)

// Client makes webhook deliveries over HTTP. It connects only where its
// Guard allows (checked on the address actually dialled), never follows
// redirects, ignores proxy settings from the environment and keeps
// connections alive between deliveries. It is safe for concurrent use.
type Client struct {
	guard      Guard
	timeout    time.Duration
	errTimeout error
	dialer     *net.Dialer
	http       *http.Client
}

// NewClient returns a Client whose attempts time out after timeout (0:
// DefaultTimeout).
func NewClient(g Guard, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	c := &Client{
		guard:      g,
		timeout:    timeout,
		errTimeout: fmt.Errorf("%w after %s", ErrTimeout, timeout),
		dialer:     &net.Dialer{KeepAlive: 30 * time.Second, Control: g.control},
	}
	c.http = &http.Client{
		Transport: &http.Transport{
			Proxy:                  nil, // never HTTP(S)_PROXY: the guard must see the receiver's address
			DialContext:            c.dial,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           256,
			MaxIdleConnsPerHost:    maxIdlePerHost,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    10 * time.Second,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: maxResponseHeader,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// dial connects through the guarded dialer. With the Guard's own Resolver
// it resolves the host itself, so the address the resolver gives at
// connect time is the one checked (and dialled).
func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if c.guard.Resolver == nil {
		return c.dialer.DialContext(ctx, network, addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return c.dialer.DialContext(ctx, network, addr)
	}
	ips, err := c.guard.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var first error
	for _, ip := range ips {
		conn, err := c.dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// CloseIdleConnections closes the kept-alive connections not in use.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Send makes one attempt: a POST of d's body with d's headers, a JSON
// Content-Type and the Verigate User-Agent.
func (c *Client) Send(ctx context.Context, d Delivery) Result {
	start := time.Now()
	ctx, cancel := context.WithTimeoutCause(ctx, c.timeout, c.errTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return Result{Err: fmt.Errorf("invalid request: %w", err)}
	}
	for k, v := range d.Header {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return Result{Latency: time.Since(start), Err: c.describe(ctx, err)}
	}
	defer resp.Body.Close()
	// A body that fails half-way is kept as far as it came: the status
	// has arrived, and it is what the attempt is judged by.
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	if err == nil {
		io.CopyN(io.Discard, resp.Body, maxDrain)
	}
	r := Result{
		Status:  resp.StatusCode,
		Latency: time.Since(start),
		Body:    logText(body),
		Abort:   strings.EqualFold(strings.TrimSpace(resp.Header.Get("webhook-delivery")), "abort-message"),
	}
	if r.Status == http.StatusTooManyRequests || r.Status == http.StatusServiceUnavailable {
		r.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return r
}

// describe turns a failed request's error into one that says what
// happened without repeating the URL.
func (c *Client) describe(ctx context.Context, err error) error {
	var refused *RefusedAddressError
	switch {
	case errors.As(err, &refused):
		return refused
	case context.Cause(ctx) == c.errTimeout:
		return c.errTimeout
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("delivery canceled: %w", context.Canceled)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// maxRetryAfter caps a Retry-After at the schedule's longest step.
var maxRetryAfter = schedule[len(schedule)-1]

// parseRetryAfter reads a Retry-After value: delta-seconds or an HTTP
// date. Anything else, and a time already past, is 0; longer waits are
// capped at maxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(maxRetryAfter/time.Second) { // out of range: digits only, so huge
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, maxRetryAfter))
}

// logText makes a response body fit for the delivery log: valid UTF-8
// (a rune the size limit split is dropped, invalid bytes become U+FFFD),
// no NUL bytes (PostgreSQL text refuses them), at most MaxResponseBody
// bytes.
func logText(b []byte) string {
	if i := lastRuneStart(b); i >= 0 && !utf8.FullRune(b[i:]) {
		b = b[:i]
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) > MaxResponseBody {
		cut := MaxResponseBody
		for !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// lastRuneStart returns the index of the last byte of b that may start a
// rune, looking back at most utf8.UTFMax bytes; -1 when there is none.
func lastRuneStart(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			return i
		}
	}
	return -1
}
