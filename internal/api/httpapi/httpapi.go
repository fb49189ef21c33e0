// Package httpapi holds what every JSON surface does the same way:
// strict body decoding and query parsing that report bad input as domain
// errors naming the field. Each surface renders those in its own shape.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/ratelimit"
)

// DecodeJSON reads r's body, a single JSON object, into v. It refuses a
// non-JSON Content-Type (EUNSUPPORTED), a body over the server's limit
// (ETOOLARGE), malformed JSON, unknown fields, wrong types and trailing
// data (EINVALID, naming the field where there is one). An empty body
// decodes as {} when allowEmpty.
func DecodeJSON(r *http.Request, v any, allowEmpty bool) error {
	return decode(r, v, allowEmpty, false)
}

// DecodeJSONLenient is DecodeJSON that also forgives trailing commas
// before a closing brace or bracket, as some vendor examples are written.
func DecodeJSONLenient(r *http.Request, v any) error { return decode(r, v, false, true) }

// ReadBody reads the whole request body: ETOOLARGE past the server's
// limit, EINVALID when it cannot be read.
func ReadBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, verigate.Errorf(verigate.ETOOLARGE, "Request body is larger than %d bytes.", mbe.Limit)
		}
		return nil, verigate.Errorf(verigate.EINVALID, "Could not read the request body.")
	}
	return body, nil
}

