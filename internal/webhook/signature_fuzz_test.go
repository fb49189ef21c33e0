package webhook

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseSecret: a secret parses exactly when what follows an optional
// whsec_ is standard base64 of at least 24 bytes, and FormatSecret of any
// such key parses back to it.
func FuzzParseSecret(f *testing.F) {
	f.Add("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", []byte("0123456789abcdef01234567"))
	f.Add("whsec_", []byte{})
	f.Add("whsec_whsec_AAAA", []byte{0})
	f.Add("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", []byte{0xff, 0})
	f.Add("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw-_", []byte(strings.Repeat("k", 64)))
	f.Fuzz(func(t *testing.T, secret string, key []byte) {
		got, err := ParseSecret(secret)
		want, werr := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
		if ok := werr == nil && len(want) >= 24; ok != (err == nil) || ok && !bytes.Equal(got, want) {
			t.Fatalf("ParseSecret(%q) = %x, %v; want %x (ok %v)", secret, got, err, want, ok)
		}
		back, err := ParseSecret(FormatSecret(key))
		if len(key) >= 24 && (err != nil || !bytes.Equal(back, key)) || len(key) < 24 && err == nil {
			t.Fatalf("FormatSecret(%x) parses back as %x, %v", key, back, err)
		}
	})
}

// FuzzVerify: Verify accepts what Sign produced (among other listed
// signatures) within the tolerance, and refuses it once the body, the id
// or the timestamp changes, the key differs, a signature byte flips, or
// the timestamp is out of tolerance. Headers as received never panic it.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"callId":"CA1"}`), "msg_1", int64(0), "v1,AAAA", "1700000000", uint16(0))
	f.Add([]byte{}, "", int64(-301), "", "", uint16(3))
	f.Add([]byte("\x00\xff"), "m\x00", int64(300), "v2,x v1, v1,=", "+1700000000", uint16(40))
	f.Add([]byte("x"), "id", int64(-9223372036854775808), "v1,"+strings.Repeat("A", 44)+" v1a", "99999999999999999999", uint16(9))
	now := time.Unix(1_700_000_000, 0)
	key := []byte("a webhook key of thirty-two byte")
	f.Fuzz(func(t *testing.T, body []byte, id string, skew int64, sigHeader, tsHeader string, pos uint16) {
		// Arbitrary headers: no panic, and only the known errors.
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, tsHeader)
		h.Set(HeaderSignature, sigHeader)
		if err := Verify(key, h, body, now); err != nil && err != ErrMissingHeaders && err != ErrTimestamp && err != ErrSignature {
			t.Fatalf("Verify: unexpected error %v", err)
		}

		// What Sign produced.
		if id == "" || strings.ContainsAny(id, "\r\n") {
			id = "msg_" + strconv.Itoa(len(id))
		}
		skew %= int64(2 * Tolerance / time.Second)
		at := now.Add(time.Duration(skew) * time.Second)
		sig := Sign(key, id, at, body)
		signed := func(id string, at time.Time, sig string) http.Header {
			h := http.Header{}
			h.Set(HeaderID, id)
			h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
			h.Set(HeaderSignature, sig)
			return h
		}
		within := now.Sub(at) <= Tolerance && at.Sub(now) <= Tolerance
		if err := Verify(key, signed(id, at, "v1,bm9wZQ== "+sig+" v2,x"), body, now); (err == nil) != within {
			t.Fatalf("signed message (skew %ds): %v", skew, err)
		}
		if !within {
			return
		}
		raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "v1,"))
		raw[int(pos)%len(raw)] ^= 1 << (pos / 256 % 8)
		flipped := "v1," + base64.StdEncoding.EncodeToString(raw)
		for name, err := range map[string]error{
			"body":      Verify(key, signed(id, at, sig), append(append([]byte{}, body...), ' '), now),
			"id":        Verify(key, signed(id+"x", at, sig), body, now),
			"timestamp": Verify(key, signed(id, at.Add(time.Second), sig), body, now),
			"key":       Verify(append([]byte{'x'}, key...), signed(id, at, sig), body, now),
			"signature": Verify(key, signed(id, at, flipped), body, now),
			"stale":     Verify(key, signed(id, at, sig), body, at.Add(Tolerance+time.Second)),
		} {
			if err == nil {
				t.Fatalf("Verify accepted the message with its %s changed", name)
			}
		}
	})
}
