package erpnext_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/sim/erpsim"
	"github.com/tillsync/tillsync/internal/sim/erpsim/erpnext"
)

type answer struct {
	status int
	body   map[string]any
}

func do(t *testing.T, method, u, token, body string) answer {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "token "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func serverMessage(a answer) string {
	var outer []string
	_ = json.Unmarshal([]byte(a.body["_server_messages"].(string)), &outer)
	var inner struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal([]byte(outer[0]), &inner)
	return inner.Message
}

func TestFrappeShapes(t *testing.T) {
	t.Parallel()
	s := erpnext.New(erpsim.Options{}, erpnext.DefaultCredentials())
	hs := httptest.NewServer(s)
	defer hs.Close()
	c := erpnext.DefaultCredentials()
	token := c.APIKey + ":" + c.APISecret

	if a := do(t, http.MethodGet, hs.URL+"/api/method/frappe.auth.get_logged_user", "k:wrong", ""); a.status != http.StatusUnauthorized ||
		a.body["exc_type"] != "AuthenticationError" || serverMessage(a) == "" {
		t.Errorf("bad token: %+v", a)
	}
	entry := func(ref, item string) string {
		return `{"doctype":"Stock Entry","tillsync_id":"` + ref + `","company":"C","stock_entry_type":"Material Receipt",` +
			`"items":[{"item_code":"` + item + `","qty":1,"t_warehouse":"W"}]}`
	}
	insertMany := hs.URL + "/api/method/frappe.client.insert_many"
	// One transaction: an unknown item refuses the whole call.
	a := do(t, http.MethodPost, insertMany, token, `{"docs":[`+entry("e1", "A")+`,`+entry("e2", "NO-SUCH-ITEM")+`]}`)
	if a.status != http.StatusExpectationFailed || a.body["exc_type"] != "LinkValidationError" ||
		serverMessage(a) != "Could not find Row #1: Item Code: NO-SUCH-ITEM" {
		t.Errorf("bad batch: %+v", a)
	}
	if n := s.Sim().Stats().Created; n != 0 {
		t.Fatalf("a refused batch created %d documents", n)
	}
	a = do(t, http.MethodPost, insertMany, token, `{"docs":[`+entry("e1", "A")+`]}`)
	if names, _ := a.body["message"].([]any); a.status != http.StatusOK || len(names) != 1 || names[0] != "MAT-STE-2026-00001" {
		t.Fatalf("insert: %+v", a)
	}
	// The unique field refuses a second document with the same reference.
	a = do(t, http.MethodPost, hs.URL+"/api/resource/Stock%20Entry", token, entry("e1", "A"))
	if a.status != http.StatusExpectationFailed || a.body["exc_type"] != "UniqueValidationError" {
		t.Errorf("duplicate: %+v", a)
	}
	q := url.Values{"filters": {`[["tillsync_id","in",["e1","e9"]]]`}, "fields": {`["name","tillsync_id"]`}}
	a = do(t, http.MethodGet, hs.URL+"/api/resource/Stock%20Entry?"+q.Encode(), token, "")
	if data, _ := a.body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["name"] != "MAT-STE-2026-00001" {
		t.Errorf("list: %+v", a)
	}
	// Without Unique ticked, a second insert is a duplicate.
	s.SetUniqueRef(false)
	do(t, http.MethodPost, hs.URL+"/api/resource/Stock%20Entry", token, entry("e1", "A"))
	if st := s.Sim().Stats(); st.Duplicates != 1 {
		t.Errorf("stats %+v", st)
	}
	s.Sim().Force(erpsim.ForceThrottle)
	if a := do(t, http.MethodGet, hs.URL+"/api/method/frappe.auth.get_logged_user", token, ""); a.status != http.StatusTooManyRequests || a.body["exc_type"] != "TooManyRequestsError" {
		t.Errorf("throttled: %+v", a)
	}
}
