package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// fixture is what the cases act on: credentials of every kind, seeded
// through the binary's admin CLI and its HTTP APIs as a user would.
type fixture struct {
	base          string
	client        *http.Client // for seeding, apart from the load's pool
	partnerKey    string       // test mode: sessions (Partner API)
	machineKey    string       // test mode: accounts, codes, status (/v1)
	accessToken   string       // the reseller's onboarding access token
	ssoToken      string       // the service account's SSO token (/external)
	userToken     string       // the owner's embedded token (/token, /users)
	bankSource    int64        // Sandbox Bank
	reclaimSource int64        // Sandbox Reclaim
	statusAccount string       // a Sandbox Bank login waiting for a code
	steps         []csrfStep   // test-mode sessions, each with a step and the applicant's CSRF token
}

type csrfStep struct {
	csrf   string
	stepID int64
}

const benchPassword = "bench-password-0123456789"

// keyRate lets the bench's keys through at any speed it can reach
// (1,000,000 a second), so no case measures 429s.
const keyRate = "1s,1000000,0s"

// seedAdmin creates the tenant with the admin CLI, before the server runs.
func seedAdmin(ctx context.Context, s *server) (*fixture, error) {
	f := &fixture{base: s.base, client: &http.Client{Transport: newTransport(50), Timeout: 60 * time.Second}}
	steps := [][]string{
		{"org", "create", "--kind", "reseller", "--key", "bench", "--name", "Bench Reseller"},
		{"org", "create", "--kind", "institution", "--key", "bench-cu", "--name", "Bench Credit Union", "--parent", "bench"},
		{"user", "create", "--org", "bench", "--email", "svc@bench.test", "--username", "svc", "--role", "owner", "--service-account"},
		{"user", "create", "--org", "bench", "--email", "owner@bench.test", "--username", "owner", "--role", "owner"},
	}
	for _, args := range steps {
		if _, err := s.admin(ctx, benchPassword+"\n", args...); err != nil {
			return nil, err
		}
	}
	var tok struct {
		AccessToken string `json:"accessToken"`
	}
	if err := adminJSON(ctx, s, &tok, "access-token", "issue", "--org", "bench"); err != nil {
		return nil, err
	}
	f.accessToken = tok.AccessToken
	for _, k := range []struct {
		dst    *string
		scopes string
	}{
		{&f.partnerKey, "verifications:create,verifications:read"},
		{&f.machineKey, "accounts:read,accounts:write,otp:write,status:read"},
	} {
		var key struct {
			Key string `json:"key"`
		}
		if err := adminJSON(ctx, s, &key, "api-key", "create", "--org", "bench", "--user", "svc@bench.test",
			"--scopes", k.scopes, "--mode", "test", "--rate-limit", keyRate, "--name", "bench"); err != nil {
			return nil, err
		}
		*k.dst = key.Key
	}
	var sources []struct {
		ID         int64  `json:"id"`
		SourceName string `json:"sourceName"`
	}
	if err := adminJSON(ctx, s, &sources, "sources", "list"); err != nil {
		return nil, err
	}
	for _, src := range sources {
		switch src.SourceName {
		case "Sandbox Bank":
			f.bankSource = src.ID
		case "Sandbox Reclaim":
			f.reclaimSource = src.ID
		}
	}
	if f.bankSource == 0 || f.reclaimSource == 0 {
		return nil, fmt.Errorf("the catalog lacks Sandbox Bank or Sandbox Reclaim")
	}
	return f, nil
}

func adminJSON(ctx context.Context, s *server, out any, args ...string) error {
	b, err := s.admin(ctx, "", args...)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// seedHTTP signs in over HTTP and readies the status account and the
// sessions of the CSRF case; the server runs.
func (f *fixture) seedHTTP(ctx context.Context, csrfSessions int) error {
	var sso struct {
		Token string `json:"token"`
	}
	if err := f.call(ctx, "POST", "/external/token/request", []string{"accessToken", f.accessToken},
		map[string]string{"email": "svc@bench.test", "password": benchPassword}, 200, &sso); err != nil {
		return err
	}
	f.ssoToken = sso.Token
	var user struct {
		Token string `json:"token"`
	}
	if err := f.call(ctx, "POST", "/token", nil, map[string]string{"email": "owner@bench.test", "password": benchPassword}, 200, &user); err != nil {
		return err
	}
	f.userToken = user.Token
	ids, err := f.awaitingAccounts(ctx, 1)
	if err != nil {
		return err
	}
	f.statusAccount = ids[0]
	f.steps = make([]csrfStep, csrfSessions)
	return parallel(ctx, csrfSessions, 20, func(i int) error {
		var err error
		f.steps[i], err = f.newStep(ctx)
		return err
	})
}

// sessionBody is a session create's body, expiring in a week.
func sessionBody() []byte {
	b, _ := json.Marshal(map[string]any{"params": map[string]any{
		"expiryDate": time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339), "applicantId": "bench-applicant",
		"applicantFirstName": "Ben", "applicantLastName": "Mark", "applicantEmail": "ben.mark@example.com"}})
	return b
}

