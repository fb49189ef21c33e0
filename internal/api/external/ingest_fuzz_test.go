package external_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/webhook"
)

// FuzzIngestSignature sends call reports to the voice-ingestion endpoint
// of a running app (SQLite). Headers and body as received: never a 5xx,
// never accepted unless they carry the institution's valid signature. A
// report signed with the institution's secret: refused (401) exactly when
// its timestamp is out of tolerance, otherwise never a 401 or 5xx,
// whatever the body.
func FuzzIngestSignature(f *testing.F) {
	e := apptest.SQLite(f)
	e.SeedReseller("acme", "acme-cu")
	inst, err := e.App.Access.Organization(e.System, "acme-cu")
	if err != nil {
		f.Fatal(err)
	}
	key := e.App.Calls.IngestSecret(inst)
	now := e.Clock.Now()
	body := []byte(`{"provider":"twilio","callId":"CA1","phoneNumber":"+15550104000","callerName":"Alex","risk":{"score":80}}`)
	f.Add("acme-cu", "msg_1", strconv.FormatInt(now.Unix(), 10), webhook.Sign(key, "msg_1", now, body), body, int16(0))
	f.Add("acme-cu", "msg_2", "", "v1,", []byte(`{"callId":"a\u0000b","phoneNumber":"\xff"}`), int16(-301))
	f.Add("a\x00b", "m", "1", "v1,AAAA", []byte(`{}`), int16(300))
	f.Add("acme", "m", strconv.FormatInt(now.Unix(), 10), "v1,x", []byte(`{"callId":"x","events":[{"type":"","at":"not a time"}]}`), int16(1))
	f.Add("%ff", "", "+1", "", []byte(`{"callId":"x","risk":{"score":1e400}}}`), int16(-1))
	f.Fuzz(func(t *testing.T, institution, id, ts, sig string, body []byte, skew int16) {
		send := func(institution, id, ts, sig string, body []byte) int {
			req := httptest.NewRequest("POST", "/external/voice/"+url.PathEscape(institution)+"/calls", bytes.NewReader(body))
			req.Header["Content-Type"] = []string{"application/json"}
			setHeaders(req.Header, id, ts, sig)
			resp := e.Raw(req)
			if resp.Status >= 500 {
				t.Fatalf("institution %q, id %q, ts %q, sig %q, body %q: %d %s", institution, id, ts, sig, body, resp.Status, resp.Body)
			}
			return resp.Status
		}
		// As received.
		status := send(institution, id, ts, sig, body)
		h := httptest.NewRequest("POST", "/", nil).Header
		setHeaders(h, id, ts, sig)
		if status < 300 && (institution != "acme-cu" || webhook.Verify(key, h, body, now) != nil) {
			t.Fatalf("accepted an unsigned report: institution %q, id %q, ts %q, sig %q: %d", institution, id, ts, sig, status)
		}
		// Signed with the institution's secret, under an id HTTP can carry
		// (clean text, no surrounding space: header values are read so).
		if id = strings.TrimSpace(id); id == "" || !httpapi.CleanText(id) {
			id = "msg_fuzz"
		}
		at := now.Add(time.Duration(skew) * time.Second)
		status = send("acme-cu", id, strconv.FormatInt(at.Unix(), 10), webhook.Sign(key, id, at, body), body)
		if stale := skew > 300 || skew < -300; stale != (status == 401) {
			t.Fatalf("report signed %ds off: %d", skew, status)
		}
	})
}

// setHeaders sets the signature headers as received, bytes unchecked.
func setHeaders(h http.Header, id, ts, sig string) {
	h[http.CanonicalHeaderKey(webhook.HeaderID)] = []string{id}
	h[http.CanonicalHeaderKey(webhook.HeaderTimestamp)] = []string{ts}
	h[http.CanonicalHeaderKey(webhook.HeaderSignature)] = []string{sig}
}
