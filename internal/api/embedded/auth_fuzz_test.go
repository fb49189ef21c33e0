package embedded

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/verigate/verigate/internal/api/httpapi"
)

// FuzzTokenHeader: Authorization carries the token alone or after
// "Bearer " (any case), trimmed either way; a token sent both ways reads
// the same.
func FuzzTokenHeader(f *testing.F) {
	f.Add("vgt_abc")
	f.Add("Bearer vgt_abc")
	f.Add("bearer   vgt_abc  ")
	f.Add("Bearer")
	f.Add(" \t")
	f.Add("Basic dXNlcjpwYXNz")
	f.Add("vgt_\x00\xff")
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/users", nil)
		r.Header["Authorization"] = []string{header}
		got, err := token(r)
		if !httpapi.CleanText(header) {
			if err == nil {
				t.Fatalf("token(%q) took a header that is not clean text", header)
			}
			return
		}
		if err != nil {
			t.Fatalf("token(%q): %v", header, err)
		}
		if got != strings.TrimSpace(got) || !strings.Contains(header, got) {
			t.Fatalf("token(%q) = %q: not a trimmed part of the header", header, got)
		}
		want := strings.TrimSpace(header)
		if scheme, rest, ok := strings.Cut(want, " "); ok && strings.EqualFold(scheme, "Bearer") {
			want = strings.TrimSpace(rest)
		}
		if got != want {
			t.Fatalf("token(%q) = %q, want %q", header, got, want)
		}
		// The same token, bare or as a Bearer token, reads the same.
		if tok := strings.TrimSpace(header); tok != "" && !strings.ContainsAny(tok, " \t") {
			for _, form := range []string{tok, "Bearer " + tok, "bearer  " + tok + " "} {
				r.Header["Authorization"] = []string{form}
				if got, _ := token(r); got != tok {
					t.Fatalf("token(%q) = %q, want %q", form, got, tok)
				}
			}
		}
	})
}
