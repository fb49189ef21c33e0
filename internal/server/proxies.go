package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// forwarded decides whom to believe about the client. From a peer in
// Options.TrustedProxies, the client address is the rightmost
// X-Forwarded-For entry that is not itself a trusted proxy (it replaces
// r.RemoteAddr, which the per-address limits count) and X-Forwarded-Proto
// is kept (https makes cookies Secure). From anyone else both headers are
// dropped, so no handler can be fooled by them.
func (s *Server) forwarded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, xff := r.Header["X-Forwarded-For"]
		_, xfp := r.Header["X-Forwarded-Proto"]
		if !xff && !xfp {
			next.ServeHTTP(w, r)
			return
		}
		if !s.trusted(peerAddr(r.RemoteAddr)) {
			r.Header.Del("X-Forwarded-For")
			r.Header.Del("X-Forwarded-Proto")
			next.ServeHTTP(w, r)
			return
		}
		if xff {
			hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
			for i := len(hops) - 1; i >= 0; i-- {
				a, err := hopAddr(strings.TrimSpace(hops[i]))
				if err != nil {
					break // a malformed hop: believe nothing further left
				}
				r.RemoteAddr = net.JoinHostPort(a.Unmap().String(), "0")
				if !s.trusted(a) {
					break
				}
			}
		}
		if xfp {
			// The proxy nearest us appends last.
			vals := strings.Split(strings.Join(r.Header.Values("X-Forwarded-Proto"), ","), ",")
			r.Header.Set("X-Forwarded-Proto", strings.ToLower(strings.TrimSpace(vals[len(vals)-1])))
		}
		next.ServeHTTP(w, r)
	})
}

// hopAddr reads one X-Forwarded-For entry: an address, or (as some load
// balancers write it) an address with a port.
func hopAddr(hop string) (netip.Addr, error) {
	a, err := netip.ParseAddr(hop)
	if err != nil {
		ap, perr := netip.ParseAddrPort(hop)
		if perr != nil {
			return netip.Addr{}, err
		}
		a = ap.Addr()
	}
	return a, nil
}

func (s *Server) trusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, _ := netip.ParseAddr(host)
	return a
}
