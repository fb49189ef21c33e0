package httpapi

import "testing"

func TestStripTrailingCommas(t *testing.T) {
	for in, want := range map[string]string{
		`{"a": 1, }`:                 `{"a": 1 }`,
		"{\n \"email\": \"x\",\n}":   "{\n \"email\": \"x\"\n}",
		`[1, 2,]`:                    `[1, 2]`,
		`{"s": "a, }", "t": [1,], }`: `{"s": "a, }", "t": [1] }`,
		`{"q": "say \", }", }`:       `{"q": "say \", }" }`,
		`{"ok": 1}`:                  `{"ok": 1}`,
	} {
		if got := string(StripTrailingCommas([]byte(in))); got != want {
			t.Errorf("StripTrailingCommas(%q) = %q, want %q", in, got, want)
		}
	}
}
