package webhook

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/verigate/verigate"
)

// Guard is the SSRF guard: it refuses endpoint URLs that could reach the
// server's own network, and (in Client's dialer) connections to such
// addresses, so a name that resolves somewhere private after it was
// checked (DNS rebinding) is still refused.
type Guard struct {
	// AllowPrivate lifts the address rule (VERIGATE_WEBHOOK_ALLOW_PRIVATE):
	// the demo and the tests deliver to receivers on 127.0.0.1.
	AllowPrivate bool
	// AllowHTTP lets live-mode endpoints use http (VERIGATE_WEBHOOK_ALLOW_HTTP).
	AllowHTTP bool
	// Resolver resolves endpoint host names; nil is net.DefaultResolver.
	// Client's dialer uses it too, so a fake one (tests) sees every lookup.
	Resolver interface {
		LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	}
}

// MaxURLLength bounds an endpoint URL.
const MaxURLLength = 2048

// lookupTimeout bounds CheckURL's resolution of a host name, so a create
// request does not hang on a slow DNS server.
const lookupTimeout = 5 * time.Second

const mustBePublic = "; webhook endpoints must be public"

// CheckURL reports why raw may not be a webhook endpoint's URL, as an
// EINVALID error naming the field "url", or nil when it may. live is the
// endpoint's mode: live endpoints need https unless AllowHTTP. Unless
// AllowPrivate, a host name is resolved and every address it resolves to
// must be public; with AllowPrivate the host is not resolved at all.
func (g Guard) CheckURL(ctx context.Context, raw string, live bool) error {
	if raw == "" {
		return verigate.FieldError("url", "is required")
	}
	if len(raw) > MaxURLLength {
		return verigate.FieldError("url", "is longer than "+strconv.Itoa(MaxURLLength)+" characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return verigate.FieldError("url", "is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return verigate.FieldError("url", "must be an absolute http or https URL")
		}
		return verigate.FieldError("url", "scheme "+strconv.Quote(u.Scheme)+" is not allowed; use http or https")
	}
	if u.Opaque != "" || u.Host == "" {
		return verigate.FieldError("url", "must be an absolute http or https URL with a host")
	}
	if u.User != nil {
		return verigate.FieldError("url", "must not contain a user name or password; give credentials as the endpoint's auth header")
	}
	host := u.Hostname()
	if host == "" {
		return verigate.FieldError("url", "has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return verigate.FieldError("url", "port "+strconv.Quote(p)+" is not between 1 and 65535")
		}
	}
	if live && u.Scheme == "http" && !g.AllowHTTP {
		return verigate.FieldError("url", "must use https in live mode (http is allowed only with VERIGATE_WEBHOOK_ALLOW_HTTP=true)")
	}
	if g.AllowPrivate {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := refusal(ip); why != "" {
			return verigate.FieldError("url", host+" is "+why+mustBePublic)
		}
		return nil
	}
	// RFC 6761: localhost names are loopback whatever a resolver says.
	if name := strings.ToLower(strings.TrimSuffix(host, ".")); name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return verigate.FieldError("url", host+" is a loopback name"+mustBePublic)
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	ips, err := g.lookup(ctx, host)
	if err != nil || len(ips) == 0 {
		why := "no address"
		var dnsErr *net.DNSError
		switch {
		case errors.As(err, &dnsErr) && dnsErr.IsTimeout, errors.Is(err, context.DeadlineExceeded):
			why = "lookup timed out"
		case errors.As(err, &dnsErr) && dnsErr.Err != "":
			why = dnsErr.Err
		case err != nil:
			why = "lookup failed"
		}
		return verigate.FieldError("url", host+" does not resolve ("+why+"); webhook endpoints must have a public address")
	}
	// Every address must be public: the dialer may pick any of them.
	for _, ip := range ips {
		if why := refusal(ip); why != "" {
			return verigate.FieldError("url", host+" resolves to "+ip.String()+", "+why+mustBePublic)
		}
	}
	return nil
}

