package sap

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/tillsync/tillsync/internal/erp"
)

// Spec describes the SAP S/4HANA connector: its settings and constructor.
var Spec = erp.Spec{
	Kind: "sap",
	Doc: "SAP S/4HANA over OData V2: sales as cash-sale or standard sales orders (API_SALES_ORDER_SRV), " +
		"refunds as customer returns (API_CUSTOMER_RETURN_SRV), stock as material documents " +
		"(API_MATERIAL_DOCUMENT_SRV), posted in $batch requests with one change set per document.",
	Fields: fields,
	New: func(settings map[string]string, deps erp.Deps) (erp.Connector, error) {
		c, err := New(settings, deps)
		if err != nil {
			return nil, err
		}
		return c, nil
	},
}

var fields = []erp.Field{
	{Name: "base_url", Required: true, Doc: "Scheme and host of the S/4HANA system, e.g. https://my-s4.example.com:44300."},
	{Name: "service_path", Default: "/sap/opu/odata/sap", Doc: "Path under which the OData V2 services are published."},
	{Name: "client", Doc: "SAP client (sap-client), e.g. 100; empty for the system's default client."},
	{Name: "user", Doc: "Communication user for basic authentication."},
	{Name: "password", Secret: true, Doc: "Password of the communication user."},
	{Name: "token", Secret: true, Doc: "OAuth bearer token, instead of user and password."},
	{Name: "sales_org", Required: true, Doc: "Sales organization (SalesOrganization), e.g. 1010."},
	{Name: "distribution_channel", Required: true, Doc: "Distribution channel (DistributionChannel), e.g. 10."},
	{Name: "division", Required: true, Doc: "Division (OrganizationDivision), e.g. 00."},
	{Name: "sold_to_party", Required: true, Doc: "Customer number of the one-time/walk-in customer sales are booked to, e.g. 1000001."},
	{Name: "plants", Required: true, Doc: "Location to plant (and optionally storage location): store-1=1010,store-2=1020/0001."},
	{Name: "storage_location", Doc: "Storage location used where plants names none, e.g. 0001."},
	{Name: "cost_centers", Doc: "Location to cost center for stock losses (551 needs one unless SAP derives it): store-1=10101101."},
	{Name: "unit", Default: "PC", Doc: "Unit of measure of quantities (sales and entry unit), e.g. PC or EA."},
	{Name: "language", Default: "EN", Doc: "Language of texts written to SAP."},
	{Name: "order_type_sale", Default: "CS", Doc: "Sales document type of till sales (CS: cash sale, delivered and billed at once)."},
	{Name: "order_type_online", Default: "OR", Doc: "Sales document type of online orders (OR: standard order)."},
	{Name: "order_type_summary", Default: "CS", Doc: "Sales document type of periodic summaries (one aggregated cash sale per store and period)."},
	{Name: "return_type", Default: "RE", Doc: "Customer return type of refunds (RE: returns; CBAR with Advanced Returns Management)."},
	{Name: "return_reason", Doc: "Order reason (SDDocumentReason) of refunds, e.g. 001; empty for none."},
	{Name: "price_condition", Default: "PPR0", Doc: "Pricing condition type that carries the till's line amount (PPR0; PR00 in older pricing procedures)."},
	{Name: "movement_gain", Default: "501", Doc: "Movement type of stock increases and receipts (501: receipt without purchase order)."},
	{Name: "movement_loss", Default: "551", Doc: "Movement type of stock decreases (551: withdrawal for scrapping; 201: consumption for cost center)."},
	{Name: "movement_transfer_out", Default: "303", Doc: "Movement type when a transfer leaves its plant (303: remove from storage, two-step)."},
	{Name: "movement_transfer_in", Default: "305", Doc: "Movement type when a transfer arrives (305: place in storage, two-step)."},
	{Name: "max_batch", Default: "20", Doc: "Documents per $batch request (1 to 100)."},
}

// place is where stock sits in SAP.
type place struct{ plant, sloc string }

type config struct {
	baseURL     string // scheme://host[:port] + service path, no trailing slash
	client      string
	user, pass  string
	token       string
	salesOrg    string
	channel     string
	division    string
	soldTo      string
	plants      map[string]place
	costCenters map[string]string
	unit        string
	language    string

	orderTypeSale, orderTypeOnline, orderTypeSummary string
	returnType, returnReason                         string
	priceCondition                                   string

	moveGain, moveLoss, moveOut, moveIn string
	maxBatch                            int
}

// goodsMovementCodes maps the movement types the connector may post to the
// GoodsMovementCode (BAPI transaction code, table T158G) a material
// document header needs: 03 goods issue, 04 transfer posting, 05 other
// goods receipts. The codes are SAP's; see the BAPI_GOODSMVT_CREATE
// documentation of GOODSMVT_CODE, which API_MATERIAL_DOCUMENT_SRV follows
// (SAP KBA 3027233 shows the code in an API payload).
var goodsMovementCodes = map[string]string{
	"201": "03", "202": "03", "551": "03", "552": "03", "555": "03", "556": "03",
	"301": "04", "302": "04", "303": "04", "304": "04", "305": "04", "306": "04",
	"311": "04", "312": "04", "313": "04", "314": "04", "315": "04", "316": "04",
	"501": "05", "502": "05", "521": "05", "522": "05", "561": "05", "562": "05",
}

