package connect

import (
	"context"
	"encoding/json"
	"time"

	"github.com/verigate/verigate"
)

// A Connector logs in at one data source. It is driven step by step by
// the worker, which persists State between calls, so a login survives a
// restart: Start begins with the credentials; Resume continues after a
// Working outcome; Submit delivers a one-time code the login asked for.
type Connector interface {
	Start(ctx context.Context, creds Credentials) Outcome
	Resume(ctx context.Context, creds Credentials, state json.RawMessage) Outcome
	Submit(ctx context.Context, creds Credentials, state json.RawMessage, code string) Outcome
}

// Credentials are the login form's fields.
type Credentials map[string]string

// OutcomeKind is where a connector step ended.
type OutcomeKind int

const (
	Connected   OutcomeKind = iota + 1 // logged in; Data holds what was fetched
	Failed                             // the bank refused the login, for Reason
	NeedCode                           // the login waits for a code described by Descriptor
	WrongCode                          // the submitted code was refused; the same request stays open
	Working                            // still logging in; call Resume after After
	FetchFailed                        // logged in, but the data could not be fetched, for Reason
)

// Outcome is the result of one connector step.
type Outcome struct {
	Kind       OutcomeKind
	State      json.RawMessage
	Data       any
	Reason     string
	Descriptor verigate.Descriptor
	After      time.Duration
}
