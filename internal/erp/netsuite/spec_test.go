package netsuite_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/erp/netsuite"
	nssim "github.com/tillsync/tillsync/internal/sim/erpsim/netsuite"
)

func valid() map[string]string {
	return settings("https://1234567.suitetalk.api.netsuite.com", nssim.DefaultCredentials())
}

func TestNewNamesWhatIsWrong(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change map[string]string
		want   []string
	}{
		{"nothing", nil, nil},
		{"every required field missing", map[string]string{"account_id": "", "consumer_key": "", "consumer_secret": "", "token_id": "", "token_secret": "", "customer": ""},
			[]string{"account_id", "consumer_key", "consumer_secret", "token_id", "token_secret", "customer"}},
		{"account ID", map[string]string{"account_id": "1234567-sb1"}, []string{"account_id"}},
		{"base URL", map[string]string{"base_url": "ftp://example.com"}, []string{"base_url"}},
		{"customer", map[string]string{"customer": "Walk-in"}, []string{"customer", "internal ID"}},
		{"subsidiary", map[string]string{"subsidiary": "HQ"}, []string{"subsidiary"}},
		{"tax accounts", map[string]string{"tax_accounts": "DE-VAT-19"}, []string{"tax_accounts", "key=internal-id"}},
		{"payment account", map[string]string{"payment_accounts": "card=Bank"}, []string{"payment_accounts", "card"}},
		{"unknown setting", map[string]string{"acount_id": "x"}, []string{"acount_id"}},
	} {
		s := valid()
		for k, v := range tc.change {
			if v == "" {
				delete(s, k)
			} else {
				s[k] = v
			}
		}
		_, err := netsuite.New(s, erp.Deps{})
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

// The spec and the constructor agree: every field the spec calls required
// is refused when missing, and the secrets are marked.
func TestSpecMatchesTheConstructor(t *testing.T) {
	t.Parallel()
	secrets := map[string]bool{}
	for _, f := range netsuite.Spec.Fields {
		if f.Secret {
			secrets[f.Name] = true
		}
		if !f.Required {
			continue
		}
		s := valid()
		delete(s, f.Name)
		if _, err := netsuite.New(s, erp.Deps{}); err == nil || !strings.Contains(err.Error(), f.Name) {
			t.Errorf("without %s: %v", f.Name, err)
		}
	}
	if !secrets["consumer_secret"] || !secrets["token_secret"] || len(secrets) != 2 {
		t.Errorf("secret fields %v", secrets)
	}
	if c, err := netsuite.Spec.New(valid(), erp.Deps{}); err != nil || c.MaxBatch() != 1 {
		t.Errorf("Spec.New: %v, %v", c, err)
	}
}

// hostRecorder answers 204 to everything and keeps the hosts asked.
type hostRecorder struct {
	mu    sync.Mutex
	hosts []string
	auth  []string
}

func (h *hostRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.hosts = append(h.hosts, req.URL.Scheme+"://"+req.URL.Host)
	h.auth = append(h.auth, req.Header.Get("Authorization"))
	h.mu.Unlock()
	return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
}

// The default base URL is the account's own REST domain: the account ID
// in lower case with "_" as "-"; the realm stays the account ID.
func TestDefaultBaseURL(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "https://<account>.suitetalk.api.netsuite.com"} {
		s := valid()
		s["account_id"] = "1234567_SB1"
		if base == "" {
			delete(s, "base_url")
		} else {
			s["base_url"] = base // the spec's default, as the hub fills it in
		}
		rt := &hostRecorder{}
		c, err := netsuite.New(s, erp.Deps{HTTP: &http.Client{Transport: rt}})
		if err != nil {
			t.Fatal(err)
		}
		if errs, _ := c.Post(context.Background(), []erp.Document{erptest.Sample(erp.CashSale, "s-1")}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		if rt.hosts[0] != "https://1234567-sb1.suitetalk.api.netsuite.com" || !strings.HasPrefix(rt.auth[0], `OAuth realm="1234567_SB1", `) {
			t.Errorf("base_url %q: sent to %s with %s", base, rt.hosts[0], rt.auth[0])
		}
	}
}
