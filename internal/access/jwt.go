package access

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/verigate/verigate"
)

// Dashboard JWTs (the /api surface, Reconbanker's dashboard API): HS256,
// signed with a key of their own derived from the secret key, living
// JWTLifetime. They are not stored: a JWT is good while its signature,
// issuer and expiry are, and while its user (and the user's organization
// chain) is active — checked through the credential cache, so a disable
// or delete is honoured within Fresh, as for every other credential.
const (
	JWTLifetime = 15 * time.Minute
	JWTIssuer   = "verigate"
	maxJWTLen   = 2048
)

// ErrInvalidJWT answers a JWT that is malformed, badly signed, expired,
// or whose user is no longer active.
var ErrInvalidJWT = verigate.Errorf(verigate.EUNAUTHENTICATED, "Invalid or expired token.")

// JWTKey derives the dashboard JWT signing key from the secret key, under
// its own label so that no other use of the secret key can forge one.
func JWTKey(secretKey string) []byte {
	m := hmac.New(sha256.New, []byte(secretKey))
	m.Write([]byte("verigate dashboard jwt v1"))
	return m.Sum(nil)
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
}

type jwtClaims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
	Jti string `json:"jti"`
	// Mode is the data the token sees, live or test, as an Embedded
	// user token's.
	Mode verigate.Mode `json:"mode"`
}

var jwtHeaderB64 = b64url(mustJSON(jwtHeader{Alg: "HS256", Typ: "JWT"}))

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (s *Service) jwtSign(signingInput string) string {
	m := hmac.New(sha256.New, s.JWTKey)
	m.Write([]byte(signingInput))
	return b64url(m.Sum(nil))
}

// SignInJWT signs a person in with email and password (the same check,
// lockout and failure answers as every sign-in) and returns a dashboard
// JWT for mode ("": live) with its expiry.
func (s *Service) SignInJWT(ctx context.Context, email, password string, mode verigate.Mode) (string, time.Time, *verigate.User, error) {
	if len(s.JWTKey) == 0 {
		return "", time.Time{}, nil, verigate.Errorf(verigate.EINTERNAL, "no JWT key configured")
	}
	if mode == "" {
		mode = verigate.ModeLive
	}
	if !mode.Valid() {
		return "", time.Time{}, nil, verigate.FieldError("mode", "must be live or test")
	}
	u, err := s.SignIn(ctx, email, password)
	if err != nil {
		return "", time.Time{}, nil, err
	}
	now := s.now()
	exp := now.Add(JWTLifetime)
	c := jwtClaims{Iss: JWTIssuer, Sub: u.ID, Iat: now.Unix(), Exp: exp.Unix(), Jti: verigate.NewID(), Mode: mode}
	ev := s.audit(ctx, "user.signin", "user", u.ID, u.OrgID)
	ev.ActorKind, ev.ActorID = verigate.PrincipalUser, u.ID
	ev.Details = map[string]any{"credential": "jwt", "jti": c.Jti}
	if err := s.store.RecordAudit(ctx, ev); err != nil {
		return "", time.Time{}, nil, err
	}
	in := jwtHeaderB64 + "." + b64url(mustJSON(c))
	return in + "." + s.jwtSign(in), time.Unix(c.Exp, 0).UTC(), u, nil
}

// VerifyJWT authenticates a dashboard JWT and returns the principal it
// acts as: its user, with the user's current permissions and reach.
// Only the exact header this service issues is accepted, so "alg":"none"
// or any other algorithm is refused before the signature is looked at.
func (s *Service) VerifyJWT(ctx context.Context, token string) (*verigate.Principal, error) {
	if len(s.JWTKey) == 0 || len(token) > maxJWTLen {
		return nil, ErrInvalidJWT
	}
	head, rest, ok := strings.Cut(token, ".")
	if !ok {
		return nil, ErrInvalidJWT
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig, ".") {
		return nil, ErrInvalidJWT
	}
	hb, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return nil, ErrInvalidJWT
	}
	var h jwtHeader
	if json.Unmarshal(hb, &h) != nil || h.Alg != "HS256" || (h.Typ != "" && h.Typ != "JWT") {
		return nil, ErrInvalidJWT
	}
	if !hmac.Equal([]byte(sig), []byte(s.jwtSign(head+"."+payload))) {
		return nil, ErrInvalidJWT
	}
	pb, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, ErrInvalidJWT
	}
	var c jwtClaims
	if json.Unmarshal(pb, &c) != nil || c.Iss != JWTIssuer || c.Sub == "" || c.Jti == "" || !c.Mode.Valid() {
		return nil, ErrInvalidJWT
	}
	now := s.now()
	exp := time.Unix(c.Exp, 0)
	if !now.Before(exp) || now.Add(time.Minute).Before(time.Unix(c.Iat, 0)) {
		return nil, ErrInvalidJWT
	}
	key := jwtCacheKey(verigate.HashSecret(token))
	if e := s.lookup(ctx, key, now); e != nil {
		return e.p, nil
	}
	gen := s.creds.generation()
	u, err := s.store.GetUser(ctx, c.Sub)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, ErrInvalidJWT
	} else if err != nil {
		return nil, err
	}
	if active, err := s.userActive(ctx, u); err != nil {
		return nil, err
	} else if !active || u.DeletedAt != nil || u.ServiceAccount {
		return nil, ErrInvalidJWT
	}
	perms, orgs, err := s.userRights(ctx, u)
	if err != nil {
		return nil, err
	}
	p := &verigate.Principal{Kind: verigate.PrincipalUser, ID: c.Jti, UserID: u.ID, OrgID: u.OrgID, Permissions: perms, Orgs: orgs, Mode: c.Mode}
	s.creds.store(&cached{key: key, gen: gen, at: now, fixedEnd: &exp, p: p})
	return p, nil
}
