package partner

import (
	"net/http"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
)

// idempotent gives fn Idempotency-Key semantics, keys being each API
// key's own.
func (h *Handler) idempotent(fn func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		scope := "partner-session:" + verigate.PrincipalFrom(r.Context()).ID
		return httpapi.Idempotent(h.Idempotency, scope, fn, w, r)
	}
}
