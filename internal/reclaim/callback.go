package reclaim

import (
	"bytes"
	"encoding/json"
	"net/url"
)

// ParseCallback reads the body the Reclaim app POSTs to a proof request's
// callbackUrl: one proof or an array of them, as JSON (the SDK's
// setAppCallbackUrl(url, jsonProofResponse=true)) or, by default, as the
// JSON text percent-encoded as a whole (encodeURIComponent, usually sent
// as application/x-www-form-urlencoded with no field name). The body
// decides, not the Content-Type: the app's header is not reliable, and
// the two forms cannot be confused (encoded JSON never starts with { or
// [). A body that is neither is Malformed.
func ParseCallback(body []byte) ([]Proof, *Error) {
	text := bytes.TrimSpace(body)
	if len(text) == 0 {
		return nil, malformed("the body is empty; send the proof as JSON")
	}
	if text[0] != '{' && text[0] != '[' {
		// encodeURIComponent never leaves a + (it writes %2B), so reading
		// + as a space also takes a form-encoded body.
		s, err := url.QueryUnescape(string(text))
		if err != nil {
			return nil, malformed("the body is neither JSON nor percent-encoded JSON")
		}
		text = bytes.TrimSpace([]byte(s))
		if len(text) == 0 || (text[0] != '{' && text[0] != '[') {
			return nil, malformed("the body is neither JSON nor percent-encoded JSON")
		}
	}
	if !json.Valid(text) {
		return nil, malformed("the body is not valid JSON")
	}
	if text[0] == '{' {
		var p Proof
		if err := json.Unmarshal(text, &p); err != nil {
			return nil, malformed("the body is not a Reclaim proof: %s", jsonReason(err))
		}
		return []Proof{p}, nil
	}
	var ps []Proof
	if err := json.Unmarshal(text, &ps); err != nil {
		return nil, malformed("the body is not an array of Reclaim proofs: %s", jsonReason(err))
	}
	if len(ps) == 0 {
		return nil, malformed("the array holds no proof")
	}
	return ps, nil
}

// jsonReason names the field of a type mismatch without echoing input.
func jsonReason(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok && te.Field != "" {
		return te.Field + " has the wrong type"
	}
	return "a field has the wrong type"
}
