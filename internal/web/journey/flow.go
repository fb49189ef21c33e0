package journey

import (
	"fmt"
	"strings"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/verification"
)

// next is where an applicant resumes, decided from the session alone:
// the consent until given, the choice of sources until one is chosen,
// then the first step not yet ended — its page, or the progress page
// while its connection works without needing the applicant — and the
// done page once every step has ended or the session is over.
func next(j *verification.Journey) string {
	if !j.Open {
		return sessionPath(j.SessionID, "done")
	}
	if j.Consent == nil {
		return sessionPath(j.SessionID, "consent")
	}
	if len(active(j)) == 0 {
		if j.Status == verigate.SessionPending || j.Status == verigate.SessionProcessing {
			return sessionPath(j.SessionID, "sources")
		}
		return sessionPath(j.SessionID, "done")
	}
	js := active(j)[0]
	st := js.Step
	switch {
	case st.Type == verigate.SourceReclaim:
		return stepPath(st.ID, "reclaim")
	case st.Status == verigate.StepInProgress && !awaitingCode(js):
		return sessionPath(j.SessionID, "progress")
	}
	return stepPath(st.ID, "connect")
}

// active are the steps not yet ended, in the order chosen.
func active(j *verification.Journey) []verification.JourneyStep {
	var out []verification.JourneyStep
	for _, js := range j.Steps {
		if !js.Step.Status.Ended() {
			out = append(out, js)
		}
	}
	return out
}

func awaitingCode(js verification.JourneyStep) bool {
	return js.Login != nil && js.Login.Pending != nil
}

// state is a short fingerprint of what the progress page shows; the live
// stream sends it when it changes, and the page reloads.
func state(j *verification.Journey) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", j.Status)
	for _, js := range j.Steps {
		fmt.Fprintf(&b, ".%d:%s", js.Step.ID, js.Step.Status)
		if awaitingCode(js) {
			// The request and its attempts: a code refused (one more
			// attempt on the same request) is a change too.
			b.WriteString(":code:" + sentMark(js.Login.Pending))
		}
	}
	return b.String()
}
