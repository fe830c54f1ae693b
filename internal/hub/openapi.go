package hub

import (
	_ "embed"
	"net/http"
	"slices"
)

// openAPI is the OpenAPI 3.1 description of the hub's JSON API. Tests
// check it against the registered routes and the handlers' real answers.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3.1 document (JSON).
func OpenAPI() []byte { return slices.Clone(openAPI) }

// serveOpenAPI answers GET /v1/openapi.json. The description is public, as
// a published API's is: it holds no data, and a client needs it before it
// has a key.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPI)
}

// router is the API's mux, remembering the patterns registered on it so
// that the OpenAPI document can be checked against them.
type router struct {
	*http.ServeMux
	patterns []string
}

func (r *router) Handle(pattern string, h http.Handler) {
	r.patterns = append(r.patterns, pattern)
	r.ServeMux.Handle(pattern, h)
}

func (r *router) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	r.patterns = append(r.patterns, pattern)
	r.ServeMux.HandleFunc(pattern, f)
}

// Routes returns the API's route patterns ("GET /v1/stores", "/v1/events"),
// in registration order.
func (h *Hub) Routes() []string { return slices.Clone(h.patterns) }
