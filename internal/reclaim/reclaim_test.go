package reclaim

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

func realProof(t *testing.T) Proof {
	t.Helper()
	b, err := os.ReadFile("../../../shared/testdata/reclaim-proofs.json")
	if err != nil {
		t.Skipf("shared test data not found: %v", err)
	}
	var proofs []Proof
	if err := json.Unmarshal(b, &proofs); err != nil {
		t.Fatal(err)
	}
	return proofs[0]
}

// policy for the real proof: its age check relaxed.
func realPolicy(p Proof) Policy {
	return Policy{Attestors: []string{PublicAttestor}, MinSignatures: 1, Now: time.Unix(p.ClaimData.TimestampS, 0).Add(time.Minute)}
}

func TestRealProof(t *testing.T) {
	p := realProof(t)
	res, err := Verify(p, realPolicy(p))
	if err != nil {
		t.Fatalf("the real proof does not verify: %v", err)
	}
	if res.Signers[0] != PublicAttestor || res.ExtractedParameters["username"] != "srivatsanqb" {
		t.Fatalf("result: %+v", res)
	}
	// And its age is enforced when asked.
	pol := realPolicy(p)
	pol.MaxAge, pol.Now = time.Hour, time.Unix(p.ClaimData.TimestampS, 0).Add(2*time.Hour)
	if _, err := Verify(p, pol); err == nil || !strings.Contains(err.Error(), "older than") {
		t.Fatalf("stale proof: %v", err)
	}
}

func TestTamperedProofs(t *testing.T) {
	p := realProof(t)
	pol := realPolicy(p)
	flipHex := func(s string, i int) string {
		b := []byte(s)
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		return string(b)
	}
	other, _ := secp256k1.GeneratePrivateKey()
	cases := []struct {
		name   string
		mutate func(*Proof, *Policy)
		want   string
	}{
		{"parameters", func(p *Proof, _ *Policy) {
			p.ClaimData.Parameters = p.ClaimData.Parameters[:len(p.ClaimData.Parameters)-2] + " }"
		}, "does not match the claim"},
		{"context", func(p *Proof, _ *Policy) {
			p.ClaimData.Context = strings.Replace(p.ClaimData.Context, "srivatsanqb", "someoneelse", 1)
		}, "does not match the claim"},
		{"owner", func(p *Proof, _ *Policy) { p.ClaimData.Owner = flipHex(p.ClaimData.Owner, 10) }, "recovers to"},
		{"timestamp", func(p *Proof, _ *Policy) { p.ClaimData.TimestampS++ }, "recovers to"},
		{"epoch", func(p *Proof, _ *Policy) { p.ClaimData.Epoch = 2 }, "recovers to"},
		{"signature byte", func(p *Proof, _ *Policy) { p.Signatures = []string{flipHex(p.Signatures[0], 20)} }, "signature 1"},
		{"identifier", func(p *Proof, _ *Policy) { p.Identifier = flipHex(p.Identifier, 5) }, "differs from claimData.identifier"},
		{"untrusted signer", func(p *Proof, _ *Policy) {
			p.Signatures = []string{Sign(other, p.ClaimData)}
			p.Witnesses = []Witness{{ID: Address(other.PubKey())}}
		}, "not a trusted attestor"},
		{"missing signature", func(p *Proof, _ *Policy) { p.Signatures = nil }, "no signatures"},
		{"wrong nonce", func(_ *Proof, pol *Policy) { pol.Nonce = "step-nonce-123" }, "nonce"},
		{"too few signatures", func(_ *Proof, pol *Policy) { pol.MinSignatures = 2 }, "2 required"},
		{"non-JSON context", func(p *Proof, _ *Policy) { p.ClaimData.Context = "not json" }, "not JSON"},
		{"future timestamp", func(_ *Proof, pol *Policy) { pol.Now = pol.Now.Add(-time.Hour) }, "in the future"},
	}
	reasons := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, pl := p, pol
			q.Signatures = append([]string{}, p.Signatures...)
			tc.mutate(&q, &pl)
			_, err := Verify(q, pl)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("reason %q lacks %q", err, tc.want)
			}
			if e := err.(*Error); e.Malformed {
				t.Fatalf("a checked proof reported as malformed: %v", err)
			}
			if prev, dup := reasons[err.Error()]; dup {
				t.Fatalf("%s gives the same reason as %s: %s", tc.name, prev, err)
			}
			reasons[err.Error()] = tc.name
		})
	}
}

