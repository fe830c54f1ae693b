package webhook_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	chwebhook "github.com/tillsync/tillsync/internal/channel/webhook"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	"github.com/tillsync/tillsync/internal/sim/erpsim/webhook"
)

func deliver(t *testing.T, url string, secret []byte, keys, body string) (int, map[string]any) {
	t.Helper()
	now := time.Now()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Idempotency-Key", keys)
	req.Header.Set(chwebhook.HeaderDelivery, "erp-test")
	req.Header.Set(chwebhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(chwebhook.HeaderSignature, chwebhook.Sign(secret, now, []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestReferenceReceiver(t *testing.T) {
	t.Parallel()
	s := webhook.New(erpsim.Options{}, webhook.DefaultCredentials())
	hs := httptest.NewServer(s)
	defer hs.Close()
	secret := []byte(webhook.DefaultCredentials().Secret)
	body := `{"delivery_id":"erp-test","documents":[{"idempotency_key":"a","external_id":"a","lines":[{"sku":"X"}]},` +
		`{"idempotency_key":"b","external_id":"b","lines":[{"sku":"NO-SUCH-ITEM"}]}]}`

	if st, out := deliver(t, hs.URL+"/erp", []byte("another secret"), "a,b", body); st != http.StatusUnauthorized || out["error"] == nil {
		t.Errorf("bad signature: %d %v", st, out)
	}
	if st, _ := deliver(t, hs.URL+"/erp", secret, "a,c", body); st != http.StatusBadRequest {
		t.Errorf("Idempotency-Key not matching the documents: %d", st)
	}
	want := []string{`{"external_id":"a","status":"created"}`, `{"error":"item NO-SUCH-ITEM does not exist","external_id":"b","permanent":true,"status":"error"}`}
	for round := range 2 {
		st, out := deliver(t, hs.URL+"/erp", secret, "a,b", body)
		res, _ := out["results"].([]any)
		if st != http.StatusOK || len(res) != 2 {
			t.Fatalf("round %d: %d %v", round, st, out)
		}
		for i, r := range res {
			got, _ := json.Marshal(r)
			if string(got) != want[i] {
				t.Errorf("round %d, document %d: %s, want %s", round, i, got, want[i])
			}
		}
		want[0] = `{"external_id":"a","status":"exists"}`
	}
	if st := s.Sim().Stats(); st.Records["a"] != 1 || st.Records["b"] != 0 || st.Rejections["auth"] != 1 {
		t.Errorf("stats %+v", st)
	}
}
