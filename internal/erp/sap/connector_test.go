package sap_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erptest"
	"github.com/tillsync/tillsync/internal/erp/sap"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/sim/erpsim"
	sapsim "github.com/tillsync/tillsync/internal/sim/erpsim/sap"
)

// kinds are the document kinds the SAP connector posts.
var kinds = []erp.Kind{erp.CashSale, erp.CashRefund, erp.InventoryAdjustment, erp.TransferOrder,
	erp.TransferReceipt, erp.SalesOrder, erp.Summary}

var allServices = []string{"API_SALES_ORDER_SRV", "API_CUSTOMER_RETURN_SRV", "API_MATERIAL_DOCUMENT_SRV"}

type bundle struct {
	conn *sap.Connector
	sim  *sapsim.Server
	url  string
}

func settings(url string, creds sapsim.Credentials) map[string]string {
	return map[string]string{
		"base_url": url, "client": "100", "user": creds.User, "password": creds.Password,
		"sales_org": "1010", "distribution_channel": "10", "division": "00", "sold_to_party": "1000001",
		"plants": "store-1=1010/0001, store-2=1020/0001", "cost_centers": "store-1=10101101",
	}
}

// setup starts a simulated SAP system and a connector wired to it; edit
// changes the connector's settings.
func setup(t *testing.T, edit func(map[string]string)) *bundle {
	t.Helper()
	sim := sapsim.New(erpsim.Options{}, sapsim.DefaultCredentials())
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	s := settings(srv.URL, sapsim.DefaultCredentials())
	if edit != nil {
		edit(s)
	}
	c, err := sap.New(s, erp.Deps{HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{conn: c, sim: sim, url: srv.URL}
}

func target(b *bundle) *erptest.Target {
	return &erptest.Target{
		Connector:       b.conn,
		Kinds:           kinds,
		Records:         func() map[string]int { return b.sim.Sim().Stats().Records },
		Throttle:        func() { b.sim.Sim().Force(erpsim.ForceThrottle) },
		DropAfterCommit: func() { b.sim.Sim().Force(erpsim.ForceDrop) },
		Invalid: func(id string) erp.Document {
			d := erptest.Sample(erp.CashSale, id)
			d.Lines[0].SKU = sapsim.InvalidMaterial
			return d
		},
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	// A system whose APIs honour Repeatability-Request-ID.
	t.Run("Repeatable", func(t *testing.T) {
		t.Parallel()
		erptest.Run(t, func(t *testing.T) *erptest.Target { return target(setup(t, nil)) })
	})
	// A system whose APIs ignore it (SAP KBA 2931385): the connector must
	// look records up before creating them.
	t.Run("LookupBeforeCreate", func(t *testing.T) {
		t.Parallel()
		erptest.Run(t, func(t *testing.T) *erptest.Target {
			b := setup(t, nil)
			b.sim.IgnoreRepeatability(allServices...)
			return target(b)
		})
	})
}

func post(t *testing.T, c erp.Connector, docs ...erp.Document) []error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs, err := c.Post(ctx, docs)
	if err != nil {
		out := make([]error, len(docs))
		for i := range out {
			out[i] = err
		}
		return out
	}
	return errs
}

func TestWrongPassword(t *testing.T) {
	t.Parallel()
	b := setup(t, func(s map[string]string) { s["password"] = "wrong" })
	err := post(t, b.conn, erptest.Sample(erp.CashSale, "pw-1"))[0]
	var e *erp.Error
	if !errors.As(err, &e) || e.Class != erp.Permanent || e.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %v, want permanent HTTP 401", err)
	}
	if !strings.Contains(err.Error(), "credentials") {
		t.Errorf("the error does not say what is wrong: %v", err)
	}
	if err := b.conn.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Errorf("Check with a wrong password: %v", err)
	}
	if n := b.sim.Sim().Stats().Rejections["auth"]; n == 0 {
		t.Error("the simulator saw no failed logon")
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	if err := b.conn.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestCSRFExpiryRefetches(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for i, id := range []string{"csrf-1", "csrf-2"} {
		if i == 1 {
			b.sim.ExpireTokens() // the session's token is no longer valid
		}
		if err := post(t, b.conn, erptest.Sample(erp.CashSale, id))[0]; err != nil {
			t.Fatalf("post %s: %v", id, err)
		}
	}
	st := b.sim.Sim().Stats()
	if st.Rejections["csrf"] != 1 {
		t.Errorf("CSRF refusals: %d, want exactly 1 (then a refetch)", st.Rejections["csrf"])
	}
	if st.Records["csrf-1"] != 1 || st.Records["csrf-2"] != 1 {
		t.Errorf("records: %v", st.Records)
	}
}

// A client without the session cookie cannot use its token: SAP ties the
// token to the session.
func TestCSRFTokenIsTiedToTheSession(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	auth := func(r *http.Request) {
		c := sapsim.DefaultCredentials()
		r.SetBasicAuth(c.User, c.Password)
	}
	root := b.url + "/sap/opu/odata/sap/API_SALES_ORDER_SRV/"
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, root, http.NoBody)
	auth(req)
	req.Header.Set("X-CSRF-Token", "Fetch")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tok := resp.Header.Get("X-CSRF-Token")
	if tok == "" || len(resp.Cookies()) == 0 {
		t.Fatalf("fetch answered token %q and %d cookies", tok, len(resp.Cookies()))
	}
	req, _ = http.NewRequestWithContext(context.Background(), http.MethodPost, root+"$batch", strings.NewReader(""))
	auth(req)
	req.Header.Set("X-CSRF-Token", tok) // without the cookie
	req.Header.Set("Content-Type", "multipart/mixed; boundary=batch_x")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-CSRF-Token") != "Required" {
		t.Fatalf("a token without its session: HTTP %d, X-CSRF-Token %q", resp.StatusCode, resp.Header.Get("X-CSRF-Token"))
	}
}

func TestRateLimitedCarriesRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sim.Sim().Force(erpsim.ForceThrottle)
	err := post(t, b.conn, erptest.Sample(erp.CashSale, "rl-1"))[0]
	if c, wait := erp.Classify(err); c != erp.RateLimited || wait != time.Second {
		t.Fatalf("throttled: %s after %v (%v), want rate_limited after 1s", c, wait, err)
	}
}

func TestServerErrorIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sim.Sim().Force(erpsim.Force5xx)
	err := post(t, b.conn, erptest.Sample(erp.CashSale, "5xx-1"))[0]
	if c, _ := erp.Classify(err); c != erp.Retry {
		t.Fatalf("503: %s (%v), want retry", c, err)
	}
	if err := post(t, b.conn, erptest.Sample(erp.CashSale, "5xx-1"))[0]; err != nil {
		t.Fatal(err)
	}
	if n := b.sim.Sim().Stats().Records["5xx-1"]; n != 1 {
		t.Fatalf("created %d times", n)
	}
}

// Documents of different services and a bad one in one call: each gets
// its own answer, in order.
func TestMixedBatch(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	bad := erptest.Sample(erp.InventoryAdjustment, "mix-bad")
	bad.Lines[1].SKU = sapsim.InvalidMaterial
	count := erptest.Sample(erp.InventoryCount, "mix-count")
	docs := []erp.Document{erptest.Sample(erp.CashSale, "mix-sale"), bad, erptest.Sample(erp.TransferOrder, "mix-tr"),
		count, erptest.Sample(erp.CashRefund, "mix-refund"), erptest.Sample(erp.CashSale, "mix-sale")}
	errs := post(t, b.conn, docs...)
	for _, i := range []int{0, 2, 4, 5} {
		if errs[i] != nil {
			t.Errorf("doc %d (%s): %v", i, docs[i].ExternalID, errs[i])
		}
	}
	for _, i := range []int{1, 3} {
		if c, _ := erp.Classify(errs[i]); errs[i] == nil || c != erp.Permanent {
			t.Errorf("doc %d (%s): %v, want permanent", i, docs[i].ExternalID, errs[i])
		}
	}
	if !strings.Contains(errs[1].Error(), "NO-SUCH-ITEM") || !strings.Contains(errs[3].Error(), "physical inventory") {
		t.Errorf("errors do not explain themselves: %v / %v", errs[1], errs[3])
	}
	st := b.sim.Sim().Stats()
	for _, id := range []string{"mix-sale", "mix-tr", "mix-refund"} {
		if st.Records[id] != 1 {
			t.Errorf("%s created %d times", id, st.Records[id])
		}
	}
	if st.Records["mix-bad"] != 0 {
		t.Error("the refused adjustment left a record: a change set must roll back as a whole")
	}
}

