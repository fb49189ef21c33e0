package verification

import (
	"time"

	"github.com/verigate/verigate"
)

// moveSession moves a session to status `to`, or says why it cannot (the
// transitions are verigate.SessionStatus's).
func moveSession(sess *verigate.Session, to verigate.SessionStatus) error {
	if !sess.Status.CanBecome(to) {
		return verigate.Errorf(verigate.ECONFLICT, "The session is %s and cannot become %s.", sess.Status, to)
	}
	sess.Status = to
	return nil
}

// moveStep moves step st of ch's session to status `to`, adding to ch the
// update to write and, when its status changes, the step.updated event:
// every step status change announces itself, and none can forget to.
// A failed step's reason is set before, so that its event carries it.
func moveStep(ch *verigate.SessionChange, st *verigate.Step, to verigate.StepStatus, now time.Time) error {
	from := st.Status
	if !from.CanBecome(to) {
		return verigate.Errorf(verigate.ECONFLICT, "Step %d is %s and cannot become %s.", st.ID, from, to)
	}
	st.Status = to
	ch.Steps = append(ch.Steps, verigate.StepUpdate{Step: st, FromStatus: from})
	if from != to {
		ch.Events = append(ch.Events, verigate.NewStepUpdated(ch.Session, st, now))
	}
	return nil
}

// settle decides where a PROCESSING session goes once every step has
// ended, by the organization's review policy: any failed step sends it to
// review (or FAILED under "never"); all succeeded completes it (or sends
// it to review under "always"). It returns "" while steps are open.
func settle(steps []*verigate.Step, policy string) verigate.SessionStatus {
	if len(steps) == 0 {
		return ""
	}
	failed := false
	for _, st := range steps {
		if !st.Status.Ended() {
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
