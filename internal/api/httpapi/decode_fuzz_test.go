package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
)

// fuzzBody has a field of every kind request bodies use.
type fuzzBody struct {
	Name   string          `json:"name"`
	N      int             `json:"n"`
	F      float64         `json:"f"`
	At     *time.Time      `json:"at"`
	Tags   []string        `json:"tags"`
	Meta   map[string]any  `json:"meta"`
	Raw    json.RawMessage `json:"raw"`
	Nested struct {
		OK bool `json:"ok"`
	} `json:"nested"`
}

func fuzzRequest(body []byte, contentType string, limit int64) *http.Request {
	r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, limit)
	return r
}

// FuzzDecodeJSON: the body decoder refuses bad input only with a domain
// error a surface renders as 400, 413 or 415 (anything else would be a
// 500); it answers 413 exactly when the body is over the limit; what it
// accepts is one well-formed JSON value and nothing after it, decoded as
// encoding/json decodes it.
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"name":"a","n":1,"tags":["x"],"nested":{"ok":true}}`), "application/json", uint16(1024), false, false)
	f.Add([]byte(`{"name":"a",}`), "application/json; charset=utf-8", uint16(1024), true, false)
	f.Add([]byte(``), "", uint16(10), false, true)
	f.Add([]byte(`{"n":1e400}`), "application/merge-patch+json", uint16(64), false, false)
	f.Add([]byte(`{"n":1}}`), "", uint16(64), false, false)
	f.Add([]byte(`{"name":"a\u0000b\xff"}`), "text/plain", uint16(64), false, false)
	f.Add([]byte(strings.Repeat("[", 20000)), "", uint16(65535), false, false)
	f.Fuzz(func(t *testing.T, body []byte, contentType string, limit uint16, lenient, allowEmpty bool) {
		var v fuzzBody
		var err error
		if lenient {
			err = DecodeJSONLenient(fuzzRequest(body, contentType, int64(limit)), &v)
		} else {
			err = DecodeJSON(fuzzRequest(body, contentType, int64(limit)), &v, allowEmpty)
		}
		var de *verigate.Error
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("error %v (%T) is not a domain error", err, err)
		}
		code := verigate.ErrorCode(err)
		switch code {
		case "", verigate.EINVALID, verigate.EUNSUPPORTED, verigate.ETOOLARGE:
		default:
			t.Fatalf("error code %q (%v), want EINVALID, EUNSUPPORTED or ETOOLARGE", code, err)
		}
		if (contentType == "" || contentType == "application/json" || contentType == "application/json; charset=utf-8") && code == verigate.EUNSUPPORTED {
			t.Fatalf("Content-Type %q refused", contentType)
		}
		if code == verigate.EUNSUPPORTED {
			return // refused before the body is read
		}
		if over := len(body) > int(limit); over != (code == verigate.ETOOLARGE) {
			t.Fatalf("%d-byte body, limit %d: %v", len(body), limit, err)
		}
		if err != nil {
			return
		}
		text := body
		if lenient {
			text = StripTrailingCommas(body)
		}
		if len(bytes.TrimSpace(text)) == 0 {
			if lenient || !allowEmpty {
				t.Fatalf("empty body accepted")
			}
			return
		}
		if !json.Valid(text) {
			t.Fatalf("accepted a body that is not one JSON value: %q", text)
		}
		var want fuzzBody
		if err := json.Unmarshal(text, &want); err != nil || !reflect.DeepEqual(v, want) {
			t.Fatalf("decoded %+v; encoding/json says %+v (%v)", v, want, err)
		}
	})
}

// FuzzStripTrailingCommas: only commas are ever removed; valid JSON comes
// out unchanged; valid JSON with a trailing comma before every closing
// bracket comes back to the same value.
func FuzzStripTrailingCommas(f *testing.F) {
	f.Add([]byte(`{"a": 1, }`))
	f.Add([]byte(`{"s": "a, }", "t": [1,], }`))
	f.Add([]byte(`{"q": "say \", }", }`))
	f.Add([]byte("[1,\n\t]"))
	f.Add([]byte(`["\\",]`))
	f.Add([]byte("{\"\xff\x00\":[,],}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := StripTrailingCommas(b)
		j := 0
		for i := 0; i < len(b); i++ {
			if j < len(out) && out[j] == b[i] {
				j++
			} else if b[i] != ',' {
				t.Fatalf("StripTrailingCommas(%q) = %q dropped %q at %d", b, out, b[i], i)
			}
		}
		if j != len(out) {
			t.Fatalf("StripTrailingCommas(%q) = %q added bytes", b, out)
		}
		if !json.Valid(b) {
			return
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("valid JSON %q changed to %q", b, out)
		}
		var compact bytes.Buffer
		json.Compact(&compact, b)
		trailing := withTrailingCommas(compact.Bytes())
		var again bytes.Buffer
		if err := json.Compact(&again, StripTrailingCommas(trailing)); err != nil || again.String() != compact.String() {
			t.Fatalf("%q with trailing commas %q stripped to %q (%v)", compact.String(), trailing, again.String(), err)
		}
	})
}

// withTrailingCommas puts ",\n " before every } and ] of compact JSON
// outside strings.
func withTrailingCommas(b []byte) []byte {
	var out []byte
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '}' || c == ']':
			out = append(out, ",\n "...)
		}
		out = append(out, c)
	}
	return out
}
