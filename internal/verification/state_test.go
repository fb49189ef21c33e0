package verification

import (
	"strings"
	"testing"

	"github.com/verigate/verigate"
)

func TestSessionMoves(t *testing.T) {
	all := verigate.SessionStatuses
	allowed := map[[2]string]bool{}
	for from, tos := range sessionMoves {
		for _, to := range tos {
			allowed[[2]string{from, to}] = true
		}
	}
	for _, from := range all {
		for _, to := range all {
			sess := &verigate.Session{Status: from}
			err := moveSession(sess, to)
			if ok := allowed[[2]string{from, to}]; ok != (err == nil) {
				t.Errorf("%s → %s: err %v, allowed %v", from, to, err, ok)
			} else if err != nil && verigate.ErrorCode(err) != verigate.ECONFLICT {
				t.Errorf("%s → %s: %v is not a conflict", from, to, err)
			}
		}
	}
	// Ended sessions never move.
	for _, s := range []string{verigate.SessionCompleted, verigate.SessionRejected, verigate.SessionFailed, verigate.SessionExpired} {
		if len(sessionMoves[s]) != 0 {
			t.Errorf("%s can move", s)
		}
	}
}

func TestSettle(t *testing.T) {
	steps := func(statuses ...string) []*verigate.Step {
		var out []*verigate.Step
		for _, s := range statuses {
			out = append(out, &verigate.Step{Status: s})
		}
		return out
	}
	for _, tc := range []struct {
		steps  []*verigate.Step
		policy string
		want   string
	}{
		{nil, verigate.ReviewOnFailure, ""},
		{steps(verigate.StepVerified, verigate.StepInitiated), verigate.ReviewOnFailure, ""},
		{steps(verigate.StepVerified, verigate.StepCompleted), verigate.ReviewOnFailure, verigate.SessionCompleted},
		{steps(verigate.StepVerified), verigate.ReviewNever, verigate.SessionCompleted},
		{steps(verigate.StepVerified), verigate.ReviewAlways, verigate.SessionReviewing},
		{steps(verigate.StepVerified, verigate.StepFailed), verigate.ReviewOnFailure, verigate.SessionReviewing},
		{steps(verigate.StepExpired), verigate.ReviewAlways, verigate.SessionReviewing},
		{steps(verigate.StepFailed), verigate.ReviewNever, verigate.SessionFailed},
	} {
		if got := settle(tc.steps, tc.policy); got != tc.want {
			t.Errorf("settle(%v, %s) = %q, want %q", tc.steps, tc.policy, got, tc.want)
		}
	}
}

func TestSearchRanking(t *testing.T) {
	src := func(name, cat, desc string) *verigate.DataSource {
		return &verigate.DataSource{Name: name, SourceName: name, Category: cat, Description: desc}
	}
	list := []*verigate.DataSource{src("Gusto", "Payroll", "pay stubs"), src("PayPal", "Payments", "income"),
		src("Paychex", "Payroll", ""), src("Chase", "Bank", "account payouts"), src("Pay", "Other", "")}
	got := search(list, "PAY")
	var names []string
	for _, s := range got {
		names = append(names, s.Name)
	}
	want := "Pay,Paychex,PayPal,Gusto,Chase"
	if j := strings.Join(names, ","); j != want {
		t.Fatalf("search order %s, want %s", j, want)
	}
	if len(search(list, "zzz")) != 0 {
		t.Fatal("matched nothing-like text")
	}
}
