package odoo_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/sim/erpsim"
	"github.com/tillsync/tillsync/internal/sim/erpsim/odoo"
)

func call(t *testing.T, url, key, path, body string) (int, map[string]any, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	var obj map[string]any
	_ = json.Unmarshal(raw, &obj)
	return resp.StatusCode, obj, string(raw)
}

func TestJSON2Shapes(t *testing.T) {
	t.Parallel()
	s := odoo.New(erpsim.Options{}, odoo.DefaultCredentials())
	hs := httptest.NewServer(s)
	defer hs.Close()
	key := odoo.DefaultCredentials().APIKey

	// The documented error object on a bad key.
	st, body, _ := call(t, hs.URL, "wrong", "/json/2/res.users/context_get", `{}`)
	if st != http.StatusUnauthorized || body["name"] != "werkzeug.exceptions.Unauthorized" || body["message"] != "Invalid apikey" ||
		body["arguments"] == nil || body["debug"] == nil {
		t.Errorf("bad key: %d %v", st, body)
	}
	// Products by internal reference; the invalid one is not found.
	_, _, raw := call(t, hs.URL, key, "/json/2/product.product/search_read",
		`{"domain":[["default_code","in",["A","NO-SUCH-ITEM"]]],"fields":["default_code"]}`)
	var prods []map[string]any
	if err := json.Unmarshal([]byte(raw), &prods); err != nil || len(prods) != 1 || prods[0]["default_code"] != "A" {
		t.Fatalf("products: %s", raw)
	}
	pid, _ := json.Marshal(prods[0]["id"])
	// create is one transaction: a bad record refuses them all.
	good := `{"x_tillsync_id":"s1","partner_id":7,"order_line":[[0,0,{"product_id":` + string(pid) + `,"product_uom_qty":1,"price_unit":1}]]}`
	bad := `{"x_tillsync_id":"s2","partner_id":7,"order_line":[[0,0,{"product_id":999999,"product_uom_qty":1,"price_unit":1}]]}`
	st, body, _ = call(t, hs.URL, key, "/json/2/sale.order/create", `{"vals_list":[`+good+`,`+bad+`]}`)
	if st != http.StatusUnprocessableEntity || body["name"] != "odoo.exceptions.ValidationError" {
		t.Errorf("bad batch: %d %v", st, body)
	}
	if n := s.Sim().Stats().Created; n != 0 {
		t.Fatalf("a refused batch created %d records", n)
	}
	// Without a unique constraint, creating twice is a duplicate.
	for range 2 {
		if st, _, raw := call(t, hs.URL, key, "/json/2/sale.order/create", `{"vals_list":[`+good+`]}`); st != http.StatusOK {
			t.Fatalf("create: %d %s", st, raw)
		}
	}
	if st := s.Sim().Stats(); st.Duplicates != 1 || st.Records["s1"] != 2 {
		t.Errorf("stats %+v", st)
	}
	// A confirmed order cannot be confirmed again.
	_, _, raw = call(t, hs.URL, key, "/json/2/sale.order/search_read", `{"domain":[["x_tillsync_id","=","s1"]],"fields":["state"]}`)
	var orders []map[string]any
	_ = json.Unmarshal([]byte(raw), &orders)
	id, _ := json.Marshal(orders[0]["id"])
	if st, _, raw := call(t, hs.URL, key, "/json/2/sale.order/action_confirm", `{"ids":[`+string(id)+`]}`); st != http.StatusOK || raw != "true" {
		t.Errorf("confirm: %d %s", st, raw)
	}
	if st, body, _ := call(t, hs.URL, key, "/json/2/sale.order/action_confirm", `{"ids":[`+string(id)+`]}`); st != http.StatusUnprocessableEntity || body["name"] != "odoo.exceptions.UserError" {
		t.Errorf("confirm twice: %d %v", st, body)
	}
	// The stats endpoint.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, hs.URL+"/_sim/stats", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var stats erpsim.Stats
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil || stats.Rejections["auth"] != 1 {
		t.Errorf("stats: %+v %v", stats, err)
	}
}
