package connect

import (
	"context"
	"encoding/json"
	"time"

	"github.com/verigate/verigate"
)

// SandboxBank is the test-mode bank connector. Its fixed credentials cover
// every path (password "pass" unless said otherwise):
//
//	username  behaviour
//	good      connects at once
//	otp       asks a numeric 6-digit code; 123456 is right
//	alpha     asks an alphanumeric 8-character code; AB12CD34 is right
//	twice     asks two codes in a row: 123456, then 654321
//	locked    fails: the account is locked (any password)
//	slow      connects after about 3 seconds
//	nodata    logs in, then fails to fetch the data (a scrape failure)
//
// Any other username, or a wrong password, fails with "invalid credentials".
type SandboxBank struct {
	// SlowLogin is how long "slow" takes (3 s by default).
	SlowLogin time.Duration
}

type sandboxState struct {
	Stage string `json:"stage"` // "code1", "code2", "slow"
}

func state(s sandboxState) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// SandboxCodes are the right codes, by username and stage.
var SandboxCodes = map[string]string{"otp:code1": "123456", "alpha:code1": "AB12CD34", "twice:code1": "123456", "twice:code2": "654321"}

// Start begins a login.
func (b SandboxBank) Start(_ context.Context, c Credentials) Outcome {
	user, pw := c["username"], c["password"]
	if user == "locked" {
		return Outcome{Kind: Failed, Reason: "account locked: too many failed logins at the bank"}
	}
	if pw != "pass" {
		return Outcome{Kind: Failed, Reason: "invalid credentials"}
	}
	numeric := verigate.Descriptor{Length: 6, Type: "numeric", Purpose: "login"}
	switch user {
	case "good":
		return Outcome{Kind: Connected, Data: sandboxData(user)}
	case "otp", "twice":
		return Outcome{Kind: NeedCode, Descriptor: numeric, State: state(sandboxState{Stage: "code1"})}
	case "alpha":
		return Outcome{Kind: NeedCode, Descriptor: verigate.Descriptor{Length: 8, Type: "alphanumeric", Purpose: "login"}, State: state(sandboxState{Stage: "code1"})}
	case "nodata":
		return Outcome{Kind: FetchFailed, Reason: "logged in, but the bank's data could not be read"}
	case "slow":
		d := b.SlowLogin
		if d == 0 {
			d = 3 * time.Second
		}
		return Outcome{Kind: Working, After: d, State: state(sandboxState{Stage: "slow"})}
	}
	return Outcome{Kind: Failed, Reason: "invalid credentials"}
}

// Resume finishes a slow login.
func (b SandboxBank) Resume(_ context.Context, c Credentials, raw json.RawMessage) Outcome {
	var st sandboxState
	json.Unmarshal(raw, &st)
	if st.Stage == "slow" {
		return Outcome{Kind: Connected, Data: sandboxData(c["username"])}
	}
	return Outcome{Kind: Failed, Reason: "the login was interrupted"}
}

// Submit checks a one-time code.
func (b SandboxBank) Submit(_ context.Context, c Credentials, raw json.RawMessage, code string) Outcome {
	var st sandboxState
	json.Unmarshal(raw, &st)
	user := c["username"]
	want, ok := SandboxCodes[user+":"+st.Stage]
	if !ok {
		return Outcome{Kind: Failed, Reason: "no code was expected"}
	}
	if code != want {
		return Outcome{Kind: WrongCode, State: raw}
	}
	if user == "twice" && st.Stage == "code1" {
		return Outcome{Kind: NeedCode, Descriptor: verigate.Descriptor{Length: 6, Type: "numeric", Purpose: "confirm transfer of data"},
			State: state(sandboxState{Stage: "code2"})}
	}
	return Outcome{Kind: Connected, Data: sandboxData(user)}
}

func sandboxData(user string) map[string]any {
	return map[string]any{
		"accountHolder": "Sandbox " + user,
		"accounts": []map[string]any{
			{"id": "chk-001", "name": "Everyday Checking", "type": "checking", "balance": 2840.55, "currency": "USD"},
			{"id": "sav-002", "name": "Savings", "type": "savings", "balance": 10000.00, "currency": "USD"},
		},
		"income": map[string]any{"monthlyAverage": 5400.00, "currency": "USD", "months": 12},
	}
}
