// Package reclaim verifies Reclaim-protocol proofs, as pure functions:
// the claim identifier is recomputed and must match, every signature is
// recovered (EIP-191 personal_sign over secp256k1) and enough of them must
// come from trusted attestors, the proof must be fresh and carry the
// expected nonce in its context. It also signs sandbox proofs.
package reclaim

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"golang.org/x/crypto/sha3"
)

// PublicAttestor is Reclaim's public attestor.
const PublicAttestor = "0x244897572368eadf65bfbc5aec98d8e5443a9072"

// Proof is a proof as the Reclaim SDK produces it.
type Proof struct {
	Identifier string    `json:"identifier"`
	ClaimData  ClaimData `json:"claimData"`
	Signatures []string  `json:"signatures"`
	Witnesses  []Witness `json:"witnesses"`
	PublicData any       `json:"publicData,omitempty"`
}

// ClaimData is what the attestors signed.
type ClaimData struct {
	Provider   string     `json:"provider"`
	Parameters Parameters `json:"parameters"`
	Owner      string     `json:"owner"`
	TimestampS int64      `json:"timestampS"`
	Context    string     `json:"context"`
	Identifier string     `json:"identifier"`
	Epoch      int64      `json:"epoch"`
}

// Parameters is the claim's parameters as received: the SDK sends a JSON
// string; an object is kept as its JSON text.
type Parameters string

// UnmarshalJSON accepts a string or any other JSON value.
func (p *Parameters) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*p = Parameters(s)
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return err
	}
	*p = Parameters(buf.String())
	return nil
}

// Witness is an attestor that witnessed the claim.
type Witness struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// Policy is what a proof must satisfy.
type Policy struct {
	Attestors     []string      // trusted signer addresses, 0x-prefixed
	MinSignatures int           // trusted signatures required (at least 1)
	MaxAge        time.Duration // 0: no age limit
	Now           time.Time
	Nonce         string // when set, the context's contextMessage must equal it
}

// Error is why a proof was refused. Malformed is set when the input is not
// a proof at all (the step should stay as it was); otherwise the proof was
// checked and failed (the step fails).
type Error struct {
	Reason    string
	Malformed bool
}

func (e *Error) Error() string { return e.Reason }

func malformed(format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...), Malformed: true}
}

func failed(format string, args ...any) *Error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// Result is a verified proof.
type Result struct {
	Identifier string
	Signers    []string
	Owner      string
	Timestamp  time.Time
	// Context is the parsed claim context; ExtractedParameters its
	// extractedParameters (the proven data).
	Context             map[string]any
	ExtractedParameters map[string]any
	Provider            string
}

var (
	hex32   = regexp.MustCompile(`^0x[0-9a-fA-F]{64}$`)
	address = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
)

