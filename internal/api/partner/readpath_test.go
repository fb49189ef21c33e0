package partner_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/verigate/verigate/internal/app/apptest"
)

// TestStepReadQueries bounds the queries of an applicant's step read:
// one authenticates the token (with its session's organization chain),
// one reads the step with its session, and one the state of its
// connection once it has one.
func TestStepReadQueries(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		_, csrf, step := f.bankStep(t)
		read := func(want int64) {
			t.Helper()
			ctx, n := apptest.CountQueries(context.Background())
			req := httptest.NewRequestWithContext(ctx, "GET", fmt.Sprintf("/partner/steps/%d", step), nil)
			req.Header.Set("x-csrf-token", csrf)
			if res := e.Raw(req); res.Status != 200 {
				t.Fatalf("step read: %d %s", res.Status, res.Body)
			}
			if got := atomic.LoadInt64(n); got > want {
				t.Errorf("GET /partner/steps/:id ran %d queries, want at most %d", got, want)
			}
		}
		read(2)
		r := e.Do("POST", "/partner/step/connect", map[string]any{"stepId": step, "credentials": map[string]string{"username": "otp", "password": "pass"}}, "x-csrf-token", csrf)
		if r.Status != 201 {
			t.Fatalf("connect: %d %s", r.Status, r.Body)
		}
		read(3)
	})
}
