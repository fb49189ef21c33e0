package openapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/openapi/openapitest"
)

// TestPermissionNamesDocumented: the document's permission enums are the
// catalogue (and, for application tokens, ExactPay's foreign names), so
// neither can drift from the code.
func TestPermissionNamesDocumented(t *testing.T) {
	doc := openapitest.Doc(t)
	enum := func(name string) []string {
		var out []string
		for _, v := range doc.Components.Schemas[name].Value.Enum {
			out = append(out, v.(string))
		}
		return out
	}
	var catalogue, all []string
	for _, p := range verigate.Permissions {
		catalogue = append(catalogue, string(p.Name))
	}
	all = slices.Clone(catalogue)
	for _, p := range verigate.ForeignPermissions {
		all = append(all, string(p))
	}
	if got := enum("PermissionName"); !slices.Equal(got, catalogue) {
		t.Errorf("PermissionName enum = %v\nwant the catalogue %v", got, catalogue)
	}
	if got := enum("ApplicationPermissionName"); !slices.Equal(got, all) {
		t.Errorf("ApplicationPermissionName enum = %v\nwant %v", got, all)
	}
}

// TestScopesDocumented: the /v1 security scheme names every scope of
// verigate.Scopes.
func TestScopesDocumented(t *testing.T) {
	doc := openapitest.Doc(t)
	desc := doc.Components.SecuritySchemes["V1ApiKey"].Value.Description
	for _, sc := range verigate.Scopes {
		if !strings.Contains(desc, sc) {
			t.Errorf("scope %s is not in the V1ApiKey description: %s", sc, desc)
		}
	}
}
