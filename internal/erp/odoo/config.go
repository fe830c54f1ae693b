package odoo

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/tillsync/tillsync/internal/erp"
)

// Spec describes the Odoo connector: its settings and its constructor.
var Spec = erp.Spec{
	Kind: "odoo",
	Doc: "Odoo 19 through the external JSON-2 API (POST /json/2/<model>/<method>, bearer API key). " +
		"Till sales and refunds become confirmed sale.order records, stock documents validated " +
		"stock.picking records, summaries posted account.move journal entries; each carries the " +
		"tillsync external ID in a custom field so redeliveries never duplicate.",
	Fields: fields,
	New:    func(settings map[string]string, deps erp.Deps) (erp.Connector, error) { return New(settings, deps) },
}

// fields are the connector's settings (apart from Spec, which refers to New).
var fields = []erp.Field{
	{Name: "base_url", Required: true, Doc: "Odoo server URL, e.g. https://mycompany.odoo.com (without /json/2)."},
	{Name: "api_key", Required: true, Secret: true, Doc: "API key of a dedicated bot user (Preferences → Account Security → New API Key; keys expire after at most three months)."},
	{Name: "database", Doc: "Database name, sent as X-Odoo-Database; needed only when the server hosts several databases."},
	{Name: "warehouses", Required: true, Doc: "tillsync location → Odoo warehouse code (stock.warehouse.code), e.g. store-1=ST1,store-2=ST2."},
	{Name: "customer_id", Required: true, Doc: "res.partner ID of the walk-in customer that till sales are booked to."},
	{Name: "ref_field", Default: "x_tillsync_id", Doc: "Char field on sale.order, stock.picking and account.move holding the tillsync external ID (a custom x_ field, indexed; unique if a module adds the constraint)."},
	{Name: "adjustment_location_id", Doc: "stock.location ID of the Inventory adjustment virtual location (usage inventory); needed for inventory adjustments."},
	{Name: "transit_location_id", Doc: "stock.location ID of the inter-warehouse transit location; needed for transfers."},
	{Name: "summary_journal_id", Doc: "account.journal ID summaries are posted in; needed for summaries."},
	{Name: "sales_account_id", Doc: "account.account ID credited with net sales in summaries."},
	{Name: "tax_account_ids", Doc: "Tax code → account.account ID credited with the tax in summaries, e.g. DE-VAT-19=251."},
	{Name: "payment_account_ids", Doc: "Tender → account.account ID debited in summaries, e.g. card=101,cash=102,gift_card=103."},
	{Name: "max_batch", Default: "50", Doc: "Documents per Post; one create call per model carries them all."},
}

type config struct {
	baseURL       string
	apiKey        string
	database      string
	warehouses    map[string]string
	customerID    int64
	refField      string
	adjustmentLoc int64
	transitLoc    int64
	journalID     int64
	salesAccount  int64
	taxAccounts   map[string]int64
	payAccounts   map[string]int64
	maxBatch      int
}

// parse reads and validates settings; every message names the field.
func parse(settings map[string]string) (config, error) {
	get := func(name string) string {
		if v, ok := settings[name]; ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		for _, f := range fields {
			if f.Name == name {
				return f.Default
			}
		}
		return ""
	}
	var c config
	for _, f := range fields {
		if f.Required && get(f.Name) == "" {
			return c, fmt.Errorf("odoo: setting %s is required: %s", f.Name, f.Doc)
		}
	}
	u, err := url.Parse(get("base_url"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("odoo: setting base_url %q is not an http(s) URL such as https://mycompany.odoo.com", get("base_url"))
	}
	c.baseURL = strings.TrimSuffix(strings.TrimSuffix(u.String(), "/"), "/json/2")
	c.apiKey, c.database, c.refField = get("api_key"), get("database"), get("ref_field")
	if c.warehouses, err = parseMap("warehouses", get("warehouses")); err != nil {
		return c, err
	}
	ids := []struct {
		name     string
		dst      *int64
		required bool
	}{
		{"customer_id", &c.customerID, true},
		{"adjustment_location_id", &c.adjustmentLoc, false},
		{"transit_location_id", &c.transitLoc, false},
		{"summary_journal_id", &c.journalID, false},
		{"sales_account_id", &c.salesAccount, false},
	}
	for _, f := range ids {
		if *f.dst, err = parseID(f.name, get(f.name)); err != nil {
			return c, err
		}
	}
	for _, m := range []struct {
		name string
		dst  *map[string]int64
	}{{"tax_account_ids", &c.taxAccounts}, {"payment_account_ids", &c.payAccounts}} {
		raw, err := parseMap(m.name, get(m.name))
		if err != nil {
			return c, err
		}
		*m.dst = make(map[string]int64, len(raw))
		for k, v := range raw {
			if (*m.dst)[k], err = parseID(m.name+" ("+k+")", v); err != nil {
				return c, err
			}
		}
	}
	c.maxBatch, err = strconv.Atoi(get("max_batch"))
	if err != nil || c.maxBatch < 1 || c.maxBatch > 1000 {
		return c, fmt.Errorf("odoo: setting max_batch %q must be a whole number from 1 to 1000", get("max_batch"))
	}
	return c, nil
}

// parseID reads a positive record ID; empty is 0 (not configured).
func parseID(name, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("odoo: setting %s %q must be a positive Odoo record ID", name, v)
	}
	return n, nil
}

// parseMap reads "a=x,b=y".
func parseMap(name, v string) (map[string]string, error) {
	out := map[string]string{}
	if v == "" {
		return out, nil
	}
	for _, pair := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(pair, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" || val == "" {
			return nil, fmt.Errorf("odoo: setting %s: %q is not key=value (write e.g. store-1=ST1,store-2=ST2)", name, pair)
		}
		out[k] = val
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