func decode(r *http.Request, v any, allowEmpty, lenient bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return verigate.Errorf(verigate.EUNSUPPORTED, "Content-Type must be application/json.")
		}
	}
	body, err := ReadBody(r)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if allowEmpty {
			return nil
		}
		return verigate.Errorf(verigate.EINVALID, "A JSON request body is required.")
	}
	if err := CheckJSONText(body); err != nil {
		return err
	}
	if lenient {
		body = StripTrailingCommas(body)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	// Not dec.More(): it reports false for a stray } or ] after the value.
	if _, err := dec.Token(); err != io.EOF {
		return verigate.Errorf(verigate.EINVALID, "The request body must hold one JSON object and nothing after it.")
	}
	return refuseNulls(body, v)
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return verigate.Errorf(verigate.EINVALID, "Malformed JSON at byte %d.", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return verigate.Errorf(verigate.EINVALID, "The request body must be a JSON object.")
		}
		return verigate.FieldError(typ.Field, "must be "+jsonKind(typ.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return verigate.Errorf(verigate.EINVALID, "Malformed JSON: the body ends too early.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return verigate.FieldError(field, "is not a known field")
	default:
		var fe *verigate.Error
		if errors.As(err, &fe) {
			return fe
		}
		return verigate.Errorf(verigate.EINVALID, "Malformed JSON.")
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "of another type"
}

// query reads an optional query parameter: absent is ("", false, nil); a
// parameter given with an empty value (?limit=) is refused, naming it, not
// taken as absent.
func query(r *http.Request, name string) (string, bool, error) {
	vals, ok := r.URL.Query()[name]
	switch {
	case !ok:
		return "", false, nil
	case len(vals) > 1:
		return "", false, verigate.FieldError(name, "must be given once")
	case vals[0] == "":
		return "", false, verigate.FieldError(name, "must not be empty; leave the parameter out instead")
	}
	return vals[0], true, nil
}

// QueryString reads an optional query parameter: "" when absent; present,
// it must be given once and not be empty.
func QueryString(r *http.Request, name string) (string, error) {
	s, _, err := query(r, name)
	return s, err
}

// QueryID reads an optional positive whole-number query parameter (0 when
// absent).
func QueryID(r *http.Request, name string) (int64, error) {
	s, ok, err := query(r, name)
	if !ok {
		return 0, err
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, verigate.FieldError(name, "must be a positive whole number")
	}
	return id, nil
}

// QueryInt reads an optional integer query parameter.
func QueryInt(r *http.Request, name string, def int) (int, error) {
	s, ok, err := query(r, name)
	if !ok {
		return def, err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, verigate.FieldError(name, "must be a whole number")
	}
	return n, nil
}

// QueryTime reads an optional RFC 3339 time or YYYY-MM-DD date; a date
// as the end of a range (endOfDay) means the last millisecond of that day.
func QueryTime(r *http.Request, name string, endOfDay bool) (*time.Time, error) {
	s, ok, err := query(r, name)
	if !ok {
		return nil, err
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return &t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, verigate.FieldError(name, "must be an RFC 3339 time or a YYYY-MM-DD date")
	}
	if endOfDay {
		t = t.Add(24*time.Hour - time.Millisecond)
	}
	return &t, nil
}

// Status maps a domain error code to the HTTP status every surface uses.
func Status(code string) int {
	switch code {
	case verigate.EINVALID:
		return http.StatusBadRequest
	case verigate.EUNAUTHENTICATED:
		return http.StatusUnauthorized
	case verigate.EFORBIDDEN:
		return http.StatusForbidden
	case verigate.ENOTFOUND:
		return http.StatusNotFound
	case verigate.ECONFLICT:
		return http.StatusConflict
	case verigate.EEXPIRED:
		return http.StatusGone
	case verigate.ERATELIMITED:
		return http.StatusTooManyRequests
	case verigate.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case verigate.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case verigate.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case EMETHOD:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode response: %v", err)) // a programming error: the types are ours
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n')) // a failed write is a gone client; nothing to do

}

// StripTrailingCommas removes commas that stand (white space aside) right
// before a closing } or ], outside strings.
func StripTrailingCommas(b []byte) []byte {
	out := make([]byte, 0, len(b))
	inString, escaped := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ',':
			j := i + 1
			for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r') {
				j++
			}
			if j < len(b) && (b[j] == '}' || b[j] == ']') {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// SignInLimit bounds sign-in attempts per client address, before any
// password work: 30 a minute, then a minute's block.
var SignInLimit = ratelimit.Policy{TTL: time.Minute, Limit: 30, BlockDuration: time.Minute}

// LimitClient applies a policy per client address: the connection's
// remote address, or the client a trusted proxy names (the server
// rewrites RemoteAddr, VERIGATE_TRUSTED_PROXIES). A limiter failure lets
// the request through.
func LimitClient(r *http.Request, store ratelimit.Store, scope string, p ratelimit.Policy, now time.Time) error {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	res, err := store.Hit(r.Context(), scope+":"+host, p, now)
	if err != nil || res.Allowed {
		return nil
	}
	secs := CeilSeconds(res.RetryAfter)
	e := verigate.Errorf(verigate.ERATELIMITED, "Too many sign-in attempts from this address. Try again in %d seconds.", secs)
	e.RetryAfter = time.Duration(secs) * time.Second
	return e
}

// CeilSeconds is d in whole seconds, rounded up: a client told to wait
// "0 seconds" would retry at once.
func CeilSeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// SetRetryAfter sets Retry-After when err says how long to wait.
func SetRetryAfter(w http.ResponseWriter, err error) {
	if d := verigate.RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(CeilSeconds(d)))
	}
}

// LogInternal logs an error about to be answered 500 (its message is not
// shown to the client).
func LogInternal(log *slog.Logger, r *http.Request, err error) {
	log.Error("internal error", "err", err, "request_id", verigate.RequestIDFrom(r.Context()), "path", r.URL.Path)
}

// CheckJSONText refuses a JSON body that is not UTF-8 or whose strings
// hold a NUL (written \u0000): encoding/json would let both through —
// the first silently altered — and PostgreSQL refuses NUL in text and
// jsonb alike.
func CheckJSONText(body []byte) error {
	if !utf8.Valid(body) {
		return verigate.Errorf(verigate.EINVALID, "The request body is not UTF-8.")
	}
	inString := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(body):
			if body[i+1] == 'u' && i+6 <= len(body) && string(body[i+2:i+6]) == "0000" {
				return verigate.Errorf(verigate.EINVALID, "The request body holds a NUL character (\\u0000), which no field accepts.")
			}
			i++ // skip the escaped character
		}
	}
	return nil
}