func (g Guard) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if g.Resolver != nil {
		return g.Resolver.LookupNetIP(ctx, "ip", host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// Allowed reports whether a webhook may connect to ip: a valid address
// that is public, or any valid address with AllowPrivate.
func (g Guard) Allowed(ip netip.Addr) bool {
	return ip.IsValid() && (g.AllowPrivate || refusal(ip) == "")
}

// RefusedAddressError is a connection the guard refused at connect time.
type RefusedAddressError struct {
	Addr   netip.AddrPort
	Reason string // "a loopback address"
}

func (e *RefusedAddressError) Error() string {
	if !e.Addr.IsValid() {
		return "refused to connect: " + e.Reason
	}
	return "refused to connect to " + e.Addr.String() + ": " + e.Addr.Addr().String() + " is " + e.Reason + mustBePublic
}

// control is the dialer's Control function: it runs after resolution, on
// the address actually being connected to.
func (g Guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedAddressError{Reason: strconv.Quote(address) + " is not an IP address and port"}
	}
	if g.Allowed(ap.Addr()) {
		return nil
	}
	why := refusal(ap.Addr())
	if why == "" {
		why = "not a valid address"
	}
	return &RefusedAddressError{Addr: ap, Reason: why}
}

// The address rule. IPv4-mapped IPv6 addresses are judged as the IPv4
// address they map; IPv6 outside global unicast (2000::/3) is refused,
// except NAT64 (64:ff9b::/96), judged by the IPv4 address it embeds.
var (
	metadataAddrs = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, Oracle, DigitalOcean…
		netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
		netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
		netip.MustParseAddr("192.0.0.192"),     // Oracle Cloud
	}
	broadcast = netip.MustParseAddr("255.255.255.255")

	refusedPrefixes = []struct {
		prefix netip.Prefix
		why    string
	}{
		{netip.MustParsePrefix("0.0.0.0/8"), "a \"this network\" address"},
		{netip.MustParsePrefix("10.0.0.0/8"), "a private address"},
		{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT (shared) address"},
		{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
		{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address"},
		{netip.MustParsePrefix("172.16.0.0/12"), "a private address"},
		{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment address"},
		{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
		{netip.MustParsePrefix("192.88.99.0/24"), "a 6to4 relay address"},
		{netip.MustParsePrefix("192.168.0.0/16"), "a private address"},
		{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
		{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
		{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
		{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
		{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},

		{netip.MustParsePrefix("::/128"), "the unspecified address"},
		{netip.MustParsePrefix("::1/128"), "a loopback address"},
		{netip.MustParsePrefix("fc00::/7"), "a private (unique local) address"},
		{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
		{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
		{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
		{netip.MustParsePrefix("2001::/23"), "an IETF special-purpose address"}, // Teredo, benchmarking, ORCHID…
		{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
		{netip.MustParsePrefix("2002::/16"), "a 6to4 address"},
		{netip.MustParsePrefix("3fff::/20"), "a documentation address"},
		{netip.MustParsePrefix("5f00::/16"), "a segment routing (SRv6) address"},
	}
	nat64         = netip.MustParsePrefix("64:ff9b::/96")
	globalUnicast = netip.MustParsePrefix("2000::/3")
)

// refusal says why ip may not be connected to ("a private address"), or
// "" when it is public.
func refusal(ip netip.Addr) string {
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() {
		return "not a valid address"
	}
	for _, m := range metadataAddrs {
		if ip == m {
			return "a cloud metadata address"
		}
	}
	if ip == broadcast {
		return "the broadcast address"
	}
	for _, r := range refusedPrefixes {
		if r.prefix.Contains(ip) {
			return r.why
		}
	}
	if ip.Is6() {
		if nat64.Contains(ip) {
			b := ip.As16()
			v4 := netip.AddrFrom4([4]byte(b[12:]))
			if why := refusal(v4); why != "" {
				return "a NAT64 address of " + v4.String() + " (" + why + ")"
			}
			return ""
		}
		if !globalUnicast.Contains(ip) {
			return "a reserved IPv6 address"
		}
	}
	return ""
}
