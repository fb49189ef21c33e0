// Package ui is what the server-rendered pages share: the base
// stylesheet (the journey's look, which the dashboard builds on), CSP
// nonces, the inline QR code, and whether a request came over TLS.
package ui

import (
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
)

//go:embed base.css
var baseCSS string

// CSS is the base stylesheet, inlined in a nonce'd <style> of every
// page: no request more, and the CSP needs no 'self' for styles.
var CSS = template.CSS(baseCSS)

// Nonce returns a fresh CSP nonce.
func Nonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

// Secure tells whether the request came over TLS, directly or at a proxy
// the server trusts (the server drops X-Forwarded-Proto from anyone else).
func Secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// Headers sets what every page is sent with besides its CSP.
func Headers(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}