// newStep creates a test-mode session, opens its link for a CSRF token
// and selects Sandbox Reclaim, which makes one step.
func (f *fixture) newStep(ctx context.Context) (csrfStep, error) {
	var sess struct {
		Data struct {
			ID               int64 `json:"id"`
			VerificationLink struct {
				Token string `json:"token"`
			} `json:"verificationLink"`
		} `json:"data"`
	}
	if err := f.call(ctx, "POST", "/partner/session", []string{"x-api-key", f.partnerKey}, json.RawMessage(sessionBody()), 201, &sess); err != nil {
		return csrfStep{}, err
	}
	id := strconv.FormatInt(sess.Data.ID, 10)
	var link struct {
		CSRF string `json:"csrfToken"`
	}
	if err := f.call(ctx, "GET", "/partner/verification/verify?token="+sess.Data.VerificationLink.Token+"&sessionId="+id,
		[]string{"Accept", "application/json"}, nil, 200, &link); err != nil {
		return csrfStep{}, err
	}
	h := []string{"x-csrf-token", link.CSRF}
	if err := f.call(ctx, "POST", "/partner/step/select-data-source", h,
		map[string]any{"dataSourceIds": []int64{f.reclaimSource}, "sessionId": sess.Data.ID}, 201, nil); err != nil {
		return csrfStep{}, err
	}
	var steps struct {
		Data struct {
			Steps []struct {
				ID int64 `json:"id"`
			} `json:"steps"`
		} `json:"data"`
	}
	if err := f.call(ctx, "GET", "/partner/steps/session/"+id, h, nil, 200, &steps); err != nil {
		return csrfStep{}, err
	}
	if len(steps.Data.Steps) != 1 {
		return csrfStep{}, fmt.Errorf("session %s has %d steps, want 1", id, len(steps.Data.Steps))
	}
	return csrfStep{csrf: link.CSRF, stepID: steps.Data.Steps[0].ID}, nil
}

// awaitingAccounts opens n Sandbox Bank logins (user "otp") and waits
// until the server's worker has each one waiting for its code.
func (f *fixture) awaitingAccounts(ctx context.Context, n int) ([]string, error) {
	key := []string{"x-api-key", f.machineKey}
	ids := make([]string, n)
	body := map[string]any{"source_id": f.bankSource, "credentials": map[string]string{"username": "otp", "password": "pass"}, "label": "bench"}
	if err := parallel(ctx, n, 20, func(i int) error {
		var acc struct {
			ID string `json:"account_id"`
		}
		err := f.call(ctx, "POST", "/v1/accounts", key, body, 201, &acc)
		ids[i] = acc.ID
		return err
	}); err != nil {
		return nil, err
	}
	waiting := ids
	deadline := time.Now().Add(time.Minute + time.Duration(n)*20*time.Millisecond)
	for len(waiting) > 0 {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d Sandbox Bank logins still not waiting for a code", len(waiting), n)
		}
		var mu sync.Mutex
		var still []string
		if err := parallel(ctx, len(waiting), 20, func(i int) error {
			var acc struct {
				Status string `json:"status"`
			}
			if err := f.call(ctx, "GET", "/v1/accounts/"+waiting[i], key, nil, 200, &acc); err != nil {
				return err
			}
			switch acc.Status {
			case "awaiting_code":
			case "queued", "running":
				mu.Lock()
				still = append(still, waiting[i])
				mu.Unlock()
			default:
				return fmt.Errorf("account %s is %s, not waiting for a code", waiting[i], acc.Status)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if waiting = still; len(waiting) > 0 {
			if err := f.wakeWorker(ctx); err != nil {
				return nil, err
			}
		}
	}
	return ids, nil
}

// codesDelivered waits until the worker has finished the logins these
// accounts' codes resumed (each connected or failed), so the writes a
// submitted code sets off do not spill into the next case.
func (f *fixture) codesDelivered(ctx context.Context, ids []string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for waiting := ids; len(waiting) > 0; {
		var mu sync.Mutex
		var still []string
		if err := parallel(ctx, len(waiting), 20, func(i int) error {
			var st struct {
				Status string `json:"status"`
			}
			if err := f.call(ctx, "GET", "/v1/accounts/"+waiting[i], []string{"x-api-key", f.machineKey}, nil, 200, &st); err != nil {
				return err
			}
			if st.Status != "connected" && st.Status != "failed" {
				mu.Lock()
				still = append(still, waiting[i])
				mu.Unlock()
			}
			return nil
		}); err != nil {
			return err
		}
		if waiting = still; len(waiting) > 0 {
			if time.Now().After(deadline) {
				return fmt.Errorf("%d accounts still not connected two minutes after their codes", len(waiting))
			}
			if err := f.wakeWorker(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// wakeWorker opens a login that connects at once, which wakes the
// server's worker: it takes a batch of due logins per wake-up and
// otherwise polls once a second. Seeding and settling are not timed, so
// they need not wait for the poll.
func (f *fixture) wakeWorker(ctx context.Context) error {
	body := map[string]any{"source_id": f.bankSource, "credentials": map[string]string{"username": "good", "password": "pass"}, "label": "bench wake-up"}
	if err := f.call(ctx, "POST", "/v1/accounts", []string{"x-api-key", f.machineKey}, body, 201, nil); err != nil {
		return err
	}
	time.Sleep(50 * time.Millisecond)
	return nil
}

// call sends one request (header: name, value pairs; body as JSON) and
// decodes the answer into out when it has the wanted status.
func (f *fixture) call(ctx context.Context, method, path string, header []string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, f.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %.300s", method, path, resp.StatusCode, want, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// parallel runs fn(0…n-1) on conc goroutines; the first error stops it.
func parallel(ctx context.Context, n, conc int, fn func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}
