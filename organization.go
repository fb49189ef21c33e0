package verigate

import (
	"regexp"
	"time"
)

// OrgKind places an organization in the tenant tree: one platform (the
// operator of the deployment), resellers (partners) under it, and
// institutions (banks, credit unions, lenders) under a reseller.
type OrgKind string

const (
	OrgPlatform    OrgKind = "platform"
	OrgReseller    OrgKind = "reseller"
	OrgInstitution OrgKind = "institution"
)

// Status of an organization or a user.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
)

// Organization is a tenant node. Key is the slug integrators use (Confirm's
// InstitutionKey); ID is what ExactPay calls organizationId/account.
type Organization struct {
	ID        string    `json:"id"`
	Kind      OrgKind   `json:"kind"`
	Key       string    `json:"key"`
	Name      string    `json:"name"`
	ParentID  string    `json:"parentId,omitempty"`
	Core      string    `json:"core,omitempty"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

var orgKeyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// ValidateOrgKey reports whether key is a valid organization key.
func ValidateOrgKey(key string) error {
	if !orgKeyPattern.MatchString(key) {
		return FieldError("key", "must be 2-63 characters of a-z, 0-9 and '-', starting with a letter or digit")
	}
	return nil
}

// OrgFilter selects organizations.
type OrgFilter struct {
	Kind     OrgKind
	ParentID string
	// Within, when set, keeps that organization and its descendants.
	Within string
}
