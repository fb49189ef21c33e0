package webhook

import (
	"net/http"
	"testing"
	"time"
)

// The Standard Webhooks specification's own test vector.
func TestSpecVector(t *testing.T) {
	key, err := ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"test": 2432232314}`)
	ts := time.Unix(1614265330, 0)
	if got, want := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	h := http.Header{}
	h.Set(HeaderID, "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set(HeaderTimestamp, "1614265330")
	h.Set(HeaderSignature, "v1,bm9ldHUzMjgxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMw== v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	if err := Verify(key, h, body, ts.Add(time.Minute)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := Verify(key, h, []byte(`{"test": 2432232315}`), ts); err != ErrSignature {
		t.Fatalf("tampered body: %v", err)
	}
	if err := Verify(key, h, body, ts.Add(6*time.Minute)); err != ErrTimestamp {
		t.Fatalf("stale: %v", err)
	}
	h.Del(HeaderID)
	if err := Verify(key, h, body, ts); err != ErrMissingHeaders {
		t.Fatalf("missing id: %v", err)
	}
}
