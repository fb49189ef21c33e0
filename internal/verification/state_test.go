package verification

import (
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
)

func TestSessionMoves(t *testing.T) {
	all := verigate.SessionStatuses
	// The session state machine, written out.
	allowed := map[[2]verigate.SessionStatus]bool{
		{verigate.SessionPending, verigate.SessionProcessing}: true, {verigate.SessionPending, verigate.SessionExpired}: true,
		{verigate.SessionProcessing, verigate.SessionReviewing}: true, {verigate.SessionProcessing, verigate.SessionCompleted}: true,
		{verigate.SessionProcessing, verigate.SessionFailed}: true, {verigate.SessionProcessing, verigate.SessionExpired}: true,
		{verigate.SessionReviewing, verigate.SessionCompleted}: true, {verigate.SessionReviewing, verigate.SessionRejected}: true,
		// Cancelling ends any open session.
		{verigate.SessionPending, verigate.SessionCancelled}: true, {verigate.SessionProcessing, verigate.SessionCancelled}: true,
		{verigate.SessionReviewing, verigate.SessionCancelled}: true,
	}
	for _, from := range all {
		for _, to := range all {
			sess := &verigate.Session{Status: from}
			err := moveSession(sess, to)
			if ok := allowed[[2]verigate.SessionStatus{from, to}]; ok != (err == nil) {
				t.Errorf("%s → %s: err %v, allowed %v", from, to, err, ok)
			} else if err != nil && verigate.ErrorCode(err) != verigate.ECONFLICT {
				t.Errorf("%s → %s: %v is not a conflict", from, to, err)
			}
			// Ended sessions never move.
			if from.Ended() && from.CanBecome(to) {
				t.Errorf("ended %s can become %s", from, to)
			}
		}
	}
}

func TestStepMoves(t *testing.T) {
	for _, from := range verigate.StepStatuses {
		for _, to := range verigate.StepStatuses {
			st := &verigate.Step{ID: 7, Status: from}
			ch := verigate.SessionChange{Session: &verigate.Session{ID: 3}}
			err := moveStep(&ch, st, to, time.Now())
			if (err == nil) != from.CanBecome(to) || (from.Ended() && err == nil) {
				t.Errorf("%s → %s: err %v", from, to, err)
			}
			// A move writes its update and, when the status changes, announces it.
			wantEvents := 0
			if err == nil && from != to {
				wantEvents = 1
			}
			if err == nil && (len(ch.Steps) != 1 || ch.Steps[0].FromStatus != from || st.Status != to) ||
				err != nil && (len(ch.Steps) != 0 || st.Status != from) || len(ch.Events) != wantEvents {
				t.Fatalf("%s → %s: %+v, step %s", from, to, ch, st.Status)
			}
			if wantEvents == 1 {
				e, err := ch.Events[0].Render()
				if err != nil || e.Type != verigate.EventStepUpdated || e.Subject != "3" ||
					!strings.Contains(string(e.Payload), `"stepId":7,"stepStatus":"`+string(to)+`"`) {
					t.Errorf("%s → %s: event %+v %s, %v", from, to, e, e.Payload, err)
				}
			}
		}
	}
}

func TestSettle(t *testing.T) {
	steps := func(statuses ...verigate.StepStatus) []*verigate.Step {
		var out []*verigate.Step
		for _, s := range statuses {
			out = append(out, &verigate.Step{Status: s})
		}
		return out
	}
	for _, tc := range []struct {
		steps  []*verigate.Step
		policy string
		want   verigate.SessionStatus
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
