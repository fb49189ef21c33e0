package verigate

import (
	"encoding/json"
	"time"
)

// Mode separates live data from test data. Objects created with a test
// credential never mix with live ones; only test mode may use sandbox
// sources and simulation endpoints.
type Mode string

const (
	ModeLive Mode = "live"
	ModeTest Mode = "test"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeLive || m == ModeTest }

// AccessToken is a reseller's onboarding access token (Confirm's
// accessToken header). Only its SHA-256 hash is stored.
type AccessToken struct {
	ID         string     `json:"id"`
	OrgID      string     `json:"organizationId"`
	Hash       []byte     `json:"-"`
	CreatedBy  string     `json:"createdBy,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
}

// RateLimitPolicy is a throttling policy with NestJS throttler semantics:
// at most Limit requests per TTL; past that, blocked for BlockDuration.
type RateLimitPolicy struct {
	TTL           time.Duration `json:"ttl"`
	Limit         int           `json:"limit"`
	BlockDuration time.Duration `json:"blockDuration"`
}

// MarshalJSON writes the durations as Go duration strings ("1m0s"), the
// form --rate-limit takes.
func (p RateLimitPolicy) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		TTL           string `json:"ttl"`
		Limit         int    `json:"limit"`
		BlockDuration string `json:"blockDuration"`
	}{p.TTL.String(), p.Limit, p.BlockDuration.String()})
}

// DefaultRateLimit is the policy of a key created without one.
var DefaultRateLimit = RateLimitPolicy{TTL: time.Minute, Limit: 100, BlockDuration: time.Minute}

// Validate checks a policy's bounds.
func (p RateLimitPolicy) Validate() error {
	switch {
	case p.TTL < time.Second || p.TTL > 24*time.Hour:
		return FieldError("rateLimit.ttl", "must be between 1s and 24h")
	case p.Limit < 1 || p.Limit > 1_000_000:
		return FieldError("rateLimit.limit", "must be between 1 and 1000000")
	case p.BlockDuration < 0 || p.BlockDuration > 24*time.Hour:
		return FieldError("rateLimit.blockDuration", "must be between 0 and 24h")
	}
	return nil
}

// APIKey is a machine credential: vgk_<id>_<secret><checksum>. The id
// (8 hex digits) finds the row; only the SHA-256 of the whole key is kept.
type APIKey struct {
	ID         string          `json:"id"`
	OrgID      string          `json:"organizationId"`
	UserID     string          `json:"userId"`
	Name       string          `json:"name,omitempty"`
	Hash       []byte          `json:"-"`
	Scopes     []string        `json:"scopes"`
	Accounts   []string        `json:"accounts,omitempty"` // allowed organizations or connections; empty means all of the owner's
	Mode       Mode            `json:"mode"`
	RateLimit  RateLimitPolicy `json:"rateLimit"`
	ExpiresAt  *time.Time      `json:"expiresAt,omitempty"`
	CreatedAt  time.Time       `json:"createdAt"`
	LastUsedAt *time.Time      `json:"lastUsedAt,omitempty"`
	RevokedAt  *time.Time      `json:"revokedAt,omitempty"`
}

// SSOToken is a reseller service account's session (Confirm's SsoToken):
// it expires 30 minutes after its last recorded use, and never after
// AbsoluteExpiresAt.
type SSOToken struct {
	ID                string
	Hash              []byte
	UserID            string
	OrgID             string
	CreatedAt         time.Time
	LastUsedAt        time.Time
	ExpiresAt         time.Time
	AbsoluteExpiresAt time.Time
	RevokedAt         *time.Time
}

// LoginToken is a single-use token that drops an operator into one
// institution's dashboard.
type LoginToken struct {
	ID          string
	Hash        []byte
	OrgID       string // the institution
	IssuedBy    string // the issuing user (the principal id for the system)
	RequestedBy string // the operator
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      *time.Time
}

// DashboardSession is a person's signed-in dashboard: the cookie holds
// its secret. It acts as its user in one organization (OrgID: the user's
// own, a child institution chosen with the switcher, or the institution a
// login token opened), ends 30 minutes after its last use and never after
// AbsoluteExpiresAt, and is revoked by signing out.
type DashboardSession struct {
	ID     string
	Hash   []byte
	UserID string
	OrgID  string // the organization it acts in
	// RequestedBy names the person on activity records (Confirm's
	// RequestedBy): the user's email, or the operator a login token named.
	RequestedBy string
	Via         string // "password" or "login_token"
	Mode        Mode   // the data it shows: live, or test
	// UserOrgID is the user's own organization, read with the session.
	UserOrgID         string
	CreatedAt         time.Time
	LastUsedAt        time.Time
	ExpiresAt         time.Time
	AbsoluteExpiresAt time.Time
	RevokedAt         *time.Time
}