func TestMalformed(t *testing.T) {
	var placeholder Proof
	json.Unmarshal([]byte(`{"identifier":"proof-id-123","claimData":{"provider":"data-provider","parameters":{},"context":"verification-context"},"signatures":["signature1","signature2"],"witnesses":[{"id":"witness-1","url":"https://witness.example.com"}]}`), &placeholder)
	_, err := Verify(placeholder, Policy{Attestors: []string{PublicAttestor}})
	if e, ok := err.(*Error); !ok || !e.Malformed || !strings.Contains(e.Reason, "proof-id-123") {
		t.Fatalf("the seed's placeholder proof: %v", err)
	}
}

func TestSandboxSignature(t *testing.T) {
	key, _ := secp256k1.GeneratePrivateKey()
	ctx := `{"contextMessage":"nonce-1","extractedParameters":{"income":"5000"}}`
	c := ClaimData{Provider: "http", Parameters: `{"url":"https://sandbox"}`, Owner: "0x" + strings.Repeat("ab", 20), TimestampS: 1_800_000_000, Context: ctx, Epoch: 1}
	id, err := Identifier(c.Provider, string(c.Parameters), c.Context)
	if err != nil {
		t.Fatal(err)
	}
	c.Identifier = id
	p := Proof{Identifier: id, ClaimData: c, Signatures: []string{Sign(key, c)}, Witnesses: []Witness{{ID: Address(key.PubKey())}}}
	res, err := Verify(p, Policy{Attestors: []string{Address(key.PubKey())}, Nonce: "nonce-1", Now: time.Unix(1_800_000_000, 0)})
	if err != nil || res.ExtractedParameters["income"] != "5000" {
		t.Fatalf("sandbox proof: %v %+v", err, res)
	}
	// v as 0/1 is accepted too.
	sig := p.Signatures[0]
	last := sig[len(sig)-2:]
	if last == "1b" {
		p.Signatures[0] = sig[:len(sig)-2] + "00"
	} else {
		p.Signatures[0] = sig[:len(sig)-2] + "01"
	}
	if _, err := Verify(p, Policy{Attestors: []string{Address(key.PubKey())}, Nonce: "nonce-1", Now: time.Unix(1_800_000_000, 0)}); err != nil {
		t.Fatalf("v in 0/1 form: %v", err)
	}
}

func TestSignatureRules(t *testing.T) {
	p := realProof(t)
	pol := realPolicy(p)
	// The high-S twin of the attestor's signature is refused.
	sig, _ := hex.DecodeString(strings.TrimPrefix(p.Signatures[0], "0x"))
	var s secp256k1.ModNScalar
	s.SetByteSlice(sig[32:64])
	s.Negate()
	high := s.Bytes()
	twin := append(append(append([]byte{}, sig[:32]...), high[:]...), 55-sig[64])
	q := p
	q.Signatures = []string{"0x" + hex.EncodeToString(twin)}
	if _, err := Verify(q, pol); err == nil || !strings.Contains(err.Error(), "high S") {
		t.Fatalf("high-S twin: %v", err)
	}
	// An extra signature by an attestor we do not trust takes nothing away.
	other, _ := secp256k1.GeneratePrivateKey()
	q = p
	q.Signatures = []string{Sign(other, p.ClaimData), p.Signatures[0]}
	if _, err := Verify(q, pol); err != nil {
		t.Fatalf("trusted signature beside an unknown one: %v", err)
	}
	// The same trusted signature twice counts once.
	q.Signatures = []string{p.Signatures[0], p.Signatures[0]}
	pol.MinSignatures = 2
	if _, err := Verify(q, pol); err == nil {
		t.Fatal("one attestor counted twice")
	}
}
