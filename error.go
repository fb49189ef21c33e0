// Package verigate holds Verigate's domain: the types every surface and
// service share, the error codes they map to HTTP, and the permission
// catalogue. It imports only the standard library.
package verigate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Error codes. Each surface maps them to its own status and body shape.
const (
	EINVALID         = "invalid"
	EUNAUTHENTICATED = "unauthenticated"
	EFORBIDDEN       = "forbidden"
	ENOTFOUND        = "not_found"
	ECONFLICT        = "conflict"
	EEXPIRED         = "expired"
	ERATELIMITED     = "rate_limited"
	EUNAVAILABLE     = "unavailable"
	EINTERNAL        = "internal"
	// ETOOLARGE and EUNSUPPORTED are for request bodies: too big to read,
	// or of a content type the endpoint does not take.
	ETOOLARGE    = "too_large"
	EUNSUPPORTED = "unsupported_media_type"
)

// Error is a domain error: a code a surface can map, and a message safe to
// show to the caller. Anything that is not an *Error is internal and its
// text is logged, never shown.
type Error struct {
	Code    string
	Message string
	// Fields names the offending input fields of an EINVALID error, with a
	// reason each, so surfaces can say which field was wrong.
	Fields map[string]string
	// RetryAfter, on an ERATELIMITED error, says when to try again.
	RetryAfter time.Duration
	// Permission, on an EFORBIDDEN error, is the permission the principal
	// lacks; each surface names it in its own spelling.
	Permission Permission
}

func (e *Error) Error() string { return fmt.Sprintf("verigate: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error that names one field.
func FieldError(field, reason string) *Error {
	return &Error{Code: EINVALID, Message: field + ": " + reason, Fields: map[string]string{field: reason}}
}

// Nest returns err as a surface names its fields: a copy of the field
// error in err with prefix before each field name ("params." +
// "expiryDate") and its message composed again from the fields. Any other
// error is returned as it is. Services name fields as the domain does; a
// surface whose request nests them (Partner API's params) calls Nest.
func Nest(prefix string, err error) error {
	var e *Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	out := *e
	out.Fields = make(map[string]string, len(e.Fields))
	for field, reason := range e.Fields {
		out.Fields[prefix+field] = reason
	}
	out.Message = fieldsMessage(out.Fields)
	return &out
}

// Rename returns err as a surface names its fields: a copy of the field
// error in err with each field named in names renamed ("rate_limit" →
// "rateLimit"), and its message composed again. Any other error, and
// fields not in names, are returned as they are.
func Rename(err error, names map[string]string) error {
	var e *Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	out := *e
	out.Fields = make(map[string]string, len(e.Fields))
	renamed := false
	for field, reason := range e.Fields {
		if n, ok := names[field]; ok {
			field, renamed = n, true
		}
		out.Fields[field] = reason
	}
	if !renamed {
		return err
	}
	out.Message = fieldsMessage(out.Fields)
	return &out
}

func fieldsMessage(fields map[string]string) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + ": " + fields[name]
	}
	return strings.Join(parts, "; ")
}

// ErrorCode returns the code of err, EINTERNAL for anything that is not an
// *Error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the caller-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "Internal error."
	}
}

// RetryAfter returns how long err asks the caller to wait, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// MissingPermission returns the permission an EFORBIDDEN err says the
// principal lacks, or "".
func MissingPermission(err error) Permission {
	var e *Error
	if errors.As(err, &e) {
		return e.Permission
	}
	return ""
}
