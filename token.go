package verigate

import "time"

// Token types (ExactPay's): a user's sign-in token, and application tokens
// minted for a purpose with a narrowed set of permissions.
const (
	TokenUser        = "user"
	TokenApplication = "application"
)

// Token is a user or application token. Only the hash of its secret is
// kept. Permissions and Accounts are the token's own limits (nil: all of
// its creator's); what it may do is always intersected, on every request,
// with what its creator (ParentID, up to the user) may do then.
type Token struct {
	ID                string
	Hash              []byte
	Type              string
	UserID            string
	OrgID             string
	Application       string
	Label             string
	Mode              Mode
	Permissions       []Permission
	Accounts          []string
	ParentID          string
	CreatedAt         time.Time
	LastUsedAt        time.Time
	ExpiresAt         *time.Time
	AbsoluteExpiresAt *time.Time
	RevokedAt         *time.Time
}

// Role is a custom role: a named permission set of one organization.
type Role struct {
	ID          string       `json:"id"`
	OrgID       string       `json:"account"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Permissions []Permission `json:"permissions"`
	Builtin     bool         `json:"builtin"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
}

// TokenFilter selects application tokens.
type TokenFilter struct {
	OrgIDs      []string
	Application string
	Skip, Limit int
	SortDesc    bool // by creation time
}

// ApplicantToken is what authenticating an applicant (CSRF) token reads:
// its session's id, organization and mode, its expiry, and whether the
// session's organization chain is active.
type ApplicantToken struct {
	SessionID int64
	OrgID     string
	Mode      Mode
	Expires   time.Time
	OrgActive bool
}
