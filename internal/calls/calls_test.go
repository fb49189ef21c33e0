package calls

import (
	"testing"

	"github.com/verigate/verigate"
)

func TestTransitions(t *testing.T) {
	statuses := []verigate.CallStatus{verigate.CallQueued, verigate.CallAssigned, verigate.CallEnrolled, verigate.CallRejected}
	want := map[string]map[verigate.CallStatus]verigate.CallStatus{
		"assign": {verigate.CallQueued: verigate.CallAssigned, verigate.CallAssigned: verigate.CallAssigned},
		"enroll": {verigate.CallAssigned: verigate.CallEnrolled},
		"reject": {verigate.CallAssigned: verigate.CallRejected, verigate.CallEnrolled: verigate.CallRejected},
	}
	for action, ok := range want {
		for _, from := range statuses {
			to, err := next(action, from)
			if exp, allowed := ok[from]; allowed {
				if err != nil || to != exp {
					t.Errorf("%s from %s = %q, %v; want %q", action, from, to, err, exp)
				}
			} else if verigate.ErrorCode(err) != verigate.ECONFLICT {
				t.Errorf("%s from %s = %q, %v; want ECONFLICT", action, from, to, err)
			}
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{"+1 (555) 010-2000": "+15550102000", "555.010.2000": "5550102000"} {
		if got, err := NormalizePhone("p", in); err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "12345", "+1-555-CALL-NOW", "++15550102000", "1234567890123456"} {
		if _, err := NormalizePhone("p", bad); err == nil {
			t.Errorf("NormalizePhone(%q) accepted", bad)
		}
	}
}

func TestAssessIsDeterministic(t *testing.T) {
	a, b := Assess("+15550102000"), Assess("+15550102000")
	if a != b || a.Score < 0 || a.Score > 100 || a.Level != verigate.RiskLevel(a.Score) {
		t.Fatalf("Assess: %+v %+v", a, b)
	}
	levels := map[string]bool{}
	for i := range 200 {
		levels[Assess("+1555010"+string(rune('0'+i%10))+string(rune('0'+i/10%10))+string(rune('0'+i/100))).Level] = true
	}
	if len(levels) != 3 {
		t.Fatalf("200 numbers cover levels %v, want all three", levels)
	}
}
