package webhook

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/verigate/verigate"
)

// fakeResolver answers from a table; a host may have a list of answers,
// one per lookup (the last repeats), to play DNS rebinding.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	errs    map[string]error
	lookups map[string]int
}

func newResolver() *fakeResolver {
	return &fakeResolver{answers: map[string][][]netip.Addr{}, errs: map[string]error{}, lookups: map[string]int{}}
}

// set makes host resolve to addrs, then (on later lookups) to later's.
func (r *fakeResolver) set(host string, answers ...string) *fakeResolver {
	for _, a := range answers {
		var ips []netip.Addr
		for _, s := range strings.Fields(a) {
			ips = append(ips, netip.MustParseAddr(s))
		}
		r.answers[host] = append(r.answers[host], ips)
	}
	return r
}

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.lookups[host]
	r.lookups[host]++
	if err, ok := r.errs[host]; ok {
		return nil, err
	}
	as, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return as[min(n, len(as)-1)], nil
}

func (r *fakeResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups[host]
}

// wantRefused checks err is an EINVALID field error on url whose message
// holds every one of want.
func wantRefused(t *testing.T, raw string, err error, want ...string) {
	t.Helper()
	var e *verigate.Error
	if !errors.As(err, &e) || e.Code != verigate.EINVALID || e.Fields["url"] == "" {
		t.Fatalf("CheckURL(%q) = %v; want an EINVALID error on url", raw, err)
	}
	for _, w := range want {
		if !strings.Contains(e.Message, w) {
			t.Fatalf("CheckURL(%q) = %q; want it to say %q", raw, e.Message, w)
		}
	}
}