// An adjustment with a gain and a loss is two material documents (501
// under code 05, 551 under code 03) created in one change set.
func TestAdjustmentSplitsByMovementCode(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	if err := post(t, b.conn, erptest.Sample(erp.InventoryAdjustment, "adj-1"))[0]; err != nil {
		t.Fatal(err)
	}
	recs := b.sim.Records("API_MATERIAL_DOCUMENT_SRV", "adj-1")
	if len(recs) != 2 {
		t.Fatalf("%d material documents, want 2", len(recs))
	}
	var codes []string
	for _, r := range recs {
		var h struct {
			GoodsMovementCode string
			Items             []struct{ GoodsMovementType, QuantityInEntryUnit, CostCenter string } `json:"to_MaterialDocumentItem"`
		}
		if err := json.Unmarshal(r.Payload, &h); err != nil {
			t.Fatal(err)
		}
		codes = append(codes, h.GoodsMovementCode+":"+h.Items[0].GoodsMovementType+":"+h.Items[0].QuantityInEntryUnit+":"+h.Items[0].CostCenter)
	}
	if got := strings.Join(codes, " "); got != "03:551:1:10101101 05:501:3:" {
		t.Errorf("material documents %s", got)
	}
	if n := b.sim.Sim().Stats().Records["adj-1"]; n != 1 {
		t.Errorf("counted as %d records, want 1", n)
	}
}

// Money crosses as exact decimal strings: SAP's net value (rate ×
// quantity ÷ pricing unit) equals the till's line totals to the minor unit.
func TestMoneyIsExact(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	d := erptest.Sample(erp.CashSale, "money-1")
	d.Lines = []erp.Line{
		{SKU: "TEE-1", Quantity: event.Units(3), Amount: 1000},  // 3 for 10.00: 3.333… each
		{SKU: "CHEESE", Quantity: event.Qty(250), Amount: 199},  // 0.25 kg for 1.99
		{SKU: "CAP-2", Quantity: event.Units(7), Amount: 6993},  // 9.99 each
		{SKU: "GIFT", Quantity: event.Units(1), Amount: 0},      // free
		{SKU: "BIG", Quantity: event.Units(1), Amount: 1234567}, // 12 345.67
	}
	if err := post(t, b.conn, d)[0]; err != nil {
		t.Fatal(err)
	}
	recs := b.sim.Records("API_SALES_ORDER_SRV", "money-1")
	if len(recs) != 1 {
		t.Fatalf("%d sales orders", len(recs))
	}
	if recs[0].NetAmount != "12427.59" || recs[0].Currency != "EUR" {
		t.Errorf("SAP's net value %q %s, want 12427.59 EUR", recs[0].NetAmount, recs[0].Currency)
	}
	if s := string(recs[0].Payload); !strings.Contains(s, `"ConditionRateValue":"10.00","ConditionCurrency":"EUR","ConditionQuantity":"3"`) ||
		!strings.Contains(s, `"RequestedQuantity":"0.25"`) || !strings.Contains(s, `"ConditionRateValue":"7.96"`) {
		t.Errorf("payload %s", s)
	}

	jpy := erptest.Sample(erp.CashSale, "money-jpy")
	jpy.Currency = "JPY"
	jpy.Lines = []erp.Line{{SKU: "TEE-1", Quantity: event.Units(2), Amount: 3001}}
	if err := post(t, b.conn, jpy)[0]; err != nil {
		t.Fatal(err)
	}
	if recs := b.sim.Records("API_SALES_ORDER_SRV", "money-jpy"); len(recs) != 1 || recs[0].NetAmount != "3001" {
		t.Errorf("JPY net value %+v, want 3001", recs)
	}
}

