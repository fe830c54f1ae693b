package netsuite

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
)

// accountPlaceholder in base_url stands for the account's domain label.
const accountPlaceholder = "<account>"

// Spec describes the NetSuite connector: its settings and its constructor.
var Spec = erp.Spec{
	Kind: "netsuite",
	Doc: "NetSuite SuiteTalk REST web services with Token-Based Authentication (OAuth 1.0a, HMAC-SHA256). " +
		"Till sales and refunds become cashSale and cashRefund records, web orders salesOrder records " +
		"(fulfilled by itemFulfillment, cancelled by closing their lines), stock changes and counts " +
		"inventoryAdjustment records, transfers a transferOrder shipped by an itemFulfillment and received by " +
		"an itemReceipt, summaries journalEntry records. Every record is keyed by the tillsync external ID " +
		"(PUT …/eid:<id> upserts), so a redelivery updates the record it created and never duplicates it. " +
		"One document per request: NetSuite's REST batch operations are asynchronous jobs.",
	Fields: fields,
	New:    func(settings map[string]string, deps erp.Deps) (erp.Connector, error) { return New(settings, deps) },
}

// fields are the connector's settings.
var fields = []erp.Field{
	{Name: "account_id", Required: true, Doc: "NetSuite account ID as shown under Setup > Company > Company Information, e.g. 1234567 or 1234567_SB1 for a sandbox; it is the OAuth realm."},
	{Name: "base_url", Default: "https://" + accountPlaceholder + ".suitetalk.api.netsuite.com", Doc: "REST web services domain; " + accountPlaceholder + " is replaced by the account ID in lower case with _ as - (1234567_SB1 → 1234567-sb1)."},
	{Name: "consumer_key", Required: true, Doc: "Consumer key of the integration record (Setup > Integration > Manage Integrations, Token-Based Authentication enabled)."},
	{Name: "consumer_secret", Required: true, Secret: true, Doc: "Consumer secret of the integration record."},
	{Name: "token_id", Required: true, Doc: "Token ID of the access token (Setup > Users/Roles > Access Tokens) for the integration user and role."},
	{Name: "token_secret", Required: true, Secret: true, Doc: "Token secret of the access token."},
	{Name: "subsidiary", Doc: "Internal ID of the subsidiary transactions are booked in (OneWorld accounts; leave empty otherwise)."},
	{Name: "customer", Required: true, Doc: "Internal ID of the customer cash sales, cash refunds and web orders are booked to, e.g. a \"POS walk-in\" customer in the stores' currency."},
	{Name: "adjustment_account", Doc: "Internal ID of the GL account inventory adjustments and counts post against; needed for adjustments, receipts without a purchase order, and counts."},
	{Name: "sales_account", Doc: "Internal ID of the income account credited with net sales in summary journal entries; needed for summaries."},
	{Name: "tax_accounts", Doc: "Tax code → internal ID of the liability account credited with that tax in summaries, e.g. DE-VAT-19=2201,DE-VAT-7=2202; * is any other code."},
	{Name: "payment_accounts", Doc: "Tender → internal ID of the account debited in summaries, e.g. card=1100,card:amex=1101,cash=1000,gift_card=2400,store_credit=2410."},
	{Name: "tips_account", Doc: "Internal ID of the liability account credited with card tips in summaries; needed when tenders carry tips."},
}

// config is the parsed settings.
type config struct {
	baseURL         string
	accountID       string
	consumerKey     string
	consumerSecret  string
	tokenID         string
	tokenSecret     string
	subsidiary      string
	customer        string
	adjustmentAcct  string
	salesAcct       string
	tipsAcct        string
	taxAccounts     map[string]string
	paymentAccounts map[string]string
}

