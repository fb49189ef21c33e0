package verigate

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// User is a person or a service account in one organization.
type User struct {
	ID             string     `json:"id"`
	OrgID          string     `json:"organizationId"`
	Email          string     `json:"email"`
	Username       string     `json:"username"`
	PasswordHash   string     `json:"-"`
	ServiceAccount bool       `json:"serviceAccount"`
	Roles          []string   `json:"roles"`
	Status         string     `json:"status"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
	DeletedAt      *time.Time `json:"-"`
}

// Password length bounds. Long passwords are accepted whole, never
// truncated (argon2id takes any length).
const (
	MinPasswordLen = 8
	MaxPasswordLen = 1024
)

// NormalizeEmail validates an email address and returns it in the form we
// compare on: trimmed and lower-cased (emails are unique case-insensitively).
func NormalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" || TooLong(email, 254) {
		return "", FieldError("email", "must be a valid email address")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || !strings.Contains(email[strings.LastIndexByte(email, '@'):], ".") {
		return "", FieldError("email", "must be a valid email address")
	}
	return strings.ToLower(email), nil
}

// ValidatePassword enforces the password policy.
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen {
		return FieldError("password", "must be at least 8 characters")
	}
	if n > MaxPasswordLen {
		return FieldError("password", "must be at most 1024 characters")
	}
	return nil
}

// ValidateUsername checks an operator name (the "core username" sent as
// RequestedBy): 1-64 printable characters.
func ValidateUsername(field, s string) error { return ValidateText(field, s, 64) }

// TooLong reports whether s has more than max characters. Every length
// limit on text counts characters (runes), as the OpenAPI document's
// maxLength does, never bytes: 60 × "é" is 60 characters, not 120.
func TooLong(s string, max int) bool { return utf8.RuneCountInString(s) > max }

// ValidateText checks a short text field: 1 to max printable characters,
// valid UTF-8, no control characters.
func ValidateText(field, s string, max int) error {
	if s == "" {
		return FieldError(field, fmt.Sprintf("must be 1-%d printable characters", max))
	}
	return ValidateOptionalText(field, s, max)
}

// ValidateOptionalText is ValidateText for a field that may be empty.
func ValidateOptionalText(field, s string, max int) error {
	if !utf8.ValidString(s) || TooLong(s, max) {
		return FieldError(field, fmt.Sprintf("must be at most %d printable characters", max))
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return FieldError(field, "must not contain control characters")
		}
	}
	return nil
}
