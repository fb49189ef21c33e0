package v1

import (
	"net/http"

	qr "github.com/piglig/go-qr"
)

// QR codes of a verification's candidate URL, for a partner to show an
// applicant who will finish on a phone. The URL holds the link token, so
// the image is as secret as the link: verifications:read, no caching.

// qrScale and qrBorder size the image: 8 px per module, the standard
// four-module quiet zone.
const (
	qrScale  = 8
	qrBorder = 4
)

func (h *Handler) verificationQR(format string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathVerification(r)
		if err != nil {
			return err
		}
		sess, token, err := h.Verification.CandidateLink(r.Context(), id)
		if err != nil {
			return err
		}
		manual, _ := h.Verification.Links(sess, token)
		code, err := qr.EncodeText(manual, qr.Medium)
		if err != nil {
			return err
		}
		var body []byte
		typ := "image/png"
		if format == "svg" {
			body, err = code.ToSVGBytes(qr.NewQrCodeImgConfig(qrScale, qrBorder, qr.WithSVGXMLHeader()))
			typ = "image/svg+xml"
		} else {
			body, err = code.ToPNGBytes(qr.NewQrCodeImgConfig(qrScale, qrBorder))
		}
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", typ)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		w.Write(body)
		return nil
	}
}
