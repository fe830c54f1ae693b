package csv

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Columns names the header columns that hold each field; an empty name
// means the file has no such column. Names match the header trimmed and
// case-insensitively.
type Columns struct {
	// ID identifies the document a row belongs to (a receipt or journal
	// number unique across exports). Rows with the same ID are one event;
	// the event ID is IDPrefix + the value. Without it, event IDs come from
	// the file's hash and the row's line.
	ID string `yaml:"id"`
	// Receipt groups rows into one document within a file (and is the
	// sale's receipt number) when no ID column is mapped.
	Receipt     string `yaml:"receipt"`
	Type        string `yaml:"type"`
	Timestamp   string `yaml:"timestamp"`
	Location    string `yaml:"location"`
	SKU         string `yaml:"sku"`
	Description string `yaml:"description"`
	Quantity    string `yaml:"quantity"`
	// UnitPrice is the price of one unit in major units ("12.99").
	UnitPrice string `yaml:"unit_price"`
	// Amount is the line's extended price as the till computed it
	// (weighed goods), if the export has it.
	Amount   string `yaml:"amount"`
	Register string `yaml:"register"`
	Cashier  string `yaml:"cashier"`
	Tender   string `yaml:"tender"`
	Reason   string `yaml:"reason"`
}

// Mapping says how one export format becomes canonical events.
type Mapping struct {
	Columns Columns `yaml:"columns"`
	// Comma is the field separator; 0 detects ',', ';' or tab from the
	// header line.
	Comma rune `yaml:"comma"`
	// Encoding is the file's character set: "utf-8" (default) or
	// "windows-1252" (also read for "latin1"/"iso-8859-1"), what many
	// Windows tills export as "ANSI".
	Encoding string `yaml:"encoding"`
	// DecimalComma reads "12,50" as twelve and a half and "1.234,50" with
	// '.' grouping thousands. Without it '.' is the decimal point and ','
	// may only group thousands ("1,234.50").
	DecimalComma bool `yaml:"decimal_comma"`
	// TimeLayouts are Go time layouts tried in order for the timestamp
	// column; times without an offset are in Zone. Default: RFC 3339,
	// "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04",
	// "02.01.2006 15:04:05", "02.01.2006 15:04".
	TimeLayouts []string `yaml:"time_layouts"`
	// Types maps values of the type column (case-insensitive) to event
	// types, on top of the built-in names: sale, return, refund,
	// adjustment, receipt, count and the canonical type names.
	Types map[string]event.Type `yaml:"types"`
	// DefaultType is every row's type when no type column is mapped
	// (default sale).
	DefaultType event.Type `yaml:"default_type"`
	// NegativeIsReturn reads a sale row with a negative quantity as a
	// returned item, as many tills export returns.
	NegativeIsReturn bool `yaml:"negative_is_return"`
	// Location is every row's location when no location column is mapped.
	Location string `yaml:"location"`
	// Zone is the stores' IANA time zone. Required.
	Zone string `yaml:"zone"`
	// Currency of the prices; required for sales and returns.
	Currency string `yaml:"currency"`
	// Tenders maps values of the tender column (case-insensitive) to tender
	// kinds, on top of the built-in cash, card, gift_card, store_credit.
	Tenders map[string]event.TenderKind `yaml:"tenders"`
	// DefaultTender pays sales and returns when no tender column is mapped
	// (default cash).
	DefaultTender event.TenderKind `yaml:"default_tender"`
	// DefaultReason is an adjustment's reason without a reason column
	// (default "csv import").
	DefaultReason string `yaml:"default_reason"`
	// Source names the source on every event (default "csv"); IDPrefix
	// starts every event ID (default "csv:").
	Source   string `yaml:"source"`
	IDPrefix string `yaml:"id_prefix"`
}

var defaultLayouts = []string{
	time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04",
	"02.01.2006 15:04:05", "02.01.2006 15:04",
}

var builtinTypes = map[string]event.Type{
	"sale": event.TypeSale, "sales": event.TypeSale,
	"return": event.TypeReturn, "refund": event.TypeReturn,
	"adjustment": event.TypeAdjustment, string(event.TypeAdjustment): event.TypeAdjustment,
	"receipt": event.TypeReceipt, "goods_receipt": event.TypeReceipt,
	"count": event.TypeStockCount, string(event.TypeStockCount): event.TypeStockCount,
}