// Every address class the guard refuses, as a URL's literal host, with
// the words its refusal must say; and the public neighbours of each range
// it must allow.
var (
	refusedHosts = []struct{ host, why string }{
		// The five literals.
		{"127.0.0.1", "loopback"},
		{"10.0.0.1", "private"},
		{"169.254.169.254", "cloud metadata"},
		{"[::1]", "loopback"},
		{"100.64.0.1", "carrier-grade NAT"},

		{"127.255.255.254", "loopback"},
		{"0.0.0.0", "this network"},
		{"0.1.2.3", "this network"},
		{"10.255.255.255", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.0.1", "private"},
		{"169.254.0.1", "link-local"},
		{"100.127.255.255", "carrier-grade NAT"},
		{"100.100.100.200", "cloud metadata"},
		{"192.0.0.192", "cloud metadata"},
		{"192.0.0.8", "IETF protocol assignment"},
		{"192.0.2.10", "documentation"},
		{"198.51.100.10", "documentation"},
		{"203.0.113.10", "documentation"},
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.255", "benchmarking"},
		{"192.88.99.1", "6to4 relay"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "broadcast"},

		{"[::]", "unspecified"},
		{"[fc00::1]", "private"},
		{"[fd12:3456::1]", "private"},
		{"[fd00:ec2::254]", "cloud metadata"},
		{"[fe80::1]", "link-local"},
		{"[fe80::1%25eth0]", "link-local"},
		{"[fec0::1]", "site-local"},
		{"[ff02::1]", "multicast"},
		{"[ff0e::1]", "multicast"},
		{"[2001:db8::1]", "documentation"},
		{"[3fff::1]", "documentation"},
		{"[2001::1]", "IETF special-purpose"}, // Teredo
		{"[2001:2::1]", "IETF special-purpose"},
		{"[2002:7f00:1::1]", "6to4"},
		{"[5f00::1]", "segment routing"},
		{"[100::1]", "reserved IPv6"},
		{"[::127.0.0.1]", "reserved IPv6"}, // IPv4-compatible, deprecated
		{"[64:ff9b:1::1]", "reserved IPv6"},

		// IPv4-mapped IPv6 is judged as the IPv4 address.
		{"[::ffff:127.0.0.1]", "loopback"},
		{"[::ffff:7f00:1]", "loopback"},
		{"[::ffff:10.0.0.1]", "private"},
		{"[::ffff:169.254.169.254]", "cloud metadata"},
		{"[::ffff:100.64.0.1]", "carrier-grade NAT"},
		{"[::ffff:0.0.0.0]", "this network"},
		// NAT64 is judged by the IPv4 address it embeds.
		{"[64:ff9b::127.0.0.1]", "NAT64 address of 127.0.0.1 (a loopback"},
		{"[64:ff9b::a9fe:a9fe]", "NAT64 address of 169.254.169.254 (a cloud metadata"},
	}
	publicHosts = []string{
		"93.184.216.34", "8.8.8.8", "1.1.1.1",
		"9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255", "128.0.0.0",
		"169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255", "192.169.0.0",
		"198.17.255.255", "198.20.0.0", "223.255.255.255", "1.0.0.1",
		"[2606:4700:4700::1111]", "[2a00:1450:4001::200e]", "[::ffff:8.8.8.8]", "[64:ff9b::808:808]",
		"[2001:200::1]", "[2003::1]",
	}
)

func TestGuardRefusesPrivateAddresses(t *testing.T) {
	ctx := context.Background()
	strict, lax := Guard{Resolver: newResolver()}, Guard{AllowPrivate: true, Resolver: newResolver()}
	for _, tc := range refusedHosts {
		for _, raw := range []string{"http://" + tc.host, "https://" + tc.host + ":8443/hooks?x=1"} {
			bare := strings.NewReplacer("[", "", "]", "", "%25", "%").Replace(tc.host)
			wantRefused(t, raw, strict.CheckURL(ctx, raw, false), bare+" is ", tc.why, "webhook endpoints must be public")
			if err := lax.CheckURL(ctx, raw, false); err != nil {
				t.Fatalf("AllowPrivate: CheckURL(%q) = %v", raw, err)
			}
		}
		ip := netip.MustParseAddr(strings.NewReplacer("[", "", "]", "", "%25", "%").Replace(tc.host))
		if strict.Allowed(ip) || !lax.Allowed(ip) {
			t.Fatalf("Allowed(%s) = %v, with AllowPrivate %v", ip, strict.Allowed(ip), lax.Allowed(ip))
		}
	}
	for _, host := range publicHosts {
		raw := "https://" + host + "/hooks"
		if err := strict.CheckURL(ctx, raw, true); err != nil {
			t.Fatalf("CheckURL(%q) = %v; want it allowed", raw, err)
		}
		if ip := netip.MustParseAddr(strings.Trim(host, "[]")); !strict.Allowed(ip) {
			t.Fatalf("Allowed(%s) = false", ip)
		}
	}
	if (Guard{AllowPrivate: true}).Allowed(netip.Addr{}) {
		t.Fatal("the zero Addr is allowed")
	}
}

// A host name is refused when any address it resolves to is; a name that
// does not resolve is refused; localhost names without a lookup.
func TestGuardResolvesHostNames(t *testing.T) {
	ctx := context.Background()
	res := newResolver().
		set("internal.example", "127.0.0.1").
		set("mixed.example", "93.184.216.34 10.0.0.5").
		set("mapped.example", "::ffff:169.254.169.254").
		set("v6.example", "2606:4700:4700::1111 fd00::1").
		set("public.example", "93.184.216.34 2606:4700:4700::1111").
		set("empty.example", "")
	res.errs["slow.example"] = &net.DNSError{Err: "i/o timeout", Name: "slow.example", IsTimeout: true}
	res.errs["broken.example"] = errors.New("resolver exploded")
	g := Guard{Resolver: res}
	for _, tc := range []struct {
		raw  string
		want []string
	}{
		{"http://internal.example", []string{"internal.example resolves to 127.0.0.1, a loopback address; webhook endpoints must be public"}},
		{"https://mixed.example/", []string{"mixed.example resolves to 10.0.0.5, a private address"}},
		{"https://mapped.example/", []string{"resolves to ::ffff:169.254.169.254, a cloud metadata address"}},
		{"https://v6.example/", []string{"resolves to fd00::1, a private (unique local) address"}},
		{"https://nx.example/", []string{"nx.example does not resolve (no such host)"}},
		{"https://empty.example/", []string{"empty.example does not resolve (no address)"}},
		{"https://slow.example/", []string{"slow.example does not resolve (lookup timed out)"}},
		{"https://broken.example/", []string{"broken.example does not resolve (lookup failed)"}},
		{"http://localhost:8080/", []string{"localhost is a loopback name"}},
		{"http://LocalHost./", []string{"LocalHost. is a loopback name"}},
		{"http://app.localhost/", []string{"app.localhost is a loopback name"}},
	} {
		wantRefused(t, tc.raw, g.CheckURL(ctx, tc.raw, false), tc.want...)
	}
	if n := res.count("localhost") + res.count("LocalHost.") + res.count("app.localhost"); n != 0 {
		t.Fatalf("localhost names were looked up %d times", n)
	}
	if err := g.CheckURL(ctx, "https://public.example/hooks", true); err != nil {
		t.Fatalf("public.example: %v", err)
	}
	// AllowPrivate lifts the address rule and does not resolve at all.
	lax := Guard{AllowPrivate: true, Resolver: res}
	before := res.count("internal.example")
	for _, raw := range []string{"http://internal.example", "http://nx.example", "http://localhost:9000/"} {
		if err := lax.CheckURL(ctx, raw, false); err != nil {
			t.Fatalf("AllowPrivate: CheckURL(%q) = %v", raw, err)
		}
	}
	if res.count("internal.example") != before {
		t.Fatal("AllowPrivate still resolved the host")
	}
}

func TestGuardURLShape(t *testing.T) {
	ctx := context.Background()
	g := Guard{AllowPrivate: true} // only the shape is judged here
	for _, tc := range []struct{ raw, want string }{
		{"", "url: is required"},
		{"/hooks", "must be an absolute http or https URL"},
		{"example.com/hooks", "must be an absolute http or https URL"},
		{"ftp://example.com/", `scheme "ftp" is not allowed`},
		{"javascript:alert(1)", `scheme "javascript" is not allowed`},
		{"file:///etc/passwd", `scheme "file" is not allowed`},
		{"gopher://example.com", `scheme "gopher" is not allowed`},
		{"http:example.com", "with a host"},
		{"http:///hooks", "with a host"},
		{"https://user:pw@example.com/", "must not contain a user name or password"},
		{"https://user@example.com/", "must not contain a user name or password"},
		{"https://example.com:0/", `port "0" is not between 1 and 65535`},
		{"https://example.com:65536/", `port "65536" is not between 1 and 65535`},
		{"https://example.com:x/", "is not a valid URL"},
		{"http://exa mple.com/", "is not a valid URL"},
		{"http://example.com/\x7f", "is not a valid URL"},
		{"https://" + strings.Repeat("a", MaxURLLength) + ".com/", "is longer than 2048 characters"},
	} {
		wantRefused(t, tc.raw, g.CheckURL(ctx, tc.raw, false), tc.want)
	}
	for _, raw := range []string{"http://example.com", "HTTPS://Example.COM:65535/a/b?c=d#e", "http://example.com:1/"} {
		if err := g.CheckURL(ctx, raw, false); err != nil {
			t.Fatalf("CheckURL(%q) = %v", raw, err)
		}
	}
}

// Live endpoints need https unless AllowHTTP; test endpoints may use http.
func TestGuardLiveNeedsHTTPS(t *testing.T) {
	ctx := context.Background()
	res := newResolver().set("hooks.example", "93.184.216.34")
	g := Guard{Resolver: res}
	wantRefused(t, "live http", g.CheckURL(ctx, "http://hooks.example/", true), "must use https in live mode", "VERIGATE_WEBHOOK_ALLOW_HTTP=true")
	for _, tc := range []struct {
		g    Guard
		raw  string
		live bool
	}{
		{g, "https://hooks.example/", true},
		{g, "http://hooks.example/", false},
		{Guard{AllowHTTP: true, Resolver: res}, "http://hooks.example/", true},
	} {
		if err := tc.g.CheckURL(ctx, tc.raw, tc.live); err != nil {
			t.Fatalf("CheckURL(%q, live %v) with %+v = %v", tc.raw, tc.live, tc.g, err)
		}
	}
	// AllowHTTP does not lift the address rule, nor AllowPrivate the https one.
	wantRefused(t, "allow http", Guard{AllowHTTP: true}.CheckURL(ctx, "http://10.0.0.1/", true), "private")
	wantRefused(t, "allow private", Guard{AllowPrivate: true}.CheckURL(ctx, "http://10.0.0.1/", true), "https")
}

// FuzzCheckURL: CheckURL never panics; a URL it accepts is an absolute
// http(s) URL without credentials whose literal address (if any) is
// public; and an IPv4 address and its IPv4-mapped IPv6 form are judged
// alike.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1", "https://[::ffff:10.0.0.1]:8443/x", "http://public.example/a?b",
		"http://u:p@example.com", "ftp://x", "http://[fe80::1%25eth0]/", "http://[64:ff9b::7f00:1]", "http://0x7f.1/"} {
		f.Add(s, []byte{127, 0, 0, 1})
	}
	f.Fuzz(func(t *testing.T, raw string, v4 []byte) {
		if len(v4) >= 4 {
			ip := netip.AddrFrom4([4]byte(v4[:4]))
			if refusal(ip) != refusal(netip.AddrFrom16(ip.As16())) {
				t.Fatalf("%s and its IPv4-mapped form are judged differently", ip)
			}
		}
		g := Guard{Resolver: newResolver().set("public.example", "93.184.216.34")}
		if g.CheckURL(context.Background(), raw, true) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.User != nil || u.Host == "" {
			t.Fatalf("accepted %q (%v)", raw, err)
		}
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !g.Allowed(ip) {
			t.Fatalf("accepted %q, whose address is not allowed", raw)
		}
	})
}
