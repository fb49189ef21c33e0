package verification

import (
	"slices"

	"github.com/verigate/verigate"
)

// The state machines, every transition in one place. A move not listed
// here is ECONFLICT.
var sessionMoves = map[string][]string{
	verigate.SessionPending:    {verigate.SessionProcessing, verigate.SessionExpired},
	verigate.SessionProcessing: {verigate.SessionReviewing, verigate.SessionCompleted, verigate.SessionFailed, verigate.SessionExpired},
	verigate.SessionReviewing:  {verigate.SessionCompleted, verigate.SessionRejected},
}

var stepMoves = map[string][]string{
	verigate.StepPending:    {verigate.StepInitiated, verigate.StepExpired},
	verigate.StepInitiated:  {verigate.StepInitiated, verigate.StepInProgress, verigate.StepVerified, verigate.StepCompleted, verigate.StepFailed, verigate.StepExpired},
	verigate.StepInProgress: {verigate.StepVerified, verigate.StepCompleted, verigate.StepFailed, verigate.StepExpired},
}

// moveSession moves a session to status `to`, or says why it cannot.
func moveSession(sess *verigate.Session, to string) error {
	if !slices.Contains(sessionMoves[sess.Status], to) {
		return verigate.Errorf(verigate.ECONFLICT, "The session is %s and cannot become %s.", sess.Status, to)
	}
	sess.Status = to
	return nil
}

// moveStep moves a step to status `to` and returns the update to write.
func moveStep(st *verigate.Step, to string) (verigate.StepUpdate, error) {
	from := st.Status
	if !slices.Contains(stepMoves[from], to) {
		return verigate.StepUpdate{}, verigate.Errorf(verigate.ECONFLICT, "Step %d is %s and cannot become %s.", st.ID, from, to)
	}
	st.Status = to
	return verigate.StepUpdate{Step: st, FromStatus: from}, nil
}

// settle decides where a PROCESSING session goes once every step has
// ended, by the organization's review policy: any failed step sends it to
// review (or FAILED under "never"); all succeeded completes it (or sends
// it to review under "always"). It returns "" while steps are open.
func settle(steps []*verigate.Step, policy string) string {
	if len(steps) == 0 {
		return ""
	}
	failed := false
	for _, st := range steps {
		if !verigate.StepEnded(st.Status) {
			return ""
		}
		if st.Status == verigate.StepFailed || st.Status == verigate.StepExpired {
			failed = true
		}
	}
	switch {
	case failed && policy == verigate.ReviewNever:
		return verigate.SessionFailed
	case failed:
		return verigate.SessionReviewing
	case policy == verigate.ReviewAlways:
		return verigate.SessionReviewing
	default:
		return verigate.SessionCompleted
	}
}
