package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/verigate/verigate"
)

// FuzzHeader: the credential-header reader takes one clean value, trimmed,
// and refuses a header sent twice or one holding NUL or bytes that are not
// UTF-8, always as EUNAUTHENTICATED.
func FuzzHeader(f *testing.F) {
	f.Add("vgk_1", "", false)
	f.Add(" Api-Key vgk_1 ", "", false)
	f.Add("a", "a", true)
	f.Add("a\x00b", "", false)
	f.Add("\xff\xfe", "", false)
	f.Add("", "", true)
	f.Fuzz(func(t *testing.T, first, second string, twice bool) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["X-Api-Key"] = []string{first}
		if twice {
			r.Header["X-Api-Key"] = append(r.Header["X-Api-Key"], second)
		}
		got, err := Header(r, "x-api-key")
		clean := utf8.ValidString(first) && !strings.ContainsRune(first, 0)
		switch {
		case twice || !clean:
			if verigate.ErrorCode(err) != verigate.EUNAUTHENTICATED || got != "" {
				t.Fatalf("Header(%q, twice=%v) = %q, %v; want EUNAUTHENTICATED", first, twice, got, err)
			}
		case err != nil || got != strings.TrimSpace(first):
			t.Fatalf("Header(%q) = %q, %v", first, got, err)
		}
	})
}

// FuzzCheckURL: a path or query that is not clean text once decoded, or a
// query that does not parse, is refused as EINVALID; anything else passes.
func FuzzCheckURL(f *testing.F) {
	f.Add("/v1/accounts/a%00b")
	f.Add("/external/institutions/%ff")
	f.Add("/users?limit=1&search=%c3%28")
	f.Add("/users?q=%zz")
	f.Add("/partner/session/1")
	f.Fuzz(func(t *testing.T, target string) {
		r, err := httpNewRequest(target)
		if err != nil {
			return
		}
		err = CheckURL(r.URL)
		clean := CleanText(r.URL.Path)
		if q, perr := parseQuery(r.URL.RawQuery); perr != nil {
			clean = false
		} else {
			for k, vs := range q {
				clean = clean && CleanText(k)
				for _, v := range vs {
					clean = clean && CleanText(v)
				}
			}
		}
		if clean != (err == nil) || (err != nil && verigate.ErrorCode(err) != verigate.EINVALID) {
			t.Fatalf("CheckURL(%q) = %v, clean %v", target, err, clean)
		}
	})
}

func httpNewRequest(target string) (r *http.Request, err error) {
	defer func() {
		if recover() != nil {
			err = errors.New("unparsable target")
		}
	}()
	return httptest.NewRequest("GET", "http://x"+target, nil), nil
}

func parseQuery(q string) (url.Values, error) { return url.ParseQuery(q) }
