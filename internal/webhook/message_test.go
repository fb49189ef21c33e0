package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The published schedule: attempts at 0, 5 s, 5 min, 30 min, 2 h, 5 h,
// 10 h and 10 h after the previous one, jitter adding up to 10 %, and no
// ninth attempt.
func TestRetrySchedule(t *testing.T) {
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	if Attempts != 8 {
		t.Fatalf("Attempts = %d, want 8", Attempts)
	}
	for i, d := range want {
		failed := i + 1
		if got, ok := Retry(failed, 0); !ok || got != d {
			t.Fatalf("Retry(%d, 0) = %v, %v; want %v", failed, got, ok, d)
		}
		if got, ok := Retry(failed, 1); !ok || got != d+d/10 {
			t.Fatalf("Retry(%d, 1) = %v, %v; want %v", failed, got, ok, d+d/10)
		}
		for _, j := range []float64{0.25, 0.5, 0.999999} {
			got, ok := Retry(failed, j)
			if !ok || got < d || got > d+d/10 || got != d+time.Duration(float64(d)*0.1*j) {
				t.Fatalf("Retry(%d, %v) = %v, %v; want %v plus %v%%", failed, j, got, ok, d, j*10)
			}
		}
		// Out-of-range jitter is clamped: never below the step, never above +10 %.
		for _, j := range []float64{-1, -0.5, math.NaN(), math.Inf(-1)} {
			if got, _ := Retry(failed, j); got != d {
				t.Fatalf("Retry(%d, %v) = %v; want %v", failed, j, got, d)
			}
		}
		for _, j := range []float64{1.5, 7, math.Inf(1)} {
			if got, _ := Retry(failed, j); got != d+d/10 {
				t.Fatalf("Retry(%d, %v) = %v; want %v", failed, j, got, d+d/10)
			}
		}
	}
	for _, failed := range []int{0, -1, 8, 9, 100} {
		if d, ok := Retry(failed, 0.5); ok || d != 0 {
			t.Fatalf("Retry(%d) = %v, %v; want exhausted", failed, d, ok)
		}
	}
	// The last attempt comes 27 h 35 min 5 s after the first, before jitter.
	var total time.Duration
	for failed := 1; ; failed++ {
		d, ok := Retry(failed, 0)
		if !ok {
			if failed != Attempts {
				t.Fatalf("exhausted after %d attempts, want %d", failed, Attempts)
			}
			break
		}
		total += d
	}
	if want := 27*time.Hour + 35*time.Minute + 5*time.Second; total != want {
		t.Fatalf("schedule spans %v, want %v", total, want)
	}
}

// While a secret is rotated, a message carries one signature per key and
// verifies under either; a third key verifies nothing.
func TestStandardHeadersTwoKeys(t *testing.T) {
	oldKey, newKey, other := key(t), key(t), key(t)
	ts := time.Unix(1_700_000_000, 0)
	body := []byte(`{"type":"verification.completed","timestamp":"2023-11-14T22:13:20Z","data":{"id":"vs_1"}}`)
	h := StandardHeaders("msg_1", ts, body, newKey, oldKey)
	if h[HeaderID] != "msg_1" || h[HeaderTimestamp] != "1700000000" {
		t.Fatalf("headers %v", h)
	}
	sigs := strings.Fields(h[HeaderSignature])
	if len(sigs) != 2 || sigs[0] != Sign(newKey, "msg_1", ts, body) || sigs[1] != Sign(oldKey, "msg_1", ts, body) || sigs[0] == sigs[1] {
		t.Fatalf("webhook-signature %q; want the new key's then the old key's", h[HeaderSignature])
	}
	sig := Signature{ID: h[HeaderID], Timestamp: h[HeaderTimestamp], Signatures: h[HeaderSignature]}
	for name, k := range map[string][]byte{"new": newKey, "old": oldKey} {
		if err := Check(k, sig, body, ts.Add(time.Minute)); err != nil {
			t.Fatalf("under the %s key: %v", name, err)
		}
		if err := Check(k, sig, append(body, ' '), ts); err != ErrSignature {
			t.Fatalf("tampered, under the %s key: %v", name, err)
		}
	}
	if err := Check(other, sig, body, ts); err != ErrSignature {
		t.Fatalf("under an unrelated key: %v", err)
	}
	one := StandardHeaders("msg_1", ts, body, oldKey)
	if one[HeaderSignature] != sigs[1] {
		t.Fatalf("one key: %q", one[HeaderSignature])
	}
	// The spec's own vector, through StandardHeaders.
	spec, _ := ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if got := StandardHeaders("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`), spec)[HeaderSignature]; got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("spec vector: %s", got)
	}
}

// ReconbankerSignature matches a fixed vector computed with openssl:
//
//	printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'secret'
//
// and an HMAC computed here independently for other inputs.
func TestReconbankerSignature(t *testing.T) {
	const vector = "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
	if got := ReconbankerSignature([]byte("secret"), time.Unix(1_700_000_000, 0), []byte(`{"a":1}`)); got != vector {
		t.Fatalf("ReconbankerSignature = %s, want %s", got, vector)
	}
	for i := range 20 {
		secret, body := make([]byte, 32), make([]byte, i*37)
		rand.Read(secret)
		rand.Read(body)
		ts := time.Unix(1_600_000_000+int64(i)*86_413, 999_999_999) // sub-second parts are dropped
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
		m.Write([]byte{'.'})
		m.Write(body)
		if got, want := ReconbankerSignature(secret, ts, body), "sha256="+hex.EncodeToString(m.Sum(nil)); got != want {
			t.Fatalf("ReconbankerSignature = %s, want %s", got, want)
		}
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("NewSecret: %q, %q", a, b)
	}
	k, err := ParseSecret(a)
	if err != nil || len(k) != 32 {
		t.Fatalf("ParseSecret(NewSecret()) = %x, %v", k, err)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if !bytes.Equal(raw, k) {
		t.Fatal("the secret is not the base64 of its key")
	}
}

func key(t *testing.T) []byte {
	t.Helper()
	k, err := ParseSecret(NewSecret())
	if err != nil {
		t.Fatal(err)
	}
	return k
}
