package verigate

import (
	"errors"
	"fmt"
	"testing"
)

func TestNest(t *testing.T) {
	base := FieldError("expiryDate", "must be in the future")
	got := Nest("params.", fmt.Errorf("create: %w", base))
	var e *Error
	if !errors.As(got, &e) || e.Code != EINVALID || e.Message != "params.expiryDate: must be in the future" ||
		len(e.Fields) != 1 || e.Fields["params.expiryDate"] != "must be in the future" {
		t.Fatalf("Nest = %#v", got)
	}
	// The service's error is left as it was.
	if base.Message != "expiryDate: must be in the future" || base.Fields["expiryDate"] == "" || len(base.Fields) != 1 {
		t.Fatalf("Nest changed its argument: %#v", base)
	}
	two := &Error{Code: EINVALID, Fields: map[string]string{"b": "y", "a": "x"}}
	if m := ErrorMessage(Nest("p.", two)); m != "p.a: x; p.b: y" {
		t.Fatalf("two fields: %q", m)
	}
	// Errors that name no field pass through unchanged.
	other := Errorf(ENOTFOUND, "Session not found")
	if Nest("params.", other) != other || Nest("params.", nil) != nil {
		t.Fatal("Nest changed an error without fields")
	}
}

func TestRename(t *testing.T) {
	err := Rename(FieldError("rate_limit", "must be at most 1000"), map[string]string{"rate_limit": "rateLimit"})
	var e *Error
	if !errors.As(err, &e) || e.Fields["rateLimit"] == "" || e.Message != "rateLimit: must be at most 1000" || e.Code != EINVALID {
		t.Fatalf("renamed: %#v", err)
	}
	same := FieldError("url", "is required")
	if Rename(same, map[string]string{"rate_limit": "rateLimit"}) != same {
		t.Fatal("a field not in the names was changed")
	}
	other := Errorf(ENOTFOUND, "gone")
	if Rename(other, map[string]string{"x": "y"}) != other {
		t.Fatal("a non-field error was changed")
	}
}
