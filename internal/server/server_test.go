package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/openapi/openapitest"
	"github.com/verigate/verigate/internal/server"
)

func newServer(t *testing.T, ready server.Readiness) (*server.Server, *bytes.Buffer) {
	var logs bytes.Buffer
	s := server.New(server.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Ready: ready, Database: "sqlite", Version: "test", BodyLimit: 1024})
	return s, &logs
}

func TestOps(t *testing.T) {
	v := openapitest.New(t)
	var notReady error
	s, _ := newServer(t, func(context.Context) error { return notReady })
	get := func(path string) *httptest.ResponseRecorder {
		return v.Serve(t, s, httptest.NewRequest("GET", path, nil))
	}
	if rec := get("/healthz"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"ok"`) {
		t.Fatalf("/healthz = %d %s", rec.Code, rec.Body)
	}
	if rec := get("/readyz"); rec.Code != 200 {
		t.Fatalf("/readyz = %d %s", rec.Code, rec.Body)
	}
	notReady = errors.New("migrations pending")
	if rec := get("/readyz"); rec.Code != 503 || !strings.Contains(rec.Body.String(), "migrations pending") {
		t.Fatalf("/readyz not ready = %d %s", rec.Code, rec.Body)
	}
	notReady = nil
	s.Drain()
	if rec := get("/readyz"); rec.Code != 503 {
		t.Fatalf("/readyz while draining = %d", rec.Code)
	}
	rec := get("/openapi.json")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"openapi": "3.1.0"`) {
		t.Fatalf("/openapi.json = %d", rec.Code)
	}
	if rec := get("/docs"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "/openapi.json") {
		t.Fatalf("/docs = %d", rec.Code)
	}
	rec = get("/metrics")
	for _, want := range []string{`verigate_http_requests_total{route="GET /healthz",status="200"} 1`,
		`verigate_http_requests_total{route="GET /readyz",status="503"} 2`, "go_goroutines"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestMiddleware(t *testing.T) {
	s, logs := newServer(t, nil)
	s.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		w.Write([]byte(verigate.RequestIDFrom(r.Context()) + ":" + string(b)))
	})
	s.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })

	t.Run("request id", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/echo", strings.NewReader("hi"))
		req.Header.Set("X-Request-Id", "abc-123")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Header().Get("X-Request-Id") != "abc-123" || rec.Body.String() != "abc-123:hi" {
			t.Fatalf("propagated id: %q %q", rec.Header().Get("X-Request-Id"), rec.Body)
		}
		for _, bad := range []string{"", "has space", strings.Repeat("x", 200), "ctl\x01"} {
			req := httptest.NewRequest("POST", "/echo", nil)
			req.Header.Set("X-Request-Id", bad)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if id := rec.Header().Get("X-Request-Id"); id == bad || len(id) != 36 {
				t.Fatalf("id for %q = %q, want a new one", bad, id)
			}
		}
	})
	t.Run("headers", func(t *testing.T) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("POST", "/echo", nil))
		if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("headers: %v", rec.Header())
		}
	})
	t.Run("body limit", func(t *testing.T) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("POST", "/echo", strings.NewReader(strings.Repeat("x", 2000))))
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("declared oversize body: %d", rec.Code)
		}
		// A body without a length is cut off while it is read.
		req := httptest.NewRequest("POST", "/echo", io.MultiReader(strings.NewReader(strings.Repeat("x", 2000))))
		req.ContentLength = -1
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("streamed oversize body: %d", rec.Code)
		}
	})
	t.Run("panic", func(t *testing.T) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/panic", nil))
		if rec.Code != 500 || strings.Contains(rec.Body.String(), "boom") {
			t.Fatalf("panic answered %d %q", rec.Code, rec.Body)
		}
		if !strings.Contains(logs.String(), `"panic":"boom"`) || !strings.Contains(logs.String(), `"route":"GET /panic","status":500`) {
			t.Fatalf("panic not logged as a 500:\n%s", logs)
		}
	})
	t.Run("log line", func(t *testing.T) {
		if !strings.Contains(logs.String(), `"route":"POST /echo"`) || !strings.Contains(logs.String(), `"request_id":"abc-123"`) {
			t.Fatalf("request log lacks route or id:\n%s", logs)
		}
	})
}

func TestSurfaces(t *testing.T) {
	s, logs := newServer(t, nil)
	api := httpapi.NewSurface(func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(418)
		w.Write([]byte("api:" + verigate.ErrorCode(err)))
	}, nil, 1024, "/api/", "/things")
	api.Handle("GET /api/thing", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	api.Handle("GET /api/ok/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("fine")) }))
	api.Handle("GET /things", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("things")) }))
	s.Mount(api)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/api/thing", 418, "api:internal"},
		{"GET", "/api/nothing", 418, "api:not_found"},
		{"POST", "/api/thing", 418, "api:method_not_allowed"},
		{"GET", "/api/ok/1", 200, "fine"},
		{"GET", "/api/ok/a%00b", 418, "api:invalid"},
		{"GET", "/api/ok/%ff", 418, "api:invalid"},
		{"GET", "/api/ok/1?q=%00", 418, "api:invalid"},
		{"GET", "/things", 200, "things"},
		{"DELETE", "/things", 418, "api:method_not_allowed"},
		{"GET", "/elsewhere", 404, `{"error":"Not found"}`},
		{"POST", "/healthz", 405, `{"error":"Method POST is not allowed here."}`},
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.status || strings.TrimSpace(rec.Body.String()) != tc.body {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, rec.Code, rec.Body, tc.status, tc.body)
		}
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/healthz", nil))
	if rec.Header().Get("Allow") != "GET" {
		t.Errorf("Allow = %q", rec.Header().Get("Allow"))
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("DELETE", "/things", nil))
	if rec.Header().Get("Allow") != "GET" {
		t.Errorf("Allow on /things = %q", rec.Header().Get("Allow"))
	}
	// A surface mounted under another's prefix owns its subtree: pages
	// under /api/pages/ answer in their own (HTML) shape.
	pages := httpapi.NewSurface(func(w http.ResponseWriter, r *http.Request, err error) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(404)
		w.Write([]byte("<p>page:" + verigate.ErrorCode(err) + "</p>"))
	}, nil, 1024, "/api/pages/")
	s.Mount(pages)
	for path, want := range map[string]string{"/api/pages/nope": "<p>page:not_found</p>", "/api/nope": "api:not_found"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if strings.TrimSpace(rec.Body.String()) != want {
			t.Errorf("GET %s = %q, want %q", path, rec.Body, want)
		}
	}
	// The surface's own pattern labels the request, not its mount point.
	if !strings.Contains(logs.String(), `"route":"GET /api/ok/{id}"`) {
		t.Errorf("request log lacks the surface's route:\n%s", logs)
	}
	if got := s.Routes(); !slices.Contains(got, "GET /api/ok/{id}") || !slices.Contains(got, "GET /healthz") {
		t.Errorf("Routes() = %v", got)
	}
}
