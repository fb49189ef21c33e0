package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/config"
)

// demoState is what `verigate demo --json` prints. Later surfaces add
// fields; none is ever removed.
type demoState struct {
	BaseURL      string            `json:"baseUrl"`
	Reseller     demoReseller      `json:"reseller"`
	Institutions []demoInstitution `json:"institutions"`
	Users        []demoUser        `json:"users"`
	APIKeys      []demoAPIKey      `json:"apiKeys"`
	// The objects below are what the printed lines act on. Each start
	// reuses those still in the state the lines need and replaces the
	// others, so restarts add nothing the lines do not use.
	//
	// Calls wait in the queues: one to enroll, one to reject, one for
	// Confirm's worked example, one for the dashboard's operator.
	Calls []demoCall `json:"calls"`
	// Verification is a test-mode session nobody has started: its link
	// is the applicant link.
	Verification *demoVerification `json:"verification"`
	// ReviewSessionID is a test-mode session waiting for a reviewer, for
	// the printed reject line.
	ReviewSessionID int64 `json:"reviewSessionId"`
	// DashboardReviewID is another, which no printed line touches: the
	// dashboard's reviewer approves it.
	DashboardReviewID int64 `json:"dashboardReviewSessionId"`
	// Connections holds a Sandbox Bank login waiting for a code.
	Connections []demoConnection `json:"connections"`
	// Webhook is the endpoint of the demo's built-in receiver.
	Webhook *demoWebhook `json:"webhook,omitempty"`
}

type demoConnection struct {
	AccountID   string            `json:"accountId"`
	Source      string            `json:"source"`
	SourceID    int64             `json:"sourceId"`
	Credentials map[string]string `json:"credentials"`
}

// The machine keys: exactly the seed's two scopes, and one that may also
// open and list accounts.
var (
	otpScopes     = []string{"otp:write", "status:read"}
	machineScopes = []string{"accounts:read", "accounts:write", "otp:write", "status:read"}
	// hookScopes are the webhook key's: endpoints, their log, the events.
	hookScopes = []string{"webhooks:read", "webhooks:write", "events:read"}
)

type demoVerification struct {
	SessionID      int64  `json:"sessionId"`
	ApplicantLink  string `json:"applicantLink"`
	DeepLink       string `json:"deepLink"`
	LinkToken      string `json:"linkToken"`
	SandboxSource  int64  `json:"sandboxSourceId"`
	ReviewPolicyOf string `json:"reviewPolicyOf"`
}

type demoCall struct {
	VoiceID     string `json:"voiceId"`
	Institution string `json:"institution"`
	PhoneNumber string `json:"phoneNumber"`
	CallerName  string `json:"callerName"`
}

type demoReseller struct {
	Key            string `json:"key"`
	AccessToken    string `json:"accessToken"`
	ServiceAccount struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	} `json:"serviceAccount"`
}

type demoInstitution struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

type demoUser struct {
	Email        string `json:"email"`
	Password     string `json:"password"`
	Role         string `json:"role"`
	Organization string `json:"organization"`
	Username     string `json:"username"`
}

type demoAPIKey struct {
	ID           string   `json:"id,omitempty"` // Konfir's client id (kept since /v1/verifications)
	Key          string   `json:"key"`
	Scopes       []string `json:"scopes"`
	Organization string   `json:"organization"`
	Mode         string   `json:"mode"`
}

const (
	demoDir         = "./verigate-demo"
	demoFile        = "demo.json" // in the data dir; holds the demo's plaintext credentials
	demoResellerKey = "demo-reseller"
)

