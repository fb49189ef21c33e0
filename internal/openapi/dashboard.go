package openapi

import (
	"regexp"
	"strings"

	"github.com/verigate/verigate/internal/authz"
)

// The dashboard's pages are HTML, not an API, but every route the server
// answers is documented: their operations are made from the permission
// table (authz.Routes), so a page added there is documented at once.

var pathParam = regexp.MustCompile(`\{([^}$]+)\}`)

func dashboardPaths() map[string]any {
	paths := map[string]any{}
	for pattern, rule := range authz.Routes {
		method, path, _ := strings.Cut(pattern, " ")
		if path != "/dashboard" && !strings.HasPrefix(path, "/dashboard/") {
			continue
		}
		path = strings.ReplaceAll(path, "{$}", "")
		op := map[string]any{
			"operationId": dashboardOperationID(method, path),
			"tags":        []any{"Dashboard"},
			"summary":     dashboardSummary(method, path),
		}
		if rule.Guard != authz.Public && rule.Guard != authz.Credentials {
			op["security"] = []any{map[string]any{"DashboardCookie": []any{}}}
		} else {
			op["security"] = []any{}
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		html := map[string]any{"text/html": map[string]any{"schema": map[string]any{"type": "string"}}}
		moved := map[string]any{"description": "On to the next page (Location); to the sign-in page without a session.",
			"headers": map[string]any{"Location": map[string]any{"schema": map[string]any{"type": "string"}}}}
		responses := map[string]any{
			"303": moved,
			"4XX": map[string]any{"description": "A page saying what went wrong.", "content": html},
		}
		if method == "GET" {
			responses["200"] = map[string]any{"description": "The page.", "content": html}
		} else {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/x-www-form-urlencoded": map[string]any{"schema": map[string]any{"type": "object",
					"required": []any{"csrf"}, "properties": map[string]any{"csrf": map[string]any{"type": "string",
						"description": "The page's form token."}}}}}}
			responses["200"] = map[string]any{"description": "The page again, with what the form did or what to correct.", "content": html}
		}
		op["responses"] = responses
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		item[strings.ToLower(method)] = op
	}
	return paths
}

func dashboardOperationID(method, path string) string {
	var b strings.Builder
	b.WriteString("dashboard" + strings.ToUpper(method[:1]) + strings.ToLower(method[1:]))
	switch path {
	case "/dashboard":
		return b.String() + "Root"
	case "/dashboard/":
		return b.String() + "Overview"
	}
	for _, part := range strings.FieldsFunc(path[len("/dashboard"):], func(r rune) bool { return r == '/' || r == '-' || r == '.' }) {
		part = strings.Trim(part, "{}")
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func dashboardSummary(method, path string) string {
	what := strings.TrimPrefix(path, "/dashboard")
	if what == "" || what == "/" {
		what = "/ (overview)"
	}
	if method == "GET" {
		return "Dashboard page " + what
	}
	return "Dashboard form " + what
}
