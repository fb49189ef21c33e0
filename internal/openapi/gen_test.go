package openapi_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// gen makes values a schema accepts. It honours type, enum, anyOf/oneOf,
// minLength/maxLength (in characters), minimum/maximum, format, pattern
// (the few the document uses, else by retrying), required, minProperties,
// minItems/maxItems and additionalProperties. Date-times are drawn in
// increasing order within a request, near the fake clock's now, so a
// "from" drawn before a "to" is never after it.
type gen struct {
	r    *rand.Rand
	next time.Time // the next date-time handed out
	// known supplies real values (an existing organization, session…) for
	// some names, half of the time, so requests reach past "not found".
	known map[string]func() any
	// refs supplies, always, the values of fields that refer to another
	// object from inside a body (a role name, a source id): the document
	// cannot say which objects exist, and the server refuses a reference
	// to none with 400, as a bad value.
	refs map[string]func() any
}

// alphabet is printable text: ASCII, accented letters, CJK, an emoji. Text
// fields refuse control characters (documented as such), so the
// generator never makes them.
var alphabet = []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.,:;!?'()éüñ日本語😀")

// patterns generates strings for the patterns the document uses; any
// other pattern is met by drawing until a string matches.
var patterns = map[string]func(g *gen) string{
	`^0x[0-9a-fA-F]{64}$`:  func(g *gen) string { return "0x" + g.from("0123456789abcdefABCDEF", 64) },
	`^0x[0-9a-fA-F]{40}$`:  func(g *gen) string { return "0x" + g.from("0123456789abcdefABCDEF", 40) },
	`^0x[0-9a-fA-F]{130}$`: func(g *gen) string { return "0x" + g.from("0123456789abcdef", 130) },
	`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`: func(g *gen) string {
		return g.from("abcXYZ019", 1) + g.from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", g.r.IntN(64))
	},
	`^[!-~]+$`:         func(g *gen) string { return g.from("!#$%&*+-./0123456789:;=?@ABCXYZ^_abcxyz~", 1+g.r.IntN(40)) },
	`^\+?[0-9]{6,15}$`: func(g *gen) string { return g.from("+1", 1) + g.from("0123456789", 6+g.r.IntN(9)) },
	`^(19[0-9]{2}|200[0-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$`: func(g *gen) string {
		return fmt.Sprintf("%d-%02d-%02d", 1900+g.r.IntN(110), 1+g.r.IntN(12), 1+g.r.IntN(28))
	},
	`^[1-9][0-9]{0,17}$`: func(g *gen) string { return g.from("123456789", 1) + g.from("0123456789", g.r.IntN(17)) },
	`^[a-z0-9][a-z0-9-]{1,62}$`: func(g *gen) string {
		return g.from("abcdefghijklmnopqrstuvwxyz0123456789", 1) + g.from("abcdefghijklmnopqrstuvwxyz0123456789-", 1+g.r.IntN(20))
	},
}

func (g *gen) from(chars string, n int) string {
	rs := []rune(chars)
	var b strings.Builder
	for range n {
		b.WriteRune(rs[g.r.IntN(len(rs))])
	}
	return b.String()
}

func (g *gen) value(s *openapi3.Schema, name string) any {
	if k := g.refs[name]; k != nil {
		return k()
	}
	if k := g.known[name]; k != nil && g.r.IntN(2) == 0 {
		return k()
	}
	if len(s.Enum) > 0 {
		return s.Enum[g.r.IntN(len(s.Enum))]
	}
	if len(s.Properties) > 0 {
		return g.object(s)
	}
	if alts := append(slices.Clone(s.AnyOf), s.OneOf...); len(alts) > 0 {
		return g.value(alts[g.r.IntN(len(alts))].Value, name)
	}
	types := s.Type.Slice()
	types = slices.DeleteFunc(slices.Clone(types), func(t string) bool { return t == "null" })
	typ := "object"
	if len(types) > 0 {
		typ = types[g.r.IntN(len(types))]
	} else if s.Items != nil {
		typ = "array"
	}
	switch typ {
	case "string":
		return g.str(s)
	case "integer":
		return g.integer(s)
	case "number":
		return float64(g.integer(s)) + 0.5
	case "boolean":
		return g.r.IntN(2) == 0
	case "array":
		n := int(s.MinItems) + g.r.IntN(3)
		if s.MaxItems != nil && n > int(*s.MaxItems) {
			n = int(*s.MaxItems)
		}
		out := []any{}
		for i := 0; len(out) < n && i < 10*n+10; i++ {
			v := g.value(s.Items.Value, name+"[]")
			if s.UniqueItems && slices.ContainsFunc(out, func(o any) bool { return fmt.Sprint(o) == fmt.Sprint(v) }) {
				continue
			}
			out = append(out, v)
		}
		return out
	default:
		return g.object(s)
	}
}

