package ui

import (
	"fmt"
	"html/template"
	"strings"

	qr "github.com/piglig/go-qr"
)

// QRSVG draws text as a QR code in inline SVG: one path of unit squares
// with a quiet zone of four, scaled by the page. Inline (not the library's
// SVG document) so it carries the page's accessible name and needs no
// image route.
func QRSVG(text, label string) (template.HTML, error) {
	code, err := qr.EncodeText(text, qr.Medium)
	if err != nil {
		return "", err
	}
	const quiet = 4
	n := code.Size()
	size := n + 2*quiet
	var path strings.Builder
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if code.Module(x, y) {
				fmt.Fprintf(&path, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	return template.HTML(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" class="qr" role="img" aria-label="%s" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		size, size, template.HTMLEscapeString(label), size, size, path.String())), nil
}
