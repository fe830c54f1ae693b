package hub_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/hub"
)

// TestOpenAPISecurityMatchesHandlers: an operation documented as public
// answers without credentials, and every other one refuses a request
// without them (401) — the security the document declares is the one the
// handlers apply.
func TestOpenAPISecurityMatchesHandlers(t *testing.T) {
	h := apiHub(t)
	doc := loadDoc(t, hub.OpenAPI())
	global := doc["security"]
	fill := strings.NewReplacer("{sku}", "SKU-1", "{id}", "1", "/shopify/{name}", "/shopify/main", "/square/{name}", "/square/sq", "{name}", nsDest)
	for op, spec := range docOps(t, doc) {
		method, path, _ := strings.Cut(op, " ")
		security, ok := spec["security"]
		if !ok {
			security = global
		}
		public := len(security.([]any)) == 0
		ctx, cancel := context.WithCancel(context.Background())
		req, err := http.NewRequestWithContext(ctx, method, h.url+fill.Replace(path), strings.NewReader("{}"))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		cancel()
		switch {
		case public && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
			t.Errorf("%s is documented as public but answered %d without credentials", op, resp.StatusCode)
		case !public && resp.StatusCode != http.StatusUnauthorized:
			t.Errorf("%s is documented as needing %v but answered %d without credentials", op, security, resp.StatusCode)
		}
	}
}
