package erpnext

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/tillsync/tillsync/internal/erp"
)

// Spec describes the ERPNext connector: its settings and its constructor.
var Spec = erp.Spec{
	Kind: "erpnext",
	Doc: "ERPNext (Frappe) through its REST API (/api/resource/{DocType}, token api_key:api_secret). " +
		"Till sales and refunds become submitted POS Sales Invoices (is_pos, update_stock; refunds as " +
		"return invoices), stock documents Stock Entries and Stock Reconciliations, online orders Sales " +
		"Orders and Delivery Notes, summaries Journal Entries; each carries the tillsync external ID in a " +
		"unique custom field, and batches go in one frappe.client.insert_many call.",
	Fields: fields,
	New:    func(settings map[string]string, deps erp.Deps) (erp.Connector, error) { return New(settings, deps) },
}

// fields are the connector's settings (apart from Spec, which refers to New).
var fields = []erp.Field{
	{Name: "base_url", Required: true, Doc: "Site URL, e.g. https://erp.example.com."},
	{Name: "api_key", Required: true, Secret: true, Doc: "API key of a dedicated API user (User → Settings → API Access → Generate Keys)."},
	{Name: "api_secret", Required: true, Secret: true, Doc: "API secret shown once when the keys are generated."},
	{Name: "company", Required: true, Doc: "Company every document is booked to."},
	{Name: "warehouses", Required: true, Doc: "tillsync location → Warehouse name, e.g. store-1=Store 1 - TS,store-2=Store 2 - TS."},
	{Name: "customer", Required: true, Doc: "Customer till sales are booked to (the walk-in customer)."},
	{Name: "ref_field", Default: "tillsync_id", Doc: "Custom Data field (Unique ticked) on every posted DocType holding the tillsync external ID."},
	{Name: "pos_profile", Doc: "POS Profile for till sales (payment accounts, write-off); ERPNext picks the user's default when empty."},
	{Name: "taxes_and_charges", Doc: "Sales Taxes and Charges Template applied to invoices and orders (taxes included in the rate, as the till prices)."},
	{Name: "modes_of_payment", Default: "card=Credit Card,cash=Cash", Doc: "Tender → Mode of Payment, e.g. card=Credit Card,cash=Cash,gift_card=Gift Card."},
	{Name: "transit_warehouse", Doc: "Goods-in-transit Warehouse; needed for transfers."},
	{Name: "sales_account", Doc: "Income account credited with net sales in summaries."},
	{Name: "tax_accounts", Doc: "Tax code → account credited with the tax in summaries, e.g. DE-VAT-19=VAT 19% - TS."},
	{Name: "payment_accounts", Doc: "Tender → account debited in summaries, e.g. card=Card Clearing - TS,cash=Cash - TS."},
	{Name: "cost_center", Doc: "Cost Center of summary journal entries (the company default when empty)."},
	{Name: "max_batch", Default: "50", Doc: "Documents per Post, inserted with one insert_many call (Frappe allows 200)."},
}

type config struct {
	baseURL, apiKey, apiSecret            string
	company, customer, refField           string
	posProfile, taxes, transit            string
	salesAccount, costCenter              string
	warehouses, modes, taxAccts, payAccts map[string]string
	maxBatch                              int
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
			return c, fmt.Errorf("erpnext: setting %s is required: %s", f.Name, f.Doc)
		}
	}
	u, err := url.Parse(get("base_url"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("erpnext: setting base_url %q is not an http(s) URL such as https://erp.example.com", get("base_url"))
	}
	c.baseURL = strings.TrimSuffix(strings.TrimSuffix(u.String(), "/"), "/api")
	if strings.ContainsAny(get("api_key")+get("api_secret"), ": ") {
		return c, fmt.Errorf("erpnext: settings api_key and api_secret must be the bare key and secret, without spaces or colons")
	}
	c.apiKey, c.apiSecret = get("api_key"), get("api_secret")
	c.company, c.customer, c.refField = get("company"), get("customer"), get("ref_field")
	c.posProfile, c.taxes, c.transit = get("pos_profile"), get("taxes_and_charges"), get("transit_warehouse")
	c.salesAccount, c.costCenter = get("sales_account"), get("cost_center")
	for _, m := range []struct {
		name string
		dst  *map[string]string
	}{{"warehouses", &c.warehouses}, {"modes_of_payment", &c.modes}, {"tax_accounts", &c.taxAccts}, {"payment_accounts", &c.payAccts}} {
		if *m.dst, err = parseMap(m.name, get(m.name)); err != nil {
			return c, err
		}
	}
	c.maxBatch, err = strconv.Atoi(get("max_batch"))
	if err != nil || c.maxBatch < 1 || c.maxBatch > maxInsert {
		return c, fmt.Errorf("erpnext: setting max_batch %q must be a whole number from 1 to %d (frappe.client.insert_many's limit)", get("max_batch"), maxInsert)
	}
	return c, nil
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
			return nil, fmt.Errorf("erpnext: setting %s: %q is not key=value (write e.g. store-1=Store 1 - TS)", name, pair)
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