func demo(ctx context.Context, args []string, e *env) error {
	// The demo keeps its data apart from a real server's unless told otherwise.
	getenv := e.getenv
	e2 := *e
	e2.getenv = func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		switch k {
		case "VERIGATE_DATA_DIR":
			return demoDir
		case "VERIGATE_WEBHOOK_ALLOW_PRIVATE": // the built-in receiver is on loopback
			return "true"
		}
		return ""
	}
	c := newCmdline("demo", "[--json] [flags]", `Runs the server with a demo tenant (data in `+demoDir+` unless VERIGATE_DATA_DIR or
--data-dir says otherwise) and prints its credentials and shell lines that
exercise every surface. Running it again reuses the data directory.`, &e2)
	asJSON := c.Bool("json", false, "print one JSON object with the credentials once the server is ready")
	if err := c.parse(args); err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	a, ln, err := start(ctx, cfg, e)
	if err != nil {
		return err
	}
	defer a.Close()

	st, err := setUpDemo(ctx, a, e)
	if err != nil {
		return err
	}
	// The receiver prints what it receives after the tour (on stderr
	// under --json, whose stdout is the one JSON object).
	received := e.stdout
	if *asJSON {
		received = e.stderr
	}
	stopReceiver, err := startDemoReceiver(ctx, a, st, received)
	if err != nil {
		return err
	}
	defer stopReceiver() // after Serve: the worker has stopped sending
	if err := saveDemo(filepath.Join(a.Config.DataDir, demoFile), st); err != nil {
		return err
	}
	if *asJSON {
		if err := json.NewEncoder(e.stdout).Encode(st); err != nil {
			return err
		}
	} else {
		inst, err := a.Access.Organization(verigate.WithPrincipal(ctx, cliPrincipal), "demo-cu")
		if err != nil {
			return err
		}
		printDemo(e.stdout, st, adminEnv(cfg), a.Calls.IngestSecret(inst), a.Verify.Now())
	}
	return a.Serve(ctx, ln)
}

// setUpDemo seeds the demo tenant into a new data directory, or reuses
// the one there, and readies the objects the printed lines act on.
func setUpDemo(ctx context.Context, a *app.App, e *env) (*demoState, error) {
	ctx = verigate.WithPrincipal(ctx, cliPrincipal)
	statePath := filepath.Join(a.Config.DataDir, demoFile)
	st, err := loadDemo(statePath)
	switch {
	case err == nil:
		fmt.Fprintf(e.stderr, "Reusing the demo in %s (delete that directory to start afresh).\n", a.Config.DataDir)
	case errors.Is(err, os.ErrNotExist):
		if st, err = seedDemo(ctx, a); err != nil {
			return nil, fmt.Errorf("set up the demo: %w", err)
		}
		if err := saveDemo(statePath, st); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	st.BaseURL = a.Config.PublicURL
	if err := refreshDemo(ctx, a, st); err != nil {
		return nil, err
	}
	return st, saveDemo(statePath, st)
}

func loadDemo(path string) (*demoState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st demoState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v); delete its directory and run the demo again", path, err)
	}
	return &st, nil
}

