package delivery_test

import (
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// TestCreateEach: one endpoint per URL, each with its own secret; one bad
// input writes none of them and names itself.
func TestCreateEach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, delivery.Options{})
		_, failed, err := e.svc.CreateEach(e.admin, []delivery.EndpointInput{{URL: "https://a.example"}, {URL: "https://private.example"}})
		field(t, err, "url")
		if failed != 1 {
			t.Fatalf("failed = %d, want 1", failed)
		}
		if list, _ := e.svc.List(e.admin, "", 100); len(list) != 0 {
			t.Fatalf("a refused batch wrote %d endpoints", len(list))
		}
		_, _, err = e.svc.CreateEach(e.admin, nil)
		code(t, err, verigate.EINVALID)
		made, _, err := e.svc.CreateEach(e.admin, []delivery.EndpointInput{{URL: "https://a.example"}, {URL: "https://b.example"}})
		if err != nil || len(made) != 2 || made[0].Secret == made[1].Secret || made[0].Endpoint.URL != "https://a.example" {
			t.Fatalf("made %+v, %v", made, err)
		}
		if list, _ := e.svc.List(e.admin, "", 100); len(list) != 2 {
			t.Fatalf("listed %d endpoints, want 2", len(list))
		}
	})
}
