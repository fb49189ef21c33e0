package seal

import (
	"bytes"
	"testing"
)

func TestSealer(t *testing.T) {
	s := New("a secret key of at least thirty-two characters", "test")
	sealed := s.Seal("conn-1", []byte(`{"password":"pass"}`))
	if bytes.Contains(sealed, []byte("pass")) {
		t.Fatal("sealed value holds the plaintext")
	}
	if got, err := s.Open("conn-1", sealed); err != nil || string(got) != `{"password":"pass"}` {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open("conn-2", sealed); err == nil {
		t.Fatal("a value sealed for one connection opened for another")
	}
	if _, err := New("another key, also thirty-two characters", "test").Open("conn-1", sealed); err == nil {
		t.Fatal("opened under another key")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := s.Open("conn-1", sealed); err == nil {
		t.Fatal("a tampered value opened")
	}
}

func TestPurposesDiffer(t *testing.T) {
	a, b := New("same secret, thirty-two characters!", "one"), New("same secret, thirty-two characters!", "two")
	if _, err := b.Open("x", a.Seal("x", []byte("v"))); err == nil {
		t.Fatal("a value sealed for one purpose opened for another")
	}
}
