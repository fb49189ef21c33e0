package reclaim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// fuzzKey is a sandbox attestor key derived from seed.
func fuzzKey(seed []byte) *secp256k1.PrivateKey {
	h := sha256.Sum256(append([]byte("verigate fuzz attestor\x00"), seed...))
	return secp256k1.PrivKeyFromBytes(h[:])
}

var sandboxAttestor = fuzzKey(nil)

// flipSignature changes one hex digit of the r‖s part of a signature (the
// recovery byte has equivalent spellings: 0/27, 1/28).
func flipSignature(sig string, pos uint16) string {
	b := []byte(sig)
	i := 2 + int(pos)%128
	if strings.ContainsRune("0123456789abcdefABCDEF", rune(b[i])) {
		v, _ := hex.DecodeString("0" + string(b[i]))
		b[i] = "0123456789abcdef"[(v[0]+1)%16]
	}
	return string(b)
}

// FuzzVerifyProof feeds proofs, decoded as the partner API decodes them,
// to Verify. It must not panic and must refuse only with an *Error
// (malformed exactly when CheckShape says so); what it accepts is signed
// by a trusted attestor over the recomputed identifier, and stops
// verifying when a signature digit or the timestamp changes. The seed
// corpus holds the real proof from the shared test data.
func FuzzVerifyProof(f *testing.F) {
	if b, err := os.ReadFile("../../../shared/testdata/reclaim-proofs.json"); err == nil {
		var proofs []json.RawMessage
		if json.Unmarshal(b, &proofs) == nil {
			for _, p := range proofs {
				f.Add([]byte(p), uint16(0))
			}
		}
	}
	f.Add([]byte(`{}`), uint16(0))
	f.Add([]byte(`{"identifier":"0x`+strings.Repeat("0", 64)+`","claimData":{"provider":"http","parameters":{"a":[1,2]},"owner":"0x`+strings.Repeat("a", 40)+`","timestampS":9223372036854775807,"epoch":1,"context":"{\"a\":1}}"},"signatures":["0x`+strings.Repeat("f", 130)+`"]}`), uint16(7))
	f.Add([]byte(`{"claimData":{"timestampS":-9223372036854775808,"epoch":-1,"parameters":null},"signatures":["0x","zz",""]}`), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, pos uint16) {
		var p Proof
		if json.Unmarshal(data, &p) != nil {
			return
		}
		pol := Policy{Attestors: []string{PublicAttestor, Address(sandboxAttestor.PubKey())}, MinSignatures: 1,
			MaxAge: time.Hour, Now: time.Unix(p.ClaimData.TimestampS, 0).Add(time.Minute)}
		res, err := Verify(p, pol)
		if err != nil {
			var re *Error
			if !errors.As(err, &re) {
				t.Fatalf("Verify: %v (%T), want *Error", err, err)
			}
			if shape := CheckShape(p); (shape != nil) != re.Malformed {
				t.Fatalf("Verify: %v malformed=%v, CheckShape says %v", err, re.Malformed, shape)
			}
			return
		}
		if CheckShape(p) != nil {
			t.Fatalf("accepted a proof CheckShape refuses")
		}
		want, err := Identifier(p.ClaimData.Provider, string(p.ClaimData.Parameters), p.ClaimData.Context)
		if err != nil || want != res.Identifier || !strings.EqualFold(p.Identifier, want) {
			t.Fatalf("accepted identifier %s, recomputed %s (%v)", p.Identifier, want, err)
		}
		if len(res.Signers) == 0 {
			t.Fatalf("accepted without a trusted signer")
		}
		for _, s := range res.Signers {
			if s != PublicAttestor && s != Address(sandboxAttestor.PubKey()) {
				t.Fatalf("signer %s is not trusted", s)
			}
		}
		if res.Owner != strings.ToLower(p.ClaimData.Owner) {
			t.Fatalf("owner %s, proof says %s", res.Owner, p.ClaimData.Owner)
		}
		if len(p.Signatures) == 1 {
			q := p
			q.Signatures = []string{flipSignature(p.Signatures[0], pos)}
			if _, err := Verify(q, pol); err == nil {
				t.Fatalf("signature %s with a digit changed still verifies", q.Signatures[0])
			}
		}
		q := p
		q.ClaimData.TimestampS++
		if _, err := Verify(q, pol); err == nil {
			t.Fatalf("proof with its timestamp moved still verifies")
		}
	})
}