func TestUnsupportedKindsArePermanent(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for _, k := range []erp.Kind{erp.InventoryCount, erp.Fulfilment, erp.OrderCancel} {
		err := post(t, b.conn, erptest.Sample(k, "unsup-"+string(k)))[0]
		if c, _ := erp.Classify(err); err == nil || c != erp.Permanent {
			t.Errorf("%s: %v, want permanent", k, err)
		}
	}
	if n := b.sim.Sim().Stats().Requests; n != 0 {
		t.Errorf("%d requests for documents that cannot be posted", n)
	}
}

func TestUnmappedLocationIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	d := erptest.Sample(erp.CashSale, "loc-1")
	d.Location = "store-9"
	err := post(t, b.conn, d)[0]
	if c, _ := erp.Classify(err); err == nil || c != erp.Permanent || !strings.Contains(err.Error(), "plants") {
		t.Fatalf("unmapped location: %v", err)
	}
}

// Event IDs longer than SAP's reference fields are stored as a stable
// hash, found again by the look-up.
func TestLongExternalID(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sim.IgnoreRepeatability(allServices...)
	id := "01JDX4T5C9Q8RZ7K3M2N6P0W1Y-store-1-register-7-receipt-000123"
	for range 2 {
		if err := post(t, b.conn, erptest.Sample(erp.InventoryAdjustment, id), erptest.Sample(erp.CashSale, id+"-s"))[0]; err != nil {
			t.Fatal(err)
		}
	}
	st := b.sim.Sim().Stats()
	if len(st.Records) != 2 || len(st.DuplicateIDs()) != 0 {
		t.Fatalf("records %v", st.Records)
	}
	for ref := range st.Records {
		if !strings.HasPrefix(ref, "~") {
			t.Errorf("reference %q is not a hashed one", ref)
		}
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	t.Parallel()
	base := settings("https://s4.example.com", sapsim.DefaultCredentials())
	cases := []struct {
		edit func(map[string]string)
		want string
	}{
		{func(s map[string]string) { delete(s, "base_url") }, "base_url: is required"},
		{func(s map[string]string) { s["base_url"] = "s4.example.com" }, "base_url"},
		{func(s map[string]string) { s["password"] = "" }, "user: set user and password"},
		{func(s map[string]string) { s["token"] = "t" }, "token: set either token"},
		{func(s map[string]string) { s["plants"] = "store-1" }, "plants: entry"},
		{func(s map[string]string) { s["plants"] = "store-1=10" }, "4 characters"},
		{func(s map[string]string) { s["movement_loss"] = "702" }, "movement_loss: 702 is posted by SAP itself"},
		{func(s map[string]string) { s["movement_gain"] = "999" }, "movement_gain"},
		{func(s map[string]string) { s["max_batch"] = "500" }, "max_batch"},
		{func(s map[string]string) { s["client"] = "1" }, "client"},
		{func(s map[string]string) { delete(s, "sold_to_party") }, "sold_to_party: is required"},
	}
	for _, tc := range cases {
		s := map[string]string{}
		for k, v := range base {
			s[k] = v
		}
		tc.edit(s)
		_, err := sap.New(s, erp.Deps{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error with %q, got %v", tc.want, err)
		}
	}
	if _, err := sap.Spec.New(base, erp.Deps{}); err != nil {
		t.Errorf("valid settings: %v", err)
	}
}

func TestResetsAndTimeoutsAreRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sim.Sim().Force(erpsim.ForceReset)
	err := post(t, b.conn, erptest.Sample(erp.CashSale, "reset-1"))[0]
	if c, _ := erp.Classify(err); err == nil || c != erp.Retry {
		t.Fatalf("a reset connection: %v, want retry", err)
	}

	slow := sapsim.New(erpsim.Options{Latency: 2 * time.Second}, sapsim.DefaultCredentials())
	srv := httptest.NewServer(slow)
	t.Cleanup(srv.Close)
	c, err := sap.New(settings(srv.URL, sapsim.DefaultCredentials()), erp.Deps{HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.Post(ctx, []erp.Document{erptest.Sample(erp.CashSale, "slow-1")})
	if cl, _ := erp.Classify(err); err == nil || cl != erp.Retry {
		t.Fatalf("a timeout: %v, want retry", err)
	}
}
