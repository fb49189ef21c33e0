package journey_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/verigate/verigate/internal/app/apptest"
)

// reclaimStep opens a session's journey up to its Reclaim step's page and
// returns the browser, the session, the step, the callback path the
// page's proof request names, and a sandbox proof for the step (JSON).
func reclaimStep(t *testing.T, f *fixture) (b *browser, sess, step int64, callback, proof string) {
	t.Helper()
	s := f.session(t, nil)
	b, _ = f.open(t, s)
	b.post(fmt.Sprintf("/journey/sessions/%d/consent", s.ID), nil)
	p := b.post(fmt.Sprintf("/journey/sessions/%d/sources", s.ID), url.Values{"source": {fmt.Sprint(sourceID(t, f.e, "Sandbox Reclaim"))}})
	step = stepID(t, p.Body)
	p = b.post(fmt.Sprintf("/journey/steps/%d/initiate", step), nil)
	m := regexp.MustCompile(`href="([^"]+)">Open on this phone`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no deep link:\n%s", p.Body)
	}
	deep, err := url.Parse(htmlUnescape(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := url.Parse(deep.Query().Get("callbackUrl"))
	if err != nil || cb.Host != "verigate.test" || !regexp.MustCompile(fmt.Sprintf(`^/journey/steps/%d/callback/[A-Za-z0-9_-]{43}$`, step)).MatchString(cb.Path) {
		t.Fatalf("the proof request's callbackUrl is %q", deep.Query().Get("callbackUrl"))
	}
	p = b.get(fmt.Sprintf("/journey/steps/%d/sandbox", step))
	proof = htmlUnescape(regexp.MustCompile(`name="proof" value="([^"]+)"`).FindStringSubmatch(p.Body)[1])
	return b, s.ID, step, cb.Path, proof
}

// post sends body to path with no cookie, as the Reclaim app does.
func post(e *apptest.Env, path, contentType, body string) *apptest.Response {
	e.T.Helper()
	return e.Do("POST", path, body, "Content-Type", contentType)
}

// encodeURIComponent is how the Reclaim SDK sends a proof by default.
func encodeURIComponent(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// stepRows is what a proof submission writes: a refused one leaves it.
func stepRows(t *testing.T, e *apptest.Env) string {
	var keep []string
	for _, line := range strings.Split(e.Dump(), "\n") {
		for _, table := range []string{"verification_sessions:", "verification_steps:", "proofs:", "events:", "audit_events:"} {
			if strings.HasPrefix(line, table) {
				keep = append(keep, line)
			}
		}
	}
	return strings.Join(keep, "\n")
}

func wantJSON(t *testing.T, r *apptest.Response, status int, text string) {
	t.Helper()
	if r.Status != status || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || !strings.Contains(string(r.Body), text) {
		t.Fatalf("%d %s %s, want %d with %q", r.Status, r.Header.Get("Content-Type"), r.Body, status, text)
	}
}

// TestReclaimCallback: the Reclaim app posts the proof to the step's
// callback URL with no cookie; the step is verified, and the browser's
// journey moves on to done. A wrong key is a missing step; a body that is
// no proof, a tampered proof and a replay are refused in JSON, never a
// 500, and a refusal writes nothing (a proof that does not verify fails
// the step, as on every way in, and never verifies it).
func TestReclaimCallback(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		b, sess, step, cb, proof := reclaimStep(t, f)
		_, _, step2, cb2, proof2 := reclaimStep(t, f)
		before := stepRows(t, e)

		// A wrong key answers exactly like a missing step.
		key := cb[strings.LastIndex(cb, "/")+1:]
		missing := post(e, fmt.Sprintf("/journey/steps/%d/callback/%s", 999999, key), "application/json", proof)
		wantJSON(t, missing, 404, "Step not found")
		flipped := []byte(key)
		flipped[0] ^= 1
		for _, path := range []string{
			fmt.Sprintf("/journey/steps/%d/callback/%s", step, flipped),
			fmt.Sprintf("/journey/steps/%d/callback/x", step),
			fmt.Sprintf("/journey/steps/%d/callback/%s", step, strings.Repeat("k", 101)),
			fmt.Sprintf("/journey/steps/%d/callback/%s", step2, key), // another step, this step's key
		} {
			r := post(e, path, "application/json", proof)
			if r.Status != missing.Status || string(r.Body) != string(missing.Body) {
				t.Errorf("%s: %d %s, want the missing step's %d %s", path, r.Status, r.Body, missing.Status, missing.Body)
			}
		}
		// A wrong key with a bad body: still the missing step (the key first).
		wantJSON(t, post(e, fmt.Sprintf("/journey/steps/%d/callback/%s", step, flipped), "application/json", "{not json"), 404, "Step not found")

		// Bodies that are no proof: 400, the step as it was.
		for _, body := range []string{"", "{not json", "[]", `{"hello":"world"}`, `[{"identifier":5}]`, "%7Bnot", `"proof"`} {
			wantJSON(t, post(e, cb, "application/json", body), 400, `"error":"invalid"`)
		}
		if after := stepRows(t, e); after != before {
			t.Fatalf("a refused callback wrote:\nbefore %s\nafter  %s", before, after)
		}

		// The proof, as the Reclaim SDK sends it by default.
		r := post(e, cb, "application/x-www-form-urlencoded", encodeURIComponent(proof))
		wantJSON(t, r, 200, `"status":"VERIFIED"`)
		wantJSON(t, r, 200, `"sessionStatus":"COMPLETED"`)
		// The browser's journey moves on (the progress page, and the
		// step's own page, lead to done).
		for _, path := range []string{fmt.Sprintf("/journey/steps/%d/reclaim", step), fmt.Sprintf("/journey/sessions/%d/progress", sess)} {
			wantPage(t, b.get(path), 200, "You're verified", "Verified")
		}

		// A replay, in either form: 409, nothing written.
		done := stepRows(t, e)
		wantJSON(t, post(e, cb, "application/json", proof), 409, `"error":"conflict"`)
		wantJSON(t, post(e, cb, "application/x-www-form-urlencoded", encodeURIComponent(proof)), 409, "COMPLETED")
		if after := stepRows(t, e); after != done {
			t.Fatalf("a replay wrote:\nbefore %s\nafter  %s", done, after)
		}

		// A tampered proof (what it proves changed): 400, and the step
		// is not verified.
		tampered := strings.Replace(proof2, "5400.00", "9400.00", 1)
		if tampered == proof2 {
			tampered = strings.Replace(proof2, `\"verified\":true`, `\"verified\":false`, 1)
		}
		if tampered == proof2 {
			t.Fatalf("nothing to tamper with in %s", proof2)
		}
		wantJSON(t, post(e, cb2, "application/json", tampered), 400, "Proof verification failed")
		if st, _, err := e.App.Verify.Step(e.System, step2); err != nil || st.Status == "VERIFIED" {
			t.Fatalf("after a tampered proof the step is %v (%v)", st, err)
		}

		// One proof in an array, as JSON: verified.
		_, _, _, cb3, proof3 := reclaimStep(t, f)
		wantJSON(t, post(e, cb3, "application/json; charset=utf-8", "["+proof3+"]"), 200, `"status":"VERIFIED"`)

		// Only POST, answered in JSON too.
		rec := httptest.NewRecorder()
		e.App.Server.ServeHTTP(rec, httptest.NewRequest("GET", cb3, nil))
		if rec.Code != 405 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Errorf("GET on the callback: %d %s", rec.Code, rec.Header())
		}
	})
}

// TestCallbackRateLimit: a step's callback is limited per key, so that
// a stranger's wrong keys do not use up the phone's allowance.
func TestCallbackRateLimit(t *testing.T) {
	e := apptest.SQLite(t)
	f := newFixture(t, e)
	_, _, step, cb, proof := reclaimStep(t, f)
	var r *apptest.Response
	for i := 0; i < 11; i++ {
		r = post(e, fmt.Sprintf("/journey/steps/%d/callback/wrong", step), "application/json", proof)
	}
	wantJSON(t, r, 429, `"error":"rate_limited"`)
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After")
	}
	wantJSON(t, post(e, cb, "application/json", proof), 200, "VERIFIED")
	for i := 0; i < 10; i++ {
		r = post(e, cb, "application/json", proof)
	}
	wantJSON(t, r, 429, "Too many attempts")
}