func saveDemo(path string, st *demoState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func demoPassword() string {
	b := make([]byte, 15)
	rand.Read(b)
	return "demo-" + base64.RawURLEncoding.EncodeToString(b)
}

// demoPeople: one user per built-in role; the operator is the seed's jdoe.
var demoPeople = []struct{ role, username, org string }{
	{verigate.RoleOwner, "olivia", demoResellerKey},
	{verigate.RoleAdmin, "adam", demoResellerKey},
	{verigate.RoleOperator, "jdoe", "demo-cu"},
	{verigate.RoleReviewer, "rachel", demoResellerKey}, // where the partner's sessions are
	{verigate.RoleDeveloper, "devon", demoResellerKey},
	{verigate.RoleViewer, "victor", demoResellerKey},
}

// demoScopes are the scopes of the demo's API keys.
var demoScopes = []string{"verifications:create", "verifications:read", "verifications:update", "verifications:review", "sources:read"}

func seedDemo(ctx context.Context, a *app.App) (*demoState, error) {
	if _, err := a.Access.Organization(ctx, demoResellerKey); err == nil {
		return nil, errors.New("the database already holds a demo reseller but " + demoFile +
			" is missing, so an earlier set-up did not finish; delete the data directory and run the demo again")
	}
	st := &demoState{}
	if _, err := a.Access.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgReseller, Key: demoResellerKey, Name: "Demo Reseller"}); err != nil {
		return nil, err
	}
	for _, inst := range []struct{ key, name, core string }{
		{"demo-cu", "Demo Credit Union", "Symitar"},
		{"demo-bank", "Demo Bank", "Jack Henry SilverLake"},
		{"acme-cu", "Acme Credit Union", "Fiserv DNA"}, // the seed's worked example names acme-cu
	} {
		if _, err := a.Access.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgInstitution, Key: inst.key,
			Name: inst.name, ParentKey: demoResellerKey, Core: inst.core}); err != nil {
			return nil, err
		}
		st.Institutions = append(st.Institutions, demoInstitution{Key: inst.key, Name: inst.name})
	}
	st.Reseller.Key = demoResellerKey
	st.Reseller.ServiceAccount.Email = "svc@" + demoResellerKey + ".test"
	st.Reseller.ServiceAccount.Password = demoPassword()
	if _, err := a.Access.CreateUser(ctx, access.UserInput{OrgKey: demoResellerKey, Email: st.Reseller.ServiceAccount.Email,
		Username: "svc", Password: st.Reseller.ServiceAccount.Password, Roles: []string{verigate.RoleOwner}, ServiceAccount: true}); err != nil {
		return nil, err
	}
	token, _, err := a.Access.IssueAccessToken(ctx, demoResellerKey)
	if err != nil {
		return nil, err
	}
	st.Reseller.AccessToken = token
	for _, p := range demoPeople {
		u := demoUser{Email: p.role + "@" + p.org + ".test", Password: demoPassword(), Role: p.role, Organization: p.org, Username: p.username}
		if _, err := a.Access.CreateUser(ctx, access.UserInput{OrgKey: p.org, Email: u.Email, Username: u.Username,
			Password: u.Password, Roles: []string{p.role}}); err != nil {
			return nil, err
		}
		st.Users = append(st.Users, u)
	}
	// Finished sessions wait for a reviewer, so the tour can approve one.
	if err := a.Verify.SetReviewPolicy(ctx, demoResellerKey, verigate.ReviewAlways); err != nil {
		return nil, err
	}
	for _, mode := range []verigate.Mode{verigate.ModeLive, verigate.ModeTest} {
		key, k, err := a.Access.CreateAPIKey(ctx, access.APIKeyInput{OrgKey: demoResellerKey, UserEmail: st.Reseller.ServiceAccount.Email,
			Name: "demo " + string(mode), Scopes: demoScopes, Mode: mode})
		if err != nil {
			return nil, err
		}
		st.APIKeys = append(st.APIKeys, demoAPIKey{Key: key, Scopes: k.Scopes, Organization: demoResellerKey, Mode: string(mode)})
	}
	// Sandbox Bank is test-only, so the machine keys are test keys.
	for _, scopes := range [][]string{otpScopes, machineScopes} {
		key, k, err := a.Access.CreateAPIKey(ctx, access.APIKeyInput{OrgKey: demoResellerKey, UserEmail: st.Reseller.ServiceAccount.Email,
			Name: "demo machine", Scopes: scopes, Mode: verigate.ModeTest})
		if err != nil {
			return nil, err
		}
		st.APIKeys = append(st.APIKeys, demoAPIKey{Key: key, Scopes: k.Scopes, Organization: demoResellerKey, Mode: string(verigate.ModeTest)})
	}
	return st, nil
}

// demoKey returns the demo key with exactly these scopes.
func (st *demoState) demoKey(scopes []string) string {
	for _, k := range st.APIKeys {
		if strings.Join(k.Scopes, ",") == strings.Join(scopes, ",") && k.Mode == string(verigate.ModeTest) {
			return k.Key
		}
	}
	return ""
}

// adminEnv is what the printed admin lines set so that they open the
// demo's database: its data directory, and its database URL when that is
// not the directory's SQLite file.
func adminEnv(cfg *config.Config) string {
	env := "VERIGATE_DATA_DIR=" + shellQuote(cfg.DataDir)
	if cfg.DatabaseURL != filepath.Join(cfg.DataDir, "verigate.db") {
		env += " VERIGATE_DATABASE_URL=" + shellQuote(cfg.DatabaseURL)
	}
	return env
}

// shellQuote quotes s for bash when it holds anything but plain path
// characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