func movementTypes() string {
	ts := make([]string, 0, len(goodsMovementCodes))
	for t := range goodsMovementCodes {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return strings.Join(ts, ", ")
}

func parseConfig(s map[string]string) (config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(s[name]); v != "" {
			return v
		}
		for _, f := range fields {
			if f.Name == name {
				return f.Default
			}
		}
		return ""
	}
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("sap: %s: %s", field, fmt.Sprintf(format, a...)))
	}
	for _, f := range fields {
		if f.Required && get(f.Name) == "" {
			bad(f.Name, "is required (%s)", f.Doc)
		}
	}
	c := config{client: get("client"), user: get("user"), pass: s["password"], token: s["token"],
		salesOrg: get("sales_org"), channel: get("distribution_channel"), division: get("division"),
		soldTo: get("sold_to_party"), unit: strings.ToUpper(get("unit")), language: strings.ToUpper(get("language")),
		orderTypeSale: get("order_type_sale"), orderTypeOnline: get("order_type_online"),
		orderTypeSummary: get("order_type_summary"), returnType: get("return_type"),
		returnReason: get("return_reason"), priceCondition: get("price_condition"),
		moveGain: get("movement_gain"), moveLoss: get("movement_loss"),
		moveOut: get("movement_transfer_out"), moveIn: get("movement_transfer_in")}

	if raw := get("base_url"); raw != "" {
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			bad("base_url", "%q is not a URL: %v", raw, err)
		case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
			bad("base_url", "%q must be an absolute http(s) URL such as https://my-s4.example.com", raw)
		case u.RawQuery != "":
			bad("base_url", "%q must not carry a query; set the SAP client with the client setting", raw)
		default:
			path := strings.TrimRight(u.Path, "/")
			if path == "" {
				path = strings.TrimRight(get("service_path"), "/")
			}
			c.baseURL = u.Scheme + "://" + u.Host + path
		}
	}
	if c.client != "" {
		if n, err := strconv.Atoi(c.client); err != nil || n < 0 || n > 999 || len(c.client) != 3 {
			bad("client", "%q must be a three-digit SAP client such as 100", c.client)
		}
	}
	switch {
	case c.token != "" && (c.user != "" || c.pass != ""):
		bad("token", "set either token or user and password, not both")
	case c.token == "" && (c.user == "" || c.pass == ""):
		bad("user", "set user and password (basic authentication) or token (bearer)")
	}
	var err error
	if c.plants, err = parsePlants(get("plants"), get("storage_location")); err != nil {
		errs = append(errs, err)
	}
	if c.costCenters, err = parseMap("cost_centers", get("cost_centers")); err != nil {
		errs = append(errs, err)
	}
	for _, m := range []struct{ field, value string }{{"movement_gain", c.moveGain}, {"movement_loss", c.moveLoss},
		{"movement_transfer_out", c.moveOut}, {"movement_transfer_in", c.moveIn}} {
		switch {
		case m.value == "701" || m.value == "702":
			bad(m.field, "%s is posted by SAP itself when inventory differences of a physical inventory document are posted; "+
				"it cannot be entered as a goods movement (use 501/551)", m.value)
		case goodsMovementCodes[m.value] == "":
			bad(m.field, "%q is not a movement type this connector posts; use one of %s", m.value, movementTypes())
		}
	}
	if mb := get("max_batch"); mb != "" {
		n, err := strconv.Atoi(mb)
		if err != nil || n < 1 || n > 100 {
			bad("max_batch", "%q must be a whole number from 1 to 100", mb)
		}
		c.maxBatch = n
	}
	if len(c.unit) > 3 {
		bad("unit", "%q is longer than SAP's 3-character unit of measure", c.unit)
	}
	return c, errors.Join(errs...)
}

// parsePlants reads "loc=plant[/sloc],…".
func parsePlants(raw, defaultSloc string) (map[string]place, error) {
	m, err := parseMap("plants", raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string]place, len(m))
	for loc, v := range m {
		plant, sloc, _ := strings.Cut(v, "/")
		if sloc == "" {
			sloc = defaultSloc
		}
		if len(plant) != 4 {
			return nil, fmt.Errorf("sap: plants: %s=%s: an SAP plant has 4 characters (e.g. 1010)", loc, v)
		}
		if len(sloc) > 4 {
			return nil, fmt.Errorf("sap: plants: %s=%s: a storage location has at most 4 characters (e.g. 0001)", loc, v)
		}
		out[loc] = place{plant: plant, sloc: sloc}
	}
	return out, nil
}

func parseMap(field, raw string) (map[string]string, error) {
	out := map[string]string{}
	for _, entry := range strings.Split(raw, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		k, v, ok := strings.Cut(entry, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("sap: %s: entry %q must be location=value (e.g. store-1=1010)", field, entry)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("sap: %s: location %q is listed twice", field, k)
		}
		out[k] = v
	}
	return out, nil
}
