package reclaim

import "testing"

// Cases from RFC 8785 and its reference implementations.
func TestCanonicalize(t *testing.T) {
	for in, want := range map[string]string{
		`{"b":2,"a":1}`: `{"a":1,"b":2}`,
		`{ "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001, -0, 1e21, 1e-7, 100] }`: `{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27,0,1e+21,1e-7,100]}`,
		`{"string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"}`:                                               `{"string":"€$\u000f\nA'B\"\\\\\"/"}`,
		`{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}`: `{"\r":"Carriage Return","1":"One","` + "\u0080" + `":"Control","` + "\u00f6" + `":"Latin Small Letter O With Diaeresis","` + "\u20ac" + `":"Euro Sign","` + "\U0001F600" + `":"Emoji: Grinning Face","` + "\ufb33" + `":"Hebrew Letter Dalet With Dagesh"}`,
		`[true, false, null, "<&>"]`: `[true,false,null,"<&>"]`,
	} {
		got, err := Canonicalize([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("Canonicalize(%s)\n got %s (%v)\nwant %s", in, got, err, want)
		}
	}
	for _, bad := range []string{`{`, `{"a":1} x`, `nope`} {
		if _, err := Canonicalize([]byte(bad)); err == nil {
			t.Errorf("Canonicalize(%s) accepted", bad)
		}
	}
}
