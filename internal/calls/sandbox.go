package calls

import (
	"context"
	"hash/fnv"
	"time"

	"github.com/verigate/verigate"
)

// A VoiceProvider feeds calls into the queue. The sandbox provider below
// simulates one; a real telephony integration posts signed reports to the
// ingestion endpoint, which calls Ingest with Provider set to its name.
type VoiceProvider interface {
	Name() string
	// Report describes a call from phone as the provider would.
	Report(phone, callerName string, at time.Time) IncomingCall
}

// Assess is the built-in risk score of a call the provider did not score:
// deterministic in the phone number (FNV-1a of its digits, modulo 101).
func Assess(phone string) verigate.Risk {
	h := fnv.New32a()
	h.Write([]byte(phone))
	score := int(h.Sum32() % 101)
	return verigate.Risk{Score: score, Level: verigate.RiskLevel(score)}
}

// Sandbox is the built-in simulated voice provider.
type Sandbox struct{}

// Name is "sandbox".
func (Sandbox) Name() string { return "sandbox" }

// Report simulates a call that reached the queue at `at`: it rang 25
// seconds before, was answered, went through the IVR, and has a risk score
// derived from the phone number.
func (Sandbox) Report(phone, callerName string, at time.Time) IncomingCall {
	risk := Assess(phone)
	at = at.Add(-25 * time.Second)
	return IncomingCall{Provider: "sandbox", PhoneNumber: phone, CallerName: callerName, ReceivedAt: at, Risk: &risk,
		Events: []verigate.CallEvent{
			{Type: "call.ringing", At: at},
			{Type: "call.answered", At: at.Add(3 * time.Second)},
			{Type: "ivr.completed", At: at.Add(21 * time.Second), Detail: "caller chose: account services"},
		}}
}

// Simulate puts a sandbox call from phone into the institution's queue.
func (s *Service) Simulate(ctx context.Context, inst *verigate.Organization, phone, callerName string) (*verigate.PhoneCall, error) {
	norm, err := NormalizePhone("phone", phone)
	if err != nil {
		return nil, err
	}
	return s.Ingest(ctx, inst, Sandbox{}.Report(norm, callerName, s.now()))
}
