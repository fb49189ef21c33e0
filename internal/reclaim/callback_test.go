package reclaim

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestParseCallback(t *testing.T) {
	p := Proof{Identifier: "0x" + strings.Repeat("ab", 32), ClaimData: ClaimData{Provider: "http", Context: `{"contextMessage":"a b+c"}`,
		Owner: "0x" + strings.Repeat("cd", 20), TimestampS: 1, Epoch: 1}, Signatures: []string{"0x00"}}
	one, _ := json.Marshal(p)
	many, _ := json.Marshal([]Proof{p, p})
	// encodeURIComponent: spaces as %20, + as %2B.
	component := func(b []byte) string { return strings.ReplaceAll(url.QueryEscape(string(b)), "+", "%20") }
	for _, tc := range []struct {
		name, body string
		n          int
	}{
		{"one JSON proof", string(one), 1},
		{"an array", string(many), 2},
		{"padded", "\n " + string(one) + "\n", 1},
		{"encodeURIComponent", component(one), 1},
		{"an encoded array", component(many), 2},
		{"form-encoded", url.QueryEscape(string(one)), 1},
	} {
		got, err := ParseCallback([]byte(tc.body))
		if err != nil || len(got) != tc.n {
			t.Errorf("%s: %d proofs, %v", tc.name, len(got), err)
			continue
		}
		if got[0].ClaimData.Context != p.ClaimData.Context || got[0].Identifier != p.Identifier {
			t.Errorf("%s: read %+v", tc.name, got[0])
		}
	}
	for _, body := range []string{"", "  ", "{not json", "[]", "proof=%7B%7D&x", "%zz", "null", `"a string"`, "42",
		`{"identifier":5}`, `[{"claimData":"x"}]`, component([]byte("{not json")), strings.Repeat("[", 3)} {
		got, err := ParseCallback([]byte(body))
		if err == nil || !err.Malformed {
			t.Errorf("ParseCallback(%q) = %v, %v; want a Malformed error", body, got, err)
		}
	}
}
