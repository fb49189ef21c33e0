package v1

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/verigate/verigate/internal/api/httpapi"
)

// FuzzAPIKeyHeader: the key comes from "Authorization: Api-Key <key>"
// (scheme in any case) or x-api-key, trimmed; any other Authorization
// scheme (Bearer) is never read; two different keys are refused; neither
// is 401 "no key".
func FuzzAPIKeyHeader(f *testing.F) {
	f.Add("Api-Key vgk_1", "")
	f.Add("api-key  vgk_1 ", "vgk_1")
	f.Add("Bearer vgk_1", "")
	f.Add("Api-Key vgk_1", "vgk_2")
	f.Add("Api-Key", " \t")
	f.Add("API-KEY \x00\xff", "\xff")
	f.Fuzz(func(t *testing.T, auth, header string) {
		r := httptest.NewRequest("GET", "/v1/accounts", nil)
		if auth != "" {
			r.Header["Authorization"] = []string{auth}
		}
		if header != "" {
			r.Header["X-Api-Key"] = []string{header}
		}
		key, err := apiKey(r)
		if !httpapi.CleanText(auth) || !httpapi.CleanText(header) {
			if err == nil {
				t.Fatalf("Authorization %q, x-api-key %q: took a header that is not clean text", auth, header)
			}
			return
		}
		var fromAuth string
		if scheme, rest, _ := strings.Cut(strings.TrimSpace(auth), " "); strings.EqualFold(scheme, "Api-Key") {
			fromAuth = strings.TrimSpace(rest)
		}
		fromHeader := strings.TrimSpace(header)
		switch {
		case fromAuth == "" && fromHeader == "":
			if err != errUnauthorized {
				t.Fatalf("no key sent: %q, %v", key, err)
			}
		case fromAuth != "" && fromHeader != "" && fromAuth != fromHeader:
			if err != errInvalidKey {
				t.Fatalf("two different keys: %q, %v", key, err)
			}
		case err != nil || key == "" || (key != fromAuth && key != fromHeader):
			t.Fatalf("Authorization %q, x-api-key %q: %q, %v", auth, header, key, err)
		}
		if key != strings.TrimSpace(key) {
			t.Fatalf("key %q not trimmed", key)
		}
	})
}
