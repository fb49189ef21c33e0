package verigate

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// JourneySettings are an organization's settings for its hosted journey
// pages: the logo shown beside its name, and the origins allowed to embed
// the pages in a frame (the Content-Security-Policy frame-ancestors; none
// by default, so that no other site can frame them).
type JourneySettings struct {
	LogoURL        string   `json:"logoUrl"`
	FrameAncestors []string `json:"frameAncestors"`
}

// MaxFrameAncestors bounds an organization's frame-ancestors list.
const MaxFrameAncestors = 10

// Validate checks the settings: the logo is an https URL (or empty), each
// frame ancestor an https origin (scheme and host, no path), since both
// end up in a page and its Content-Security-Policy header.
func (j JourneySettings) Validate() error {
	if j.LogoURL != "" {
		u, err := url.Parse(j.LogoURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || TooLong(j.LogoURL, 500) || strings.ContainsAny(j.LogoURL, " \"'<>;") {
			return FieldError("logoUrl", "must be an https URL of at most 500 characters")
		}
	}
	if len(j.FrameAncestors) > MaxFrameAncestors {
		return FieldError("frameAncestors", "at most 10 origins")
	}
	for _, o := range j.FrameAncestors {
		u, err := url.Parse(o)
		if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" ||
			u.Fragment != "" || u.User != nil || len(o) > 200 || strings.ContainsAny(o, " \"';,") {
			return FieldError("frameAncestors", "each must be an https origin such as https://partner.example")
		}
	}
	return nil
}

// JourneyConsent is an applicant's recorded consent to share.
type JourneyConsent struct {
	SessionID   int64
	ConsentedAt time.Time
}

// MaxRedirectOrigins bounds an organization's redirect allow-list.
const MaxRedirectOrigins = 20

// OrgSettings are an organization's settings the dashboard shows: its
// review policy, journey settings and redirect allow-list.
type OrgSettings struct {
	ReviewPolicy string
	Journey      JourneySettings
	// RedirectOrigins are the https origins a session's redirectUrl may
	// point to; empty allows any http or https URL.
	RedirectOrigins []string
}

// ValidateRedirectOrigins checks a redirect allow-list: each an https
// origin (scheme and host, no path), at most MaxRedirectOrigins. It
// returns them in their canonical form (lower case, no trailing slash).
func ValidateRedirectOrigins(origins []string) ([]string, error) {
	if len(origins) > MaxRedirectOrigins {
		return nil, FieldError("redirectOrigins", "at most 20 origins")
	}
	out := []string{}
	for _, o := range origins {
		u, err := url.Parse(o)
		if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" ||
			u.Fragment != "" || u.User != nil || u.Opaque != "" || len(o) > 200 || strings.ContainsAny(o, " \"';,<>") {
			return nil, FieldError("redirectOrigins", "each must be an https origin such as https://partner.example")
		}
		c := "https://" + strings.ToLower(u.Host)
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// RedirectAllowed reports whether raw (an absolute URL) is allowed by the
// allow-list origins: any URL when the list is empty, else one whose
// origin (https, host and port) is listed.
func RedirectAllowed(origins []string, raw string) bool {
	if len(origins) == 0 {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return false
	}
	return slices.Contains(origins, "https://"+strings.ToLower(u.Host))
}
