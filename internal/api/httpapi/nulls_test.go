package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
)

func TestDecodeRefusesNulls(t *testing.T) {
	type inner struct {
		Name string `json:"name"`
	}
	type body struct {
		Core     *string           `json:"core"`
		At       *time.Time        `json:"expiresAt"`
		Params   inner             `json:"params"`
		List     []inner           `json:"list"`
		Creds    map[string]string `json:"credentials"`
		Metadata json.RawMessage   `json:"metadata"`
		Any      any               `json:"any"`
	}
	for in, want := range map[string]string{
		`null`:                                    "The request body must be a JSON object.",
		`{"core": null}`:                          "core",
		`{"CORE": null}`:                          "CORE",
		`{"expiresAt": null}`:                     "expiresAt",
		`{"params": {"name": null}}`:              "params.name",
		`{"list": [{"name": "a"}, null]}`:         "list[1]",
		`{"credentials": {"user": null}}`:         "credentials.user",
		`{"metadata": {"a": null}}`:               "",
		`{"any": {"a": null}, "core": "x"}`:       "",
		`{"metadata": null}`:                      "metadata",
		`{"metadata": {"x": [null]}, "list": []}`: "",
	} {
		req := httptest.NewRequest("POST", "/", strings.NewReader(in))
		err := DecodeJSON(req, &body{}, false)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", in, err)
		case want != "" && (verigate.ErrorCode(err) != verigate.EINVALID || !strings.Contains(verigate.ErrorMessage(err), want)):
			t.Errorf("%s: %v, want EINVALID naming %q", in, err, want)
		}
	}
	for _, q := range []string{"limit=", "limit=&limit=5"} {
		if _, err := QueryInt(httptest.NewRequest("GET", "/?"+q, nil), "limit", 10); verigate.ErrorCode(err) != verigate.EINVALID {
			t.Errorf("?%s: %v, want EINVALID", q, err)
		}
	}
	if n, err := QueryInt(httptest.NewRequest("GET", "/", nil), "limit", 10); n != 10 || err != nil {
		t.Errorf("absent limit: %d %v", n, err)
	}
}
