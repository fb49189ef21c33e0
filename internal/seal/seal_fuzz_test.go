package seal

import (
	"bytes"
	"testing"
)

// FuzzOpen: Open never panics on stored bytes; it returns exactly what
// Seal sealed for the same id, and refuses the value under another id or
// purpose, or with any one bit flipped.
func FuzzOpen(f *testing.F) {
	s := New("a server secret key of 32 bytes!", "connection credentials")
	f.Add([]byte{}, "conn-1", []byte("password"), uint16(0))
	f.Add(make([]byte, 11), "", []byte{}, uint16(12))
	f.Add(s.Seal("conn-1", []byte("secret")), "conn-1", []byte("\x00\xff"), uint16(300))
	f.Fuzz(func(t *testing.T, stored []byte, id string, plain []byte, pos uint16) {
		if _, err := s.Open(id, stored); err == nil {
			// A sealed value (from the corpus): bound to its id.
			if _, err := s.Open(id+"x", stored); err == nil {
				t.Fatalf("Open(%x) under id %q and %q", stored, id, id+"x")
			}
		}
		sealed := s.Seal(id, plain)
		if got, err := s.Open(id, sealed); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open(Seal(%q)) = %q, %v", plain, got, err)
		}
		if _, err := s.Open(id+"x", sealed); err == nil {
			t.Fatalf("opened under another id")
		}
		if _, err := New("a server secret key of 32 bytes!", "another purpose").Open(id, sealed); err == nil {
			t.Fatalf("opened under another purpose")
		}
		i := int(pos) % len(sealed)
		flipped := append([]byte{}, sealed...)
		flipped[i] ^= 1 << (pos / 256 % 8)
		if _, err := s.Open(id, flipped); err == nil {
			t.Fatalf("opened with bit %d of byte %d flipped", pos/256%8, i)
		}
	})
}