func keccak(parts ...[]byte) []byte {
	h := sha3.NewLegacyKeccak256()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// CanonicalContext re-canonicalizes a claim context (RFC 8785); an empty
// context stays empty; a non-empty one must be JSON.
func CanonicalContext(context string) (string, error) {
	if context == "" {
		return "", nil
	}
	c, err := Canonicalize([]byte(context))
	if err != nil {
		return "", fmt.Errorf("context is not JSON: %v", err)
	}
	return string(c), nil
}

// Identifier computes a claim's identifier.
func Identifier(provider, parameters, context string) (string, error) {
	ctx, err := CanonicalContext(context)
	if err != nil {
		return "", err
	}
	return "0x" + hex.EncodeToString(keccak([]byte(provider+"\n"+parameters+"\n"+ctx))), nil
}

// signedMessage is what the attestor signs for a claim: the identifier as
// given, the owner lower-cased.
func signedMessage(identifier, owner string, timestampS, epoch int64) []byte {
	return []byte(identifier + "\n" + strings.ToLower(owner) + "\n" +
		strconv.FormatInt(timestampS, 10) + "\n" + strconv.FormatInt(epoch, 10))
}

// personalDigest is the EIP-191 digest of msg.
func personalDigest(msg []byte) []byte {
	return keccak([]byte("\x19Ethereum Signed Message:\n"+strconv.Itoa(len(msg))), msg)
}

// Address is the Ethereum address of a public key.
func Address(pub *secp256k1.PublicKey) string {
	return "0x" + hex.EncodeToString(keccak(pub.SerializeUncompressed()[1:])[12:])
}

// recoverSigner returns the address that made a 65-byte r‖s‖v signature.
func recoverSigner(sigHex string, digest []byte) (string, error) {
	sig, err := hex.DecodeString(strings.TrimPrefix(sigHex, "0x"))
	if err != nil || len(sig) != 65 {
		return "", fmt.Errorf("not 65 bytes of hex")
	}
	v := sig[64]
	if v < 27 {
		v += 27
	}
	if v != 27 && v != 28 {
		return "", fmt.Errorf("recovery byte %d is not 27 or 28", sig[64])
	}
	// Only low-S signatures (EIP-2): the high-S twin of a signature is the
	// same signature, and accepting both is malleability.
	var sVal secp256k1.ModNScalar
	if overflow := sVal.SetByteSlice(sig[32:64]); overflow || sVal.IsOverHalfOrder() {
		return "", fmt.Errorf("not canonical (high S)")
	}
	compact := append([]byte{v}, sig[:64]...) // decred wants v‖r‖s
	pub, _, err := ecdsa.RecoverCompact(compact, digest)
	if err != nil {
		return "", err
	}
	return Address(pub), nil
}

// CheckShape reports whether p is a proof at all (a malformed *Error if not).
func CheckShape(p Proof) *Error {
	c := p.ClaimData
	switch {
	case !hex32.MatchString(p.Identifier):
		return malformed("identifier %q is not a 0x-prefixed 32-byte hex claim identifier", truncate(p.Identifier))
	case c.Provider == "":
		return malformed("claimData.provider is missing")
	case !address.MatchString(c.Owner):
		return malformed("claimData.owner is not a 0x-prefixed 20-byte address")
	case c.TimestampS <= 0:
		return malformed("claimData.timestampS is missing")
	case c.Epoch <= 0:
		return malformed("claimData.epoch must be a positive number")
	}
	return nil
}

// Verify checks a proof against a policy.
func Verify(p Proof, pol Policy) (*Result, error) {
	c := p.ClaimData
	if err := CheckShape(p); err != nil {
		return nil, err
	}
	if c.Identifier != "" && !strings.EqualFold(c.Identifier, p.Identifier) {
		return nil, failed("identifier %s differs from claimData.identifier %s", p.Identifier, c.Identifier)
	}
	want, err := Identifier(c.Provider, string(c.Parameters), c.Context)
	if err != nil {
		return nil, failed("claimData.%v", err)
	}
	if !strings.EqualFold(want, p.Identifier) {
		return nil, failed("identifier does not match the claim: recomputed %s from provider, parameters and context, proof says %s", want, strings.ToLower(p.Identifier))
	}
	if len(p.Signatures) == 0 {
		return nil, failed("the proof carries no signatures")
	}
	minSigs := max(pol.MinSignatures, 1)
	digest := personalDigest(signedMessage(p.Identifier, c.Owner, c.TimestampS, c.Epoch))
	trusted := map[string]bool{}
	for _, a := range pol.Attestors {
		trusted[strings.ToLower(a)] = true
	}
	witnesses := map[string]bool{}
	for _, w := range p.Witnesses {
		witnesses[strings.ToLower(w.ID)] = true
	}
	var signers, strangers []string
	seen := map[string]bool{}
	for i, sig := range p.Signatures {
		signer, err := recoverSigner(sig, digest)
		if err != nil {
			return nil, failed("signature %d is unusable: %v", i+1, err)
		}
		switch {
		case trusted[signer] && !seen[signer]:
			seen[signer] = true
			signers = append(signers, signer)
		case trusted[signer]: // the same attestor twice counts once
		default: // an attestor we do not trust adds nothing, and takes nothing away
			strangers = append(strangers, signer)
		}
	}
	if len(signers) == 0 && len(strangers) > 0 {
		if witnesses[strangers[0]] {
			return nil, failed("signature 1 is by witness %s, which is not a trusted attestor", strangers[0])
		}
		return nil, failed("signature 1 recovers to %s, neither a listed witness nor a trusted attestor: the signed claim (owner, timestamp, epoch) or the signature was altered", strangers[0])
	}
	if len(signers) < minSigs {
		return nil, failed("%d trusted signature(s), %d required", len(signers), minSigs)
	}
	ts := time.Unix(c.TimestampS, 0).UTC()
	if pol.MaxAge > 0 && pol.Now.Sub(ts) > pol.MaxAge {
		return nil, failed("the proof is from %s, older than the %s allowed", ts.Format(time.RFC3339), pol.MaxAge)
	}
	if !pol.Now.IsZero() && ts.Sub(pol.Now) > 5*time.Minute {
		return nil, failed("the proof's timestamp %s is in the future", ts.Format(time.RFC3339))
	}
	res := &Result{Identifier: strings.ToLower(p.Identifier), Signers: signers, Owner: strings.ToLower(c.Owner), Timestamp: ts, Provider: c.Provider}
	if c.Context != "" {
		if err := json.Unmarshal([]byte(c.Context), &res.Context); err != nil {
			return nil, failed("claimData.context is not a JSON object")
		}
		res.ExtractedParameters, _ = res.Context["extractedParameters"].(map[string]any)
	}
	if err := CheckNonce(res, pol.Nonce); err != nil {
		return nil, err
	}
	return res, nil
}

// CheckNonce fails a verified proof whose context's contextMessage is not
// nonce ("" checks nothing).
func CheckNonce(res *Result, nonce string) *Error {
	if nonce == "" {
		return nil
	}
	if got, _ := res.Context["contextMessage"].(string); got != nonce {
		return failed("the proof's context does not carry this step's nonce (contextMessage %q)", truncate(got))
	}
	return nil
}

func truncate(s string) string {
	if r := []rune(s); len(r) > 80 { // cut whole characters, never inside one
		return string(r[:80]) + "…"
	}
	return s
}

// Sign signs a claim as an attestor would and returns the 0x r‖s‖v
// signature (v 27 or 28). The sandbox attestor uses it.
func Sign(key *secp256k1.PrivateKey, c ClaimData) string {
	digest := personalDigest(signedMessage(c.Identifier, c.Owner, c.TimestampS, c.Epoch))
	compact := ecdsa.SignCompact(key, digest, false) // v‖r‖s, v = 27 + recid
	sig := append(append([]byte{}, compact[1:]...), compact[0])
	return "0x" + hex.EncodeToString(sig)
}
