package reclaim

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzCanonicalize checks JCS against encoding/json as the reference: a
// text canonicalizes exactly when encoding/json reads it as one value; the
// canonical form is compact, reads back to the same value, and is its own
// canonical form. Numbers are checked against ECMAScript's rules.
func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{
		`{"b":2,"a":1}`, `[333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001, -0, 1e21, 1e-7, 100]`,
		`{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}`, `"\u0000\u001f\u007f\u2028"`,
		`{"a":1}}`, `[1]]`, `1 2`, `{"a":1e400}`, `{"a":1,"a":2}`, `"\ud800"`, "\"\xff\xfe\"", `{"\u0000":null}`,
		strings.Repeat("[", 100) + strings.Repeat("]", 100), `-1.5e-7`, `123456789012345678901234567890`,
	} {
		f.Add([]byte(s), 0.0)
	}
	f.Add([]byte(`0`), 1e21)
	f.Add([]byte(`0`), 1e-6)
	f.Add([]byte(`0`), -9.999999999999999e20)
	f.Add([]byte(`0`), 5e-324)
	f.Add([]byte(`0`), math.MaxFloat64)
	f.Fuzz(func(t *testing.T, text []byte, x float64) {
		checkNumber(t, x)
		var ref any
		refErr := json.Unmarshal(text, &ref)
		out, err := Canonicalize(text)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("Canonicalize(%q): %v; encoding/json: %v", text, err, refErr)
		}
		if err != nil {
			return
		}
		var compact bytes.Buffer
		if json.Compact(&compact, out) != nil || !bytes.Equal(compact.Bytes(), out) {
			t.Fatalf("Canonicalize(%q) = %q is not compact JSON", text, out)
		}
		var back any
		if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, ref) {
			t.Fatalf("Canonicalize(%q) = %q reads back as %#v, want %#v (%v)", text, out, back, ref, err)
		}
		again, err := Canonicalize(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", text, out, again, err)
		}
	})
}

// checkNumber checks formatNumber against ECMAScript's Number#toString:
// the shortest digits that read back to x; plain notation for magnitudes
// in [1e-6, 1e21), exponent notation ("e+" or "e-") outside it.
func checkNumber(t *testing.T, x float64) {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return
	}
	s := formatNumber(x)
	back, err := strconv.ParseFloat(s, 64)
	if err != nil || back != x {
		t.Fatalf("formatNumber(%v) = %q reads back as %v (%v)", x, s, back, err)
	}
	if x == 0 {
		if s != "0" {
			t.Fatalf("formatNumber(%v) = %q, want 0", x, s)
		}
		return
	}
	if shortest := strconv.FormatFloat(math.Abs(x), 'e', -1, 64); countDigits(s) != countDigits(shortest) {
		t.Fatalf("formatNumber(%v) = %q: not the shortest digits (%s)", x, s, shortest)
	}
	plain := math.Abs(x) >= 1e-6 && math.Abs(x) < 1e21
	if hasExp := strings.Contains(s, "e"); hasExp == plain {
		t.Fatalf("formatNumber(%v) = %q: exponent notation %v, want %v", x, s, hasExp, !plain)
	}
	if !plain && !strings.Contains(s, "e+") && !strings.Contains(s, "e-") {
		t.Fatalf("formatNumber(%v) = %q: exponent without sign", x, s)
	}
	if x == math.Trunc(x) && plain && s != strconv.FormatFloat(x, 'f', -1, 64) {
		t.Fatalf("formatNumber(%v) = %q, want %s", x, s, strconv.FormatFloat(x, 'f', -1, 64))
	}
}

// countDigits counts the significant digits of a number's text.
func countDigits(s string) int {
	mant, _, _ := strings.Cut(s, "e")
	mant = strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(mant), "0")
	return len(strings.TrimRight(mant, "0"))
}
