// Package openapi holds the one OpenAPI 3.1 document that describes every
// JSON surface. It is kept as fragments, one per surface, under spec/;
// Document merges them: paths, tags and components of each fragment are
// added to those of the base. The webhooks section is built from
// verigate.WebhookEventTypes (events.go).
package openapi

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"sync"
)

//go:embed spec/*.json
var spec embed.FS

var document = sync.OnceValues(merge)

// Document returns the merged document as JSON.
func Document() ([]byte, error) { return document() }

func merge() ([]byte, error) {
	names, err := fs.Glob(spec, "spec/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	doc := map[string]any{}
	for _, name := range names {
		b, err := spec.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var frag map[string]any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&frag); err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", name, err)
		}
		if err := mergeInto(doc, frag, name); err != nil {
			return nil, err
		}
	}
	dash := map[string]any{"paths": dashboardPaths(), "components": map[string]any{"securitySchemes": map[string]any{
		"DashboardCookie": map[string]any{"type": "apiKey", "in": "cookie", "name": "vg_dash",
			"description": "A person's dashboard session, set by signing in (`__Host-vg_dash` over HTTPS)."}}}, "tags": []any{map[string]any{"name": "Dashboard",
		"description": "The operator dashboard: server-rendered HTML pages, not an API, listed so that every route the server answers is documented. Authenticated by the `vg_dash` cookie (`__Host-vg_dash` over HTTPS; HttpOnly, SameSite=Lax) that signing in sets; every form carries the page's `csrf` token. Sent with a strict Content-Security-Policy."}}}
	if err := mergeInto(doc, dash, "dashboard"); err != nil {
		return nil, err
	}
	hooks, err := webhooks()
	if err != nil {
		return nil, err
	}
	if err := mergeInto(doc, map[string]any{"webhooks": hooks}, "webhooks"); err != nil {
		return nil, err
	}
	if err := mergeInto(doc, map[string]any{"components": map[string]any{"schemas": map[string]any{"WebhookEventType": eventTypeSchema()}}}, "WebhookEventType"); err != nil {
		return nil, err
	}
	return json.MarshalIndent(doc, "", "  ")
}

// mergeInto adds src to dst: objects merge key by key, tag lists
// concatenate, and any other key defined twice is an error.
func mergeInto(dst, src map[string]any, where string) error {
	for k, v := range src {
		old, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		switch o := old.(type) {
		case map[string]any:
			n, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("openapi: %s: %q is not an object", where, k)
			}
			if err := mergeInto(o, n, where+"."+k); err != nil {
				return err
			}
		case []any:
			n, ok := v.([]any)
			if !ok || k != "tags" {
				return fmt.Errorf("openapi: %s: %q defined twice", where, k)
			}
			dst[k] = append(o, n...)
		default:
			return fmt.Errorf("openapi: %s: %q defined twice", where, k)
		}
	}
	return nil
}
