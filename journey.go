package verigate

import (
	"net/url"
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
