package access

import (
	"regexp"
	"strings"
	"testing"
)

var (
	apiKeyShape = regexp.MustCompile(`^vgk_[0-9a-f]{8}_[0-9A-Za-z]{32}[0-9A-Za-z]{6}$`)
	guidShape   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// FuzzParseAPIKey: ParseAPIKey accepts only the documented shape with a
// matching checksum; a freshly generated key always parses to its id; a
// key with any one byte changed never does (CRC-32 catches every change
// of up to 32 consecutive bits, and the base62 checksum is one-to-one).
func FuzzParseAPIKey(f *testing.F) {
	f.Add("vgk_0a1b2c3d_"+strings.Repeat("A", 32)+"000000", "0a1b2c3d", uint16(0), byte('x'))
	f.Add("vgk_", "", uint16(5), byte(0))
	f.Add("vgk_ZZZZZZZZ_"+strings.Repeat("\xff", 38), "ffffffff", uint16(44), byte('_'))
	f.Fuzz(func(t *testing.T, key, idSeed string, pos uint16, c byte) {
		id, ok := ParseAPIKey(key)
		if ok {
			if !apiKeyShape.MatchString(key) || id != key[4:12] || checksum62(key[:len(key)-apiKeyCheckLen]) != key[len(key)-apiKeyCheckLen:] {
				t.Fatalf("ParseAPIKey(%q) accepted a key of the wrong shape or checksum (id %q)", key, id)
			}
		} else if id != "" {
			t.Fatalf("ParseAPIKey(%q) refused but returned id %q", key, id)
		}

		// A generated key for any valid id parses back to it.
		genID := hexID(idSeed)
		gen := formatAPIKey(genID)
		if got, ok := ParseAPIKey(gen); !ok || got != genID {
			t.Fatalf("generated key %q parses as %q, %v", gen, got, ok)
		}
		// One changed byte anywhere fails.
		i := int(pos) % len(gen)
		if gen[i] == c {
			return
		}
		bad := gen[:i] + string([]byte{c}) + gen[i+1:]
		if _, ok := ParseAPIKey(bad); ok {
			t.Fatalf("key %q with byte %d changed to %q still parses", gen, i, c)
		}
	})
}

// hexID maps any string onto a valid 8-hex-digit key id.
func hexID(s string) string {
	const hexDigits = "0123456789abcdef"
	out := []byte("00000000")
	for i := 0; i < len(s) && i < len(out); i++ {
		out[i] = hexDigits[s[i]%16]
	}
	return string(out)
}

// FuzzGUID: isGUID accepts exactly the lower-case 8-4-4-4-12 hex form
// (VerifySSOToken lower-cases first), and newGUID always makes one.
func FuzzGUID(f *testing.F) {
	f.Add("0f8fad5b-d9cb-469f-a165-70867728950e")
	f.Add("0F8FAD5B-D9CB-469F-A165-70867728950E")
	f.Add("0f8fad5b-d9cb-469f-a165-70867728950")
	f.Add("0f8fad5bd9cb469fa16570867728950e----")
	f.Add("0f8fad5b-d9cb-469f-a165-70867728950\u00e9")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isGUID(s), guidShape.MatchString(s); got != want {
			t.Fatalf("isGUID(%q) = %v, want %v", s, got, want)
		}
		if g := newGUID(); !isGUID(g) {
			t.Fatalf("newGUID() = %q is not a GUID", g)
		}
	})
}
