package journey

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"

	"github.com/yeqown/go-qrcode/v2"
)

// qrSVG draws text as a QR code in inline SVG: one path of unit squares
// with a quiet zone of four, scaled by the page.
func qrSVG(text string) (template.HTML, error) {
	code, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return "", err
	}
	w := &svgWriter{}
	if err := code.Save(w); err != nil {
		return "", err
	}
	return template.HTML(w.svg), nil
}

type svgWriter struct{ svg string }

func (s *svgWriter) Write(m qrcode.Matrix) error {
	const quiet = 4
	size := m.Width() + 2*quiet
	var path strings.Builder
	m.Iterate(qrcode.IterDirection_ROW, func(x, y int, v qrcode.QRValue) {
		if v.IsSet() {
			fmt.Fprintf(&path, "M%d %dh1v1h-1z", x+quiet, y+quiet)
		}
	})
	s.svg = fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" class="qr" role="img" aria-label="QR code of the proof request" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		size, size, size, size, path.String())
	return nil
}

func (s *svgWriter) Close() error { return nil }

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