// parse reads and validates settings; every message names the field.
func parse(settings map[string]string) (config, error) {
	get := func(name string) string { return strings.TrimSpace(settings[name]) }
	var c config
	var missing []string
	for _, name := range []string{"account_id", "consumer_key", "consumer_secret", "token_id", "token_secret", "customer"} {
		if get(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("netsuite: setting(s) %s required (see `tillsync erp kinds` for what each one is)", strings.Join(missing, ", "))
	}
	c.accountID, c.consumerKey, c.consumerSecret = get("account_id"), get("consumer_key"), get("consumer_secret")
	c.tokenID, c.tokenSecret = get("token_id"), get("token_secret")
	for i := 0; i < len(c.accountID); i++ {
		if ch := c.accountID[i]; !eidChar(ch) || ch == '-' {
			return c, fmt.Errorf("netsuite: setting account_id %q is not a NetSuite account ID (letters, digits and _ only, e.g. 1234567_SB1)", c.accountID)
		}
	}

	raw := get("base_url")
	if raw == "" {
		raw = "https://" + accountPlaceholder + ".suitetalk.api.netsuite.com"
	}
	raw = strings.ReplaceAll(raw, accountPlaceholder, strings.ToLower(strings.ReplaceAll(c.accountID, "_", "-")))
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return c, fmt.Errorf("netsuite: setting base_url %q is not an http(s) URL such as https://1234567.suitetalk.api.netsuite.com", raw)
	}
	c.baseURL = strings.TrimSuffix(strings.TrimSuffix(u.String(), "/"), "/services/rest")

	ids := []struct {
		name string
		dst  *string
	}{
		{"subsidiary", &c.subsidiary}, {"customer", &c.customer}, {"adjustment_account", &c.adjustmentAcct},
		{"sales_account", &c.salesAcct}, {"tips_account", &c.tipsAcct},
	}
	for _, f := range ids {
		if *f.dst, err = internalID(f.name, get(f.name)); err != nil {
			return c, err
		}
	}
	if c.taxAccounts, err = accountMap("tax_accounts", get("tax_accounts")); err != nil {
		return c, err
	}
	if c.paymentAccounts, err = accountMap("payment_accounts", get("payment_accounts")); err != nil {
		return c, err
	}
	return c, nil
}

// internalID checks a NetSuite internal ID: digits (empty: not set).
func internalID(field, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return "", fmt.Errorf("netsuite: setting %s %q is not a NetSuite internal ID (digits only, as shown in the record's URL ?id=…)", field, v)
		}
	}
	return v, nil
}

// accountMap parses "key=id,key=id".
func accountMap(field, v string) (map[string]string, error) {
	out := map[string]string{}
	if v == "" {
		return out, nil
	}
	for _, part := range strings.Split(v, ",") {
		k, id, ok := strings.Cut(strings.TrimSpace(part), "=")
		k, id = strings.TrimSpace(k), strings.TrimSpace(id)
		if !ok || k == "" || id == "" {
			return nil, fmt.Errorf("netsuite: setting %s: %q is not key=internal-id", field, part)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("netsuite: setting %s names %s twice", field, k)
		}
		id, err := internalID(field+" ("+k+")", id)
		if err != nil {
			return nil, err
		}
		out[k] = id
	}
	return out, nil
}

// New builds a connector from settings (secrets already resolved).
func New(settings map[string]string, deps erp.Deps) (*Connector, error) {
	for k := range settings {
		if !knownField(k) {
			return nil, fmt.Errorf("netsuite: unknown setting %q (known: %s)", k, strings.Join(fieldNames(), ", "))
		}
	}
	cfg, err := parse(settings)
	if err != nil {
		return nil, err
	}
	if deps.HTTP == nil {
		deps.HTTP = &http.Client{Timeout: 2 * time.Minute}
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	c := &Connector{cfg: cfg, http: deps.HTTP, log: deps.Log, now: deps.Clock}
	c.signer = &signer{realm: cfg.accountID, consumerKey: cfg.consumerKey, consumerSecret: cfg.consumerSecret,
		token: cfg.tokenID, tokenSecret: cfg.tokenSecret, now: deps.Clock, nonce: randomNonce}
	return c, nil
}

func knownField(name string) bool {
	for _, f := range fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

func fieldNames() []string {
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		out = append(out, f.Name)
	}
	sort.Strings(out)
	return out
}

// misconfigured marks a setting a document needs but the account lacks.
func misconfigured(format string, args ...any) error {
	return &erp.Error{Class: erp.Misconfigured, Err: fmt.Errorf(format, args...)}
}
