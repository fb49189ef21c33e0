package webhook

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func post(rv http.Handler, header map[string]string, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	rv.ServeHTTP(w, req)
	return w
}

func TestReceiverVerifies(t *testing.T) {
	oldKey, newKey := key(t), key(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	var got []string
	rv := &Receiver{Secrets: [][]byte{newKey, oldKey}, Out: &out, Now: func() time.Time { return now },
		OnMessage: func(id string, body []byte) { got = append(got, id+" "+string(body)) }}
	body := "{\n  \"type\": \"verification.completed\",\n  \"data\": {\"id\": \"vs_1\"}\n}"

	// Signed with the old key only (the sender had not rotated yet): accepted.
	w := post(rv, StandardHeaders("msg_1", now.Add(-time.Minute), []byte(body), oldKey), body)
	want := `2026-03-01T12:00:00Z  msg_1  verification.completed  signature ok  {"type":"verification.completed","data":{"id":"vs_1"}}` + "\n"
	if w.Code != http.StatusNoContent || out.String() != want || len(got) != 1 || got[0] != "msg_1 "+body {
		t.Fatalf("%d; printed %q (want %q); OnMessage %q", w.Code, out.String(), want, got)
	}

	for name, tc := range map[string]struct {
		header map[string]string
		body   string
		reason string
	}{
		"unknown key":   {StandardHeaders("msg_2", now, []byte(body), key(t)), body, "no webhook-signature matches"},
		"tampered body": {StandardHeaders("msg_2", now, []byte(body), newKey), body + " ", "no webhook-signature matches"},
		"stale":         {StandardHeaders("msg_2", now.Add(-6*time.Minute), []byte(body), newKey), body, "webhook-timestamp"},
		"unsigned":      {nil, body, "missing webhook-id"},
	} {
		out.Reset()
		w := post(rv, tc.header, tc.body)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), tc.reason) {
			t.Fatalf("%s: %d %q; want 400 saying %q", name, w.Code, w.Body.String(), tc.reason)
		}
		if line := out.String(); strings.Count(line, "\n") != 1 || !strings.Contains(line, "REJECTED: ") || !strings.Contains(line, tc.reason) {
			t.Fatalf("%s: printed %q", name, line)
		}
	}
	if len(got) != 1 {
		t.Fatalf("OnMessage called for rejected messages: %q", got)
	}
	if w := httptest.NewRecorder(); true {
		rv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "POST" {
			t.Fatalf("GET: %d", w.Code)
		}
	}
	if w := post(rv, nil, strings.Repeat("x", MaxReceivedBody+1)); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", w.Code)
	}
}

// Without secrets every message is accepted and marked unverified; what a
// sender controls is shown on one line, quoted when it is not plain.
func TestReceiverUnverified(t *testing.T) {
	var out bytes.Buffer
	rv := &Receiver{Out: &out}
	for _, tc := range []struct {
		header map[string]string
		body   string
		want   string
	}{
		{map[string]string{HeaderID: "msg_9"}, `{"type":"webhook.test"}`, `  msg_9  webhook.test  unverified  {"type":"webhook.test"}`},
		{nil, `{"type":"a\nb\u001b[31m","x":1}`, `  -  "a\nb\x1b[31m"  unverified  {"type":"a\nb\u001b[31m","x":1}`},
		{nil, `{"type":7}`, `  -  -  unverified  {"type":7}`},
		{nil, "not json\n\x1b[2J", `  -  -  unverified  "not json\n\x1b[2J"`},
		{nil, "{\"type\":\"t\",\"s\":\"\u202e\"}", `  -  t  unverified  "{\"type\":\"t\",\"s\":\"\u202e\"}"`},
		{map[string]string{HeaderID: "id with space"}, "", `  "id with space"  -  unverified  (empty body)`},
	} {
		out.Reset()
		if w := post(rv, tc.header, tc.body); w.Code != http.StatusNoContent {
			t.Fatalf("%q: %d", tc.body, w.Code)
		}
		line := out.String()
		if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, tc.want+"\n") {
			t.Fatalf("printed %q; want a line ending %q", line, tc.want)
		}
	}
}

// Lines from concurrent messages never interleave, and the race detector
// sees them written one at a time.
func TestReceiverConcurrent(t *testing.T) {
	k := key(t)
	var out bytes.Buffer // not safe for concurrent use: the Receiver serializes its lines
	var mu sync.Mutex
	ids := map[string]bool{}
	rv := &Receiver{Secrets: [][]byte{k}, Out: &out, OnMessage: func(id string, _ []byte) { mu.Lock(); ids[id] = true; mu.Unlock() }}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	c := NewClient(local, 0)
	var wg sync.WaitGroup
	body := []byte(`{"type":"step.updated","data":{"pad":"` + strings.Repeat("p", 8<<10) + `"}}`)
	for i := range 40 {
		wg.Go(func() {
			id := "msg_" + string(rune('A'+i))
			r := c.Send(t.Context(), Delivery{URL: srv.URL, Header: StandardHeaders(id, time.Now(), body, k), Body: body})
			if r.Status != http.StatusNoContent {
				t.Errorf("%s: %+v", id, r)
			}
		})
	}
	wg.Wait()
	srv.Close() // waits for the handlers
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 40 || len(ids) != 40 {
		t.Fatalf("%d lines, %d ids", len(lines), len(ids))
	}
	for _, l := range lines {
		if !strings.Contains(l, "  step.updated  signature ok  {") || !strings.HasSuffix(l, `"}}`) || len(l) < 8<<10 {
			t.Fatalf("garbled line %.80q…", l)
		}
	}
}
