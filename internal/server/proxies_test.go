package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestForwarded(t *testing.T) {
	s := New(Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	var gotAddr, gotProto string
	h := s.forwarded(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAddr, gotProto = r.RemoteAddr, r.Header.Get("X-Forwarded-Proto")
	}))
	for _, c := range []struct {
		remote, xff, xfp, addr, proto string
	}{
		{"203.0.113.9:5000", "1.2.3.4", "https", "203.0.113.9:5000", ""}, // untrusted peer: nothing believed
		{"10.1.2.3:5000", "1.2.3.4", "https", "1.2.3.4:0", "https"},
		{"10.1.2.3:5000", "6.6.6.6, 1.2.3.4, 10.9.9.9", "http,https", "1.2.3.4:0", "https"}, // rightmost untrusted hop
		{"10.1.2.3:5000", "garbage, 10.9.9.9", "", "10.9.9.9:0", ""},
		{"10.1.2.3:5000", "203.0.113.5:51234", "", "203.0.113.5:0", ""},
		{"10.1.2.3:5000", "[2001:db8::1]:443, 10.0.0.2", "", "[2001:db8::1]:0", ""},
		{"10.1.2.3:5000", "", "", "10.1.2.3:5000", ""},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if c.xfp != "" {
			r.Header.Set("X-Forwarded-Proto", c.xfp)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if gotAddr != c.addr || gotProto != c.proto {
			t.Errorf("%+v: remote %q proto %q", c, gotAddr, gotProto)
		}
	}
}
