package verigate_test

import (
	"strings"
	"testing"

	"github.com/verigate/verigate"
)

// TestTextLengthCountsCharacters: limits count runes, never bytes.
func TestTextLengthCountsCharacters(t *testing.T) {
	for _, c := range []struct {
		s       string
		max     int
		tooLong bool
	}{
		{strings.Repeat("a", 100), 100, false},
		{strings.Repeat("a", 101), 100, true},
		{strings.Repeat("é", 60), 100, false}, // 120 bytes, 60 characters
		{strings.Repeat("é", 100), 100, false},
		{strings.Repeat("é", 101), 100, true},
		{strings.Repeat("日本", 50), 100, false}, // 300 bytes
		{strings.Repeat("😀", 100), 100, false}, // 400 bytes
		{strings.Repeat("😀", 101), 100, true},
		{"", 0, false},
	} {
		if got := verigate.TooLong(c.s, c.max); got != c.tooLong {
			t.Errorf("TooLong(%d runes, %d bytes, max %d) = %v", len([]rune(c.s)), len(c.s), c.max, got)
		}
		if c.s == "" {
			continue
		}
		if err := verigate.ValidateText("f", c.s, c.max); (err != nil) != c.tooLong {
			t.Errorf("ValidateText(%d runes, max %d) = %v", len([]rune(c.s)), c.max, err)
		}
	}
	if _, err := verigate.NormalizeEmail(strings.Repeat("é", 120) + "@" + strings.Repeat("é", 120) + ".test"); err != nil {
		t.Errorf("a 246-character email of 486 bytes: %v", err)
	}
}