var builtinTenders = map[string]event.TenderKind{
	"cash": event.TenderCash, "card": event.TenderCard, "gift_card": event.TenderGiftCard,
	"store_credit": event.TenderStoreCredit,
}

// importable are the event types a file can hold.
var importable = map[event.Type]bool{
	event.TypeSale: true, event.TypeReturn: true, event.TypeAdjustment: true, event.TypeReceipt: true, event.TypeStockCount: true,
}

// compiled is a validated mapping with its defaults applied.
type compiled struct {
	Mapping
	zone    *time.Location
	exp     int // currency minor-unit exponent
	types   map[string]event.Type
	tenders map[string]event.TenderKind
}

func (m Mapping) compile() (*compiled, error) {
	c := &compiled{Mapping: m, types: map[string]event.Type{}, tenders: map[string]event.TenderKind{}}
	if len(c.TimeLayouts) == 0 {
		c.TimeLayouts = defaultLayouts
	}
	if c.DefaultType == "" {
		c.DefaultType = event.TypeSale
	}
	if c.DefaultTender == "" {
		c.DefaultTender = event.TenderCash
	}
	if c.DefaultReason == "" {
		c.DefaultReason = "csv import"
	}
	if c.Source == "" {
		c.Source = "csv"
	}
	if c.IDPrefix == "" {
		c.IDPrefix = "csv:"
	}
	var errs []error
	bad := func(field, msg string) { errs = append(errs, fmt.Errorf("csv mapping: %s: %s", field, msg)) }
	for k, v := range builtinTypes {
		c.types[k] = v
	}
	for k, v := range m.Types {
		if !importable[v] {
			bad("types."+k, fmt.Sprintf("%q is not a type a file can hold (sale, return, inventory_adjustment, receipt, stock_count)", v))
		}
		c.types[strings.ToLower(strings.TrimSpace(k))] = v
	}
	for k, v := range builtinTenders {
		c.tenders[k] = v
	}
	for k, v := range m.Tenders {
		if _, ok := builtinTenders[string(v)]; !ok {
			bad("tenders."+k, fmt.Sprintf("%q is not one of cash, card, gift_card, store_credit", v))
		}
		c.tenders[strings.ToLower(strings.TrimSpace(k))] = v
	}
	if !importable[c.DefaultType] {
		bad("default_type", fmt.Sprintf("%q is not a type a file can hold", c.DefaultType))
	}
	if _, ok := builtinTenders[string(c.DefaultTender)]; !ok {
		bad("default_tender", fmt.Sprintf("%q is not one of cash, card, gift_card, store_credit", c.DefaultTender))
	}
	switch strings.ToLower(c.Encoding) {
	case "", "utf-8", "utf8":
		c.Encoding = "utf-8"
	case "windows-1252", "cp1252", "latin1", "iso-8859-1", "ansi":
		c.Encoding = "windows-1252"
	default:
		bad("encoding", fmt.Sprintf("%q: use utf-8 or windows-1252", c.Encoding))
	}
	switch c.Comma {
	case 0, ',', ';', '\t', '|':
	default:
		bad("comma", fmt.Sprintf("%q: use ',', ';', tab or '|' (or leave it out to detect)", c.Comma))
	}
	var err error
	if c.zone, err = event.LoadZone(c.Zone); err != nil {
		bad("zone", fmt.Sprintf("%q is not an IANA time zone (Europe/Berlin)", c.Zone))
	}
	if c.Currency != "" {
		exp, ok := event.MinorUnits(c.Currency)
		if !ok {
			bad("currency", fmt.Sprintf("%q is not an ISO 4217 currency code (EUR)", c.Currency))
		}
		c.exp = exp
	}
	if c.Columns.SKU == "" || c.Columns.Quantity == "" {
		bad("columns", "sku and quantity columns are required")
	}
	if c.Columns.Timestamp == "" {
		bad("columns.timestamp", "is required: every event needs the time it happened")
	}
	if c.Columns.Location == "" && c.Location == "" {
		bad("location", "set a location column or a fixed location")
	}
	sells := c.Columns.Type != "" || c.DefaultType == event.TypeSale || c.DefaultType == event.TypeReturn
	if sells && c.Currency == "" {
		bad("currency", "is required for sales and returns")
	}
	if sells && c.Columns.Type == "" && c.Columns.UnitPrice == "" && c.Columns.Amount == "" {
		bad("columns.unit_price", "sales need a unit_price or amount column")
	}
	return c, errors.Join(errs...)
}