var ownerShape = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)

// FuzzSignVerify: a claim signed by a trusted attestor verifies exactly
// when it is well formed (provider, owner, positive timestamp and epoch,
// an empty or object context), and not once a signature digit, the
// owner, the epoch or the parameters change, nor when the signer is not
// trusted.
func FuzzSignVerify(f *testing.F) {
	owner := "0x9c3dcb81fe10f6e494bfaa0220ea0ba7bcf3ad94"
	f.Add("http", `{"url":"https://example.test"}`, `{"contextMessage":"n-1","extractedParameters":{"username":"x"}}`, owner, int64(1774346626), int64(1), []byte("k"), uint16(0))
	f.Add("http", "", "", owner, int64(1), int64(1), []byte{}, uint16(64))
	f.Add("", "p", "[1]", "0xABC", int64(0), int64(0), []byte{0}, uint16(9))
	f.Add("http\n", "\x00\xff", `{"a":1}}`, strings.ToUpper(owner), int64(1e11), int64(9), []byte("z"), uint16(127))
	f.Add("http", "p", `null`, owner, int64(5), int64(2), []byte("n"), uint16(1))
	f.Fuzz(func(t *testing.T, provider, parameters, context, owner string, ts, epoch int64, keySeed []byte, pos uint16) {
		if ts > 0 {
			ts = 1 + ts%100_000_000_000 // up to the year 5138: Now must stay representable
		}
		id, idErr := Identifier(provider, parameters, context)
		if idErr != nil {
			id = "0x" + strings.Repeat("0", 64)
		}
		c := ClaimData{Provider: provider, Parameters: Parameters(parameters), Owner: owner, TimestampS: ts, Context: context, Identifier: id, Epoch: epoch}
		key := fuzzKey(keySeed)
		p := Proof{Identifier: id, ClaimData: c, Signatures: []string{Sign(key, c)}}
		pol := Policy{Attestors: []string{Address(key.PubKey())}, MinSignatures: 1, Now: time.Unix(ts, 0).Add(time.Minute)}

		var ctx map[string]any
		wellFormed := idErr == nil && provider != "" && ownerShape.MatchString(owner) && ts > 0 && epoch > 0 &&
			(context == "" || json.Unmarshal([]byte(context), &ctx) == nil)
		if _, err := Verify(p, pol); (err == nil) != wellFormed {
			t.Fatalf("Verify: %v; well formed: %v", err, wellFormed)
		}
		if !wellFormed {
			return
		}
		mutants := map[string]func(*Proof, *Policy){
			"signature":  func(q *Proof, _ *Policy) { q.Signatures = []string{flipSignature(q.Signatures[0], pos)} },
			"owner":      func(q *Proof, _ *Policy) { q.ClaimData.Owner = "0x" + strings.Repeat("0", 39) + "1" },
			"epoch":      func(q *Proof, _ *Policy) { q.ClaimData.Epoch++ },
			"parameters": func(q *Proof, _ *Policy) { q.ClaimData.Parameters += " " },
			"signer":     func(_ *Proof, pol *Policy) { pol.Attestors = []string{PublicAttestor} },
		}
		for name, mutate := range mutants {
			q, qpol := p, pol
			mutate(&q, &qpol)
			if strings.EqualFold(q.ClaimData.Owner, p.ClaimData.Owner) && name == "owner" {
				continue
			}
			if _, err := Verify(q, qpol); err == nil {
				t.Fatalf("proof with its %s changed still verifies", name)
			}
		}
	})
}
