package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/verigate/verigate"
)

func queryRequest(name, value string) *http.Request {
	return httptest.NewRequest("GET", "/?"+url.Values{name: {value}}.Encode(), nil)
}

// wantFieldError fails unless err is EINVALID naming field.
func wantFieldError(t *testing.T, err error, field string) {
	t.Helper()
	var e *verigate.Error
	if !errors.As(err, &e) || e.Code != verigate.EINVALID {
		t.Fatalf("error %v, want EINVALID", err)
	}
	if _, ok := e.Fields[field]; !ok {
		t.Fatalf("error %v does not name field %q", err, field)
	}
}

// FuzzQueryInt: a parameter present but empty is a 400 naming it; otherwise
// the value is exactly what strconv.Atoi reads, or a 400 naming the field.
func FuzzQueryInt(f *testing.F) {
	for _, s := range []string{"", "0", "-1", "+7", "007", "9223372036854775807", "9223372036854775808", "1e3", " 1", "1\x00", "\xff", "٣"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, def int) {
		n, err := QueryInt(queryRequest("limit", s), "limit", def)
		want, atoiErr := strconv.Atoi(s)
		switch {
		case s == "" || atoiErr != nil:
			wantFieldError(t, err, "limit")
		case err != nil || n != want:
			t.Fatalf("QueryInt(%q) = %d, %v; want %d", s, n, err, want)
		}
	})
}

// FuzzQueryTime: a value is an RFC 3339 time (read back exactly) or a
// date (midnight UTC, or its last millisecond as the end of a range), or
// a 400 naming the field.
func FuzzQueryTime(f *testing.F) {
	for _, s := range []string{"", "2026-11-22", "2026-11-22T09:00:00Z", "2026-11-22T09:00:00.123456789+05:30",
		"0000-01-01", "9999-12-31T23:59:59Z", "2026-02-30", "2026-11-22T24:00:00Z", "2026-11-22T09:00:00+24:00", "2026-11-22\x00", "\xff"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, endOfDay bool) {
		got, err := QueryTime(queryRequest("from", s), "from", endOfDay)
		if s == "" {
			wantFieldError(t, err, "from")
			return
		}
		if err != nil {
			wantFieldError(t, err, "from")
			if _, perr := time.Parse(time.RFC3339Nano, s); perr == nil {
				t.Fatalf("RFC 3339 time %q refused", s)
			}
			return
		}
		if got == nil {
			t.Fatalf("QueryTime(%q) returned neither a time nor an error", s)
		}
		if full, perr := time.Parse(time.RFC3339Nano, s); perr == nil {
			if !got.Equal(full) {
				t.Fatalf("QueryTime(%q) = %v, want %v", s, got, full)
			}
			return
		}
		day, perr := time.Parse(time.DateOnly, s)
		if perr != nil {
			t.Fatalf("QueryTime(%q) = %v accepted neither a time nor a date", s, got)
		}
		want := day
		if endOfDay {
			want = day.Add(24*time.Hour - time.Millisecond)
		}
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("QueryTime(%q, endOfDay %v) = %v, want %v", s, endOfDay, got, want)
		}
	})
}
