// Package ui is what the server-rendered pages share: the base
// stylesheet (the journey's look, which the dashboard builds on), CSP
// nonces, the inline QR code, and whether a request came over TLS.
package ui

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/verigate/verigate"
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

// ReadForm parses a posted form and checks, before anything runs, that it
// came from one of our pages — its token (a surface's HMAC bound to the
// cookie), and the browser's Sec-Fetch-Site or Origin when sent — and
// holds only text. A bad token or another site answers refused. (The
// server bounds every body; a form over it is ETOOLARGE.)
func ReadForm(r *http.Request, token string, refused error) error {
	// Our pages send no referrer, so a browser may say Origin "null" for
	// them; the token decides then.
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return refused
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			return refused
		}
	}
	if err := r.ParseForm(); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return verigate.Errorf(verigate.ETOOLARGE, "The form is too large.")
		}
		return verigate.Errorf(verigate.EINVALID, "The form could not be read.")
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(token)) != 1 {
		return refused
	}
	for k, vs := range r.PostForm {
		for _, v := range append(vs, k) {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return verigate.Errorf(verigate.EINVALID, "The form holds characters that are not text.")
			}
		}
	}
	return nil
}
