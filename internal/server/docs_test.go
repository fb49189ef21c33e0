package server

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/verigate/verigate/internal/openapi"
)

// TestDocsPage: /docs is rendered on the server (no script, nothing
// loading), lists every operation of the document, and renders the
// descriptions' Markdown.
func TestDocsPage(t *testing.T) {
	rec := httptest.NewRecorder()
	serveDocs(rec, httptest.NewRequest("GET", "/docs", nil))
	body := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("/docs = %d %s", rec.Code, rec.Header())
	}
	for _, bad := range []string{"Loading", "`", "<script", "**"} {
		if strings.Contains(body, bad) {
			t.Errorf("/docs contains %q", bad)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "unsafe") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows more than the page's stylesheet", csp)
	}
	// The Partner tag's description: "API-key routes take `x-api-key`".
	if !strings.Contains(body, "API-key routes take <code>x-api-key</code>") {
		t.Error("/docs does not render the Partner description's code span as <code>")
	}
	doc, err := openapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Paths map[string]map[string]struct{ OperationID string }
	}
	json.Unmarshal(doc, &d)
	n := 0
	for path, item := range d.Paths {
		for method, op := range item {
			if method == "parameters" {
				continue
			}
			n++
			want := `id="` + op.OperationID + `"`
			if i := strings.Index(body, want); i < 0 || !strings.Contains(body[i:min(len(body), i+400)], strings.ToUpper(method)) ||
				!strings.Contains(body[i:min(len(body), i+400)], path) {
				t.Errorf("/docs lacks %s %s (%s)", strings.ToUpper(method), path, op.OperationID)
			}
		}
	}
	if n < 60 {
		t.Fatalf("only %d operations in the document", n)
	}
}

func TestMarkdown(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Send `x-api-key`.", "<p>Send <code>x-api-key</code>.</p>\n"},
		{"A **bold** [link](https://example.com/a?b=1&c=2) and [bad](javascript:void).",
			`<p>A <strong>bold</strong> <a href="https://example.com/a?b=1&amp;c=2">link</a> and bad.</p>` + "\n"},
		{"<script>alert(1)</script> & `<b>`", "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; <code>&lt;b&gt;</code></p>\n"},
		{"One\nline.\n\nTwo:\n- a `x`\n- b\n  more", "<p>One line.</p>\n<p>Two:</p>\n<ul><li>a <code>x</code></li><li>b more</li></ul>\n"},
		{"Steps:\n\n1. first\n2. second", "<p>Steps:</p>\n<ol><li>first</li><li>second</li></ol>\n"},
		{"- a\n- b", "<ul><li>a</li><li>b</li></ul>\n"},
		{"a lone ` and * and [ stay", "<p>a lone ` and * and [ stay</p>\n"},
		{"{\"a\":\"…\"} 5 * 3", "<p>{&#34;a&#34;:&#34;…&#34;} 5 * 3</p>\n"},
	} {
		if got := string(markdown(tc.in)); got != tc.want {
			t.Errorf("markdown(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}
