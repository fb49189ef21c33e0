package server

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"html"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/verigate/verigate/internal/openapi"
)

// /docs is the OpenAPI document rendered on the server: every operation
// with its description, whose Markdown subset (paragraphs, lists, `code`,
// **bold**, [links](url)) becomes HTML and everything else is escaped. No
// script and no outside request, so it works under a strict CSP.

//go:embed docs.html
var docsHTML string

var docsTemplate = template.Must(template.New("docs").Parse(docsHTML))

const docsCSS = `body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem 2rem; color: #1b1f24; }
h1 { margin-bottom: 0; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1rem; margin: 0; }
.op { margin: .6rem 0; padding: .5rem .8rem; border: 1px solid #d0d7de; border-radius: 6px; }
.m { display: inline-block; min-width: 4.5rem; font-weight: 600; font-family: ui-monospace, monospace; }
code, .p { font-family: ui-monospace, monospace; }
code { background: #f3f4f6; padding: 0 .2rem; border-radius: 3px; }
.s { margin: .3rem 0 0; } .op p, .op ul, .op ol { color: #57606a; margin: .3rem 0 0; }
body, code, .p { overflow-wrap: anywhere; }
@media (max-width: 40rem) { body { padding: .75rem 1rem; } .op { padding: .5rem .6rem; } .m { min-width: 3.5rem; } }`

// docsCSP allows the page's one stylesheet, by hash, and nothing else.
var docsCSP = func() string {
	sum := sha256.Sum256([]byte(docsCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

// docsPage renders the page once: the document is built into the binary.
var docsPage = sync.OnceValues(func() ([]byte, error) {
	doc, err := openapi.Document()
	if err != nil {
		return nil, err
	}
	return renderDocs(doc)
})

func serveDocs(w http.ResponseWriter, r *http.Request) {
	page, err := docsPage()
	if err != nil {
		http.Error(w, "API document unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", docsCSP)
	w.Write(page)
}

type docsOperation struct {
	ID, Method, Path, Summary string
	Description               template.HTML
}

type docsTag struct {
	Name        string
	Description template.HTML
	Ops         []docsOperation
}

// docsMethods is the order of an operation's methods on the page.
var docsMethods = []string{"get", "post", "put", "patch", "delete", "head", "options"}

// renderDocs renders an OpenAPI document as the /docs page: its tags in
// the document's order, each with its operations by path.
func renderDocs(doc []byte) ([]byte, error) {
	type operation struct {
		OperationID string   `json:"operationId"`
		Summary     string   `json:"summary"`
		Description string   `json:"description"`
		Tags        []string `json:"tags"`
	}
	var d struct {
		Info struct{ Title, Description string }
		Tags []struct{ Name, Description string }
		// Path items also hold parameters and such; only methods are read.
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	var tags []*docsTag
	byName := map[string]*docsTag{}
	tag := func(name string) *docsTag {
		if t, ok := byName[name]; ok {
			return t
		}
		t := &docsTag{Name: name}
		byName[name] = t
		tags = append(tags, t)
		return t
	}
	for _, t := range d.Tags {
		tag(t.Name).Description = markdown(t.Description)
	}
	paths := make([]string, 0, len(d.Paths))
	for p := range d.Paths {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, path := range paths {
		for _, method := range docsMethods {
			raw, ok := d.Paths[path][method]
			if !ok {
				continue
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, err
			}
			if len(op.Tags) == 0 {
				op.Tags = []string{"Other"}
			}
			for _, t := range op.Tags {
				tg := tag(t)
				tg.Ops = append(tg.Ops, docsOperation{ID: op.OperationID, Method: strings.ToUpper(method), Path: path,
					Summary: op.Summary, Description: markdown(op.Description)})
			}
		}
	}
	tags = slices.DeleteFunc(tags, func(t *docsTag) bool { return len(t.Ops) == 0 })
	var b bytes.Buffer
	err := docsTemplate.Execute(&b, map[string]any{"Title": d.Info.Title, "Description": markdown(d.Info.Description),
		"CSS": template.CSS(docsCSS), "Tags": tags})
	return b.Bytes(), err
}

var (
	listItem   = regexp.MustCompile(`^(?:[-*]|\d+\.) +`)
	blankLines = regexp.MustCompile(`\n\s*\n`)
)

// markdown renders the Markdown subset the document's descriptions use:
// paragraphs (separated by blank lines), lists ("- ", "* " or "1. "; a
// list may follow a paragraph's line), and inline code, bold and links.
// Everything else is escaped.
func markdown(s string) template.HTML {
	var b strings.Builder
	var para, items []string
	listTag := ""
	flush := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + inline(strings.Join(para, " ")) + "</p>\n")
		}
		if len(items) > 0 {
			b.WriteString("<" + listTag + ">")
			for _, it := range items {
				b.WriteString("<li>" + inline(it) + "</li>")
			}
			b.WriteString("</" + listTag + ">\n")
		}
		para, items = nil, nil
	}
	for _, block := range blankLines.Split(strings.TrimSpace(s), -1) {
		for _, line := range strings.Split(block, "\n") {
			t := strings.TrimSpace(line)
			switch {
			case t == "":
			case listItem.MatchString(t):
				if len(items) == 0 {
					flush()
					listTag = "ul"
					if t[0] >= '0' && t[0] <= '9' {
						listTag = "ol"
					}
				}
				items = append(items, listItem.ReplaceAllString(t, ""))
			case len(items) > 0 && line != t: // an indented line continues the item
				items[len(items)-1] += " " + t
			default:
				if len(items) > 0 {
					flush()
				}
				para = append(para, t)
			}
		}
		flush()
	}
	return template.HTML(b.String())
}

// inline renders `code`, **bold** and [text](url) in one line of text and
// escapes the rest. A link is kept only to http(s), a path or a fragment.
func inline(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		switch {
		case s[0] == '`':
			if end := strings.IndexByte(s[1:], '`'); end >= 0 {
				b.WriteString("<code>" + html.EscapeString(s[1:1+end]) + "</code>")
				s = s[2+end:]
				continue
			}
		case strings.HasPrefix(s, "**"):
			if end := strings.Index(s[2:], "**"); end > 0 {
				b.WriteString("<strong>" + inline(s[2:2+end]) + "</strong>")
				s = s[4+end:]
				continue
			}
		case s[0] == '[':
			if mid := strings.Index(s, "]("); mid > 0 {
				if end := strings.IndexByte(s[mid:], ')'); end > 0 {
					text, url := s[1:mid], s[mid+2:mid+end]
					if safeURL(url) {
						b.WriteString(`<a href="` + html.EscapeString(url) + `">` + inline(text) + "</a>")
					} else {
						b.WriteString(inline(text))
					}
					s = s[mid+end+1:]
					continue
				}
			}
		}
		// Plain text up to the next character that may start markup.
		n := strings.IndexAny(s[1:], "`*[")
		if n < 0 {
			n = len(s) - 1
		}
		b.WriteString(html.EscapeString(s[:1+n]))
		s = s[1+n:]
	}
	return b.String()
}

func safeURL(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") ||
		(strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//")) || strings.HasPrefix(u, "#")
}
