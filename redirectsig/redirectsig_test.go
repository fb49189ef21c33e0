package redirectsig_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/verigate/verigate/redirectsig"
)

var (
	secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	older  = "whsec_" + base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
)

func redirect(secret, id, status, state string) url.Values {
	return url.Values{"verification_id": {id}, "status": {status}, "state": {state}, "sig": {redirectsig.Sign(secret, id, status, state)}}
}

func TestSignIsTheDocumentedMAC(t *testing.T) {
	m := hmac.New(sha256.New, []byte("0123456789abcdef0123456789abcdef"))
	m.Write([]byte("42.completed.st-1"))
	if got, want := redirectsig.Sign(secret, "42", "completed", "st-1"), hex.EncodeToString(m.Sum(nil)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if redirectsig.Sign("not base64!", "42", "completed", "") != "" {
		t.Fatal("a malformed secret signs")
	}
}

func TestVerify(t *testing.T) {
	good := redirect(secret, "42", "completed", "st-1")
	if err := redirectsig.Verify(good, secret); err != nil {
		t.Fatal(err)
	}
	// During a rotation either secret is accepted, in any order.
	if err := redirectsig.Verify(redirect(older, "42", "completed", "st-1"), secret, older); err != nil {
		t.Fatal(err)
	}
	if err := redirectsig.Verify(good, older, secret); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		q       url.Values
		secrets []string
		want    error
	}{
		"another secret":   {good, []string{older}, redirectsig.ErrSignature},
		"no secret":        {good, nil, redirectsig.ErrSignature},
		"status changed":   {with(good, "status", "cancelled"), []string{secret}, redirectsig.ErrSignature},
		"state changed":    {with(good, "state", "st-2"), []string{secret}, redirectsig.ErrSignature},
		"id changed":       {with(good, "verification_id", "43"), []string{secret}, redirectsig.ErrSignature},
		"sig not hex":      {with(good, "sig", "zz"), []string{secret}, redirectsig.ErrSignature},
		"sig truncated":    {with(good, "sig", good.Get("sig")[:62]), []string{secret}, redirectsig.ErrSignature},
		"no sig":           {with(good, "sig", ""), []string{secret}, redirectsig.ErrMissing},
		"no id":            {with(good, "verification_id", ""), []string{secret}, redirectsig.ErrMissing},
		"malformed secret": {good, []string{"whsec_%%%"}, redirectsig.ErrSecret},
	} {
		t.Run(name, func(t *testing.T) {
			if err := redirectsig.Verify(c.q, c.secrets...); !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func with(q url.Values, k, v string) url.Values {
	out := url.Values{}
	for key, vs := range q {
		out[key] = append([]string(nil), vs...)
	}
	out.Set(k, v)
	return out
}

// A partner's return page checks the redirect before trusting its status.
func ExampleVerify() {
	u, _ := url.Parse("https://partner.example.com/done?verification_id=42&status=completed&state=st-1&sig=" +
		redirectsig.Sign(secret, "42", "completed", "st-1"))
	if err := redirectsig.Verify(u.Query(), secret); err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Println("verification", u.Query().Get("verification_id"), u.Query().Get("status"))
	// Output: verification 42 completed
}