// object makes an object with every required property and some optional
// ones. An object-level oneOf/anyOf of "required" lists (one of these
// fields must be given) is met by choosing one list; for oneOf the other
// lists' fields are left out.
func (g *gen) object(s *openapi3.Schema) map[string]any {
	out := map[string]any{}
	required, excluded := slices.Clone(s.Required), []string{}
	if alts := append(slices.Clone(s.AnyOf), s.OneOf...); len(alts) > 0 {
		pick := g.r.IntN(len(alts))
		required = append(required, alts[pick].Value.Required...)
		for i, alt := range s.OneOf {
			if i != pick {
				excluded = append(excluded, alt.Value.Required...)
			}
		}
	}
	var optional []string
	for k := range s.Properties {
		if slices.Contains(excluded, k) && !slices.Contains(required, k) {
			continue
		}
		if slices.Contains(required, k) {
			out[k] = g.value(s.Properties[k].Value, k)
		} else {
			optional = append(optional, k)
		}
	}
	slices.Sort(optional) // map order is random; the seed must decide
	for _, k := range optional {
		if g.r.IntN(2) == 0 {
			out[k] = g.value(s.Properties[k].Value, k)
		}
	}
	for _, k := range optional {
		if uint64(len(out)) >= s.MinProps {
			break
		}
		if _, ok := out[k]; !ok {
			out[k] = g.value(s.Properties[k].Value, k)
		}
	}
	if extra := s.AdditionalProperties.Schema; extra != nil && len(s.Properties) == 0 {
		n := max(1, int(s.MinProps)) + g.r.IntN(3)
		if s.MaxProps != nil && n > int(*s.MaxProps) {
			n = int(*s.MaxProps)
		}
		for i := range n {
			out[fmt.Sprintf("%s%d", g.from("abcdefgh", 1+g.r.IntN(8)), i)] = g.value(extra.Value, "")
		}
	}
	return out
}

func (g *gen) integer(s *openapi3.Schema) int64 {
	lo, hi := float64(-1000), float64(1<<53-1)
	if s.Min != nil {
		lo = *s.Min
	}
	if s.Max != nil {
		hi = *s.Max
	}
	switch g.r.IntN(4) {
	case 0:
		return int64(lo)
	case 1:
		return int64(hi)
	default:
		return int64(lo) + g.r.Int64N(int64(math.Min(hi-lo, 1e6))+1)
	}
}

func (g *gen) str(s *openapi3.Schema) string {
	switch s.Format {
	case "date-time", "date":
		g.next = g.next.Add(time.Duration(1+g.r.IntN(48)) * time.Hour)
		if s.Format == "date" {
			return g.next.Format(time.DateOnly)
		}
		return g.next.Format(time.RFC3339)
	case "email":
		return g.from("abcdefghijklmnopqrstuvwxyz0123456789", 1+g.r.IntN(10)) + "@" + g.from("abcdefghijklmnopqrstuvwxyz", 1+g.r.IntN(10)) + ".test"
	case "uri":
		return "https://" + g.from("abcdefghijklmnopqrstuvwxyz", 1+g.r.IntN(10)) + ".example/" + g.from("abcdefghijklmnopqrstuvwxyz0123456789-/", g.r.IntN(30))
	case "uuid":
		b := make([]byte, 16)
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	}
	if p, ok := patterns[s.Pattern]; ok {
		return p(g)
	}
	var re *regexp.Regexp
	if s.Pattern != "" {
		re = regexp.MustCompile(s.Pattern)
	}
	for range 1000 {
		v := g.text(s)
		if re == nil || re.MatchString(v) {
			return v
		}
	}
	panic("gen: no string matches pattern " + s.Pattern + "; add it to patterns")
}

// text is printable text of a length the schema allows: short usually,
// sometimes exactly the maximum (in multi-byte characters).
func (g *gen) text(s *openapi3.Schema) string {
	lo, hi := int(s.MinLength), int(s.MinLength)+20
	if s.MaxLength != nil {
		hi = min(hi, int(*s.MaxLength))
		if g.r.IntN(4) == 0 {
			return g.from("éü日本語ñ", int(*s.MaxLength))
		}
	}
	n := lo + g.r.IntN(hi-lo+1)
	if n == 0 {
		return ""
	}
	// No white space at either end: text fields are trimmed, and a
	// value of only spaces is empty.
	const letters = "abcdefghijklmnopqrstuvwxyzé日"
	if n == 1 {
		return g.from(letters, 1)
	}
	return g.from(letters, 1) + g.from(string(alphabet), n-2) + g.from(letters, 1)
}
