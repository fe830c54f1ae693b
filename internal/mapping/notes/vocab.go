package notes

// abbreviations maps what cashiers type to a canonical word.
var abbreviations = map[string]string{
	// employee
	"emp": "employee", "empl": "employee", "emply": "employee", "employe": "employee", "employees": "employee",
	"emps": "employee", "assoc": "associate", "tm": "tm",
	// manager, override, approval
	"mgr": "manager", "mngr": "manager", "mgmt": "manager", "mgr's": "manager", "mgrs": "manager", "managers": "manager",
	"sup": "supervisor", "supv": "supervisor", "spvr": "supervisor", "sm": "manager", "asm": "manager",
	"ovrd": "override", "ovr": "override", "ovrde": "override", "overrode": "override", "overridden": "override",
	"overrides": "override", "overriden": "override", "ovrride": "override", //nolint:misspell // typos cashiers make, on purpose
	"okd": "ok", "okayed": "ok", "okay": "ok", "okd'": "ok", "oked": "ok",
	"appr": "approved", "apprvd": "approved", "approve": "approved", "aprvd": "approved", "approval": "approved",
	"auth": "authorized", "authd": "authorized", "authorised": "authorized", "authorize": "authorized", "authorise": "authorized",
	// damage
	"dmg": "damaged", "dmgd": "damaged", "dmged": "damaged", "damage": "damaged", "dmgs": "damaged", "dam": "damaged",
	"scratches": "scratched", "dent": "dented", "dents": "dented", "stains": "stain", "cracks": "cracked", "crack": "cracked",
	"tear": "torn", "ripped": "ripped", "rip": "ripped", "chip": "chipped",
	// price match
	"pm": "pricematch", "pricematched": "pricematch", "pricematch": "pricematch", "mtch": "match", "matching": "match",
	"comp": "competitor", "competitors": "competitor", "competitive": "competitor",
	// discount words
	"disc": "discount", "dsc": "discount", "dscnt": "discount", "discnt": "discount", "disct": "discount",
	"dis": "discount", "discounted": "discount", "discounts": "discount", "rabatt": "discount", "remise": "discount",
	"descuento": "discount", "dct": "discount", "adj": "discount", "adjustment": "discount", "adjusted": "adjusted",
	"mod": "manager", "srs": "senior", "fri": "friday", "bogof": "bogo", "soiled": "soiled", "exdisplay": "exdisplay",
	"advertised": "advertised", "marked": "mark", "upset": "unhappy",
	"pct": "percent", "perc": "percent", "pcnt": "percent", "prct": "percent", "percentage": "percent", "prozent": "percent",
	// coupon, loyalty, promotion
	"cpn": "coupon", "cpns": "coupon", "coupons": "coupon", "vouchers": "voucher", "mfr": "manufacturer", "mfg": "manufacturer",
	"pts": "points", "rwd": "rewards", "rwds": "rewards", "reward": "rewards", "loyal": "loyalty",
	"promo": "promotion", "promos": "promotion", "promotional": "promotion", "prmo": "promotion",
	"bf": "bf", "multi": "multi", "multibuy": "multibuy",
	// clearance
	"clr": "clearance", "clrnc": "clearance", "clear": "clearance", "markdowns": "markdown", "md": "markdown",
	"disco": "discontinued", "dc": "discontinued",
	// military, senior, student
	"mil": "military", "vet": "veteran", "vets": "veteran", "veterans": "veteran",
	"sr": "senior", "snr": "senior", "seniors": "senior", "pensioners": "pensioner", "oap": "oap",
	"stu": "student", "stdnt": "student", "students": "student", "stud": "student",
	// goodwill
	"gw": "goodwill", "gesture": "gesture", "waited": "wait", "waiting": "wait", "complained": "complaint",
	"complaints": "complaint", "apologies": "apology", "apologised": "apology", "apologized": "apology",
	// money words
	"dollars": "dollar", "bucks": "dollar", "buck": "dollar", "quid": "pound", "pounds": "pound", "euros": "euro",
	"usd": "usd", "eur": "eur", "gbp": "gbp", "cad": "cad", "aud": "aud",
	// other
	"cust": "customer", "cx": "customer", "custmr": "customer", "didnt": "didnt", "wasnt": "wasnt",
	"w": "with", "pcs": "items", "pc": "items", "item": "items", "units": "items", "unit": "items", "ea": "each",
	"mins": "minutes", "min": "minutes", "minute": "minutes", "hrs": "hours", "hr": "hours",
	"rcpt": "receipt", "receipts": "receipt", "ref": "ref", "#": "#",
}

// vocabulary is the set of canonical words typos are corrected to. Only
// words of five letters or more are reached by edit distance.
var vocabulary = map[string]struct{}{}

// exactWords are short canonical words matched only exactly.
var exactWords = map[string]struct{}{}

func init() {
	for _, w := range []string{
		"employee", "staff", "associate", "member", "manager", "supervisor", "override", "approved", "authorized",
		"verified", "damaged", "dented", "scratched", "scratch", "scuffed", "broken", "ripped", "cracked",
		"chipped", "crushed", "stain", "stained", "defective", "faulty", "missing", "parts", "display", "model",
		"price", "match", "matched", "pricematch", "competitor", "loyalty", "rewards", "points", "birthday",
		"coupon", "voucher", "manufacturer", "promotion", "flyer", "weekly", "friday", "doorbuster", "cyber",
		"monday", "flash", "bundle", "combo", "multibuy", "clearance", "markdown", "discontinued", "military",
		"veteran", "active", "forces", "armed", "service", "senior", "citizen", "pensioner", "student", "unidays",
		"college", "goodwill", "courtesy", "complaint", "apology", "sorry", "inconvenience", "unhappy", "mixup",
		"gesture", "discount", "percent", "quarter", "customer", "redeemed", "redemption", "charged",
		"applied", "expired", "invalid", "rejected", "declined", "denied", "refused", "accepted",
		"instead", "dollar", "pound", "euro", "receipt", "order", "minutes", "hours", "items", "regular",
		"original", "ringing", "scanning",
	} {
		vocabulary[w] = struct{}{}
	}
	for _, w := range []string{
		"tm", "ok", "off", "less", "half", "bogo", "buy", "get", "free", "sale", "ad", "vip", "open", "box",
		"floor", "torn", "as", "is", "nus", "oap", "gw", "pm", "am", "each", "now", "to", "at", "for", "was",
		"ours", "reg", "orig", "by", "per", "no", "not", "non", "without", "code", "end", "line", "of", "final",
		"red", "duty", "wait", "long", "good", "will", "sold", "gave", "give", "let", "go", "it", "on", "and",
		"plus", "with", "size", "aisle", "id", "sku", "upc", "x", "ref", "lane", "till", "register", "card",
		"cash", "change", "tip", "deposit", "payment", "balance", "back", "tender", "credit", "gift", "bf",
		"multi", "day", "ex", "make", "soiled", "exdisplay", "advertised", "adjusted", "usd", "eur", "gbp", "cad", "aud", "quid", "lost", "fee", "charge", "ticket", "qty",
		"one", "two", "three", "didnt", "wasnt", "na", "store", "from", "set", "new", "mark", "down",
	} {
		exactWords[w] = struct{}{}
	}
}

// numberWords are amounts typed as words.
var numberWords = map[string]int{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
	"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
	"seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
	"sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}

// phrase is a sequence of canonical words that signals a reason. A weak
// phrase counts only when the note also carries a value or a discount
// word: "manager" alone is no discount, "mgr 10% off" is.
type phrase struct {
	words  []string
	reason string
	weak   bool
}

var defaultPhrases = []phrase{
	{words: []string{"employee"}, reason: Employee},
	{words: []string{"staff"}, reason: Employee},
	{words: []string{"associate"}, reason: Employee},
	{words: []string{"team", "member"}, reason: Employee},
	{words: []string{"tm", "discount"}, reason: Employee},
	{words: []string{"tm"}, reason: Employee, weak: true},

	{words: []string{"override"}, reason: ManagerOverride},
	{words: []string{"manager"}, reason: ManagerOverride, weak: true},
	{words: []string{"supervisor"}, reason: ManagerOverride, weak: true},

	{words: []string{"damaged"}, reason: Damaged},
	{words: []string{"dented"}, reason: Damaged},
	{words: []string{"scratched"}, reason: Damaged},
	{words: []string{"scratch"}, reason: Damaged},
	{words: []string{"scuffed"}, reason: Damaged},
	{words: []string{"broken"}, reason: Damaged},
	{words: []string{"torn"}, reason: Damaged},
	{words: []string{"ripped"}, reason: Damaged},
	{words: []string{"cracked"}, reason: Damaged},
	{words: []string{"chipped"}, reason: Damaged},
	{words: []string{"crushed"}, reason: Damaged},
	{words: []string{"stain"}, reason: Damaged},
	{words: []string{"stained"}, reason: Damaged},
	{words: []string{"defective"}, reason: Damaged},
	{words: []string{"faulty"}, reason: Damaged},
	{words: []string{"missing", "parts"}, reason: Damaged},
	{words: []string{"open", "box"}, reason: Damaged},
	{words: []string{"soiled"}, reason: Damaged},
	{words: []string{"ex", "display"}, reason: Damaged},
	{words: []string{"exdisplay"}, reason: Damaged},
	{words: []string{"display", "model"}, reason: Damaged},
	{words: []string{"floor", "model"}, reason: Damaged},
	{words: []string{"as", "is"}, reason: Damaged, weak: true},

	{words: []string{"pricematch"}, reason: PriceMatch},
	{words: []string{"price", "match"}, reason: PriceMatch},
	{words: []string{"price", "matched"}, reason: PriceMatch},
	{words: []string{"matched"}, reason: PriceMatch, weak: true},
	{words: []string{"match"}, reason: PriceMatch, weak: true},
	{words: []string{"competitor"}, reason: PriceMatch},

	{words: []string{"loyalty"}, reason: Loyalty},
	{words: []string{"rewards"}, reason: Loyalty},
	{words: []string{"points"}, reason: Loyalty, weak: true},
	{words: []string{"vip"}, reason: Loyalty},
	{words: []string{"member"}, reason: Loyalty, weak: true},

	{words: []string{"manufacturer", "coupon"}, reason: Coupon},
	{words: []string{"coupon"}, reason: Coupon},
	{words: []string{"voucher"}, reason: Coupon},

	{words: []string{"promotion"}, reason: Promotion},
	{words: []string{"sale", "price"}, reason: Promotion},
	{words: []string{"flash", "sale"}, reason: Promotion},
	{words: []string{"sale"}, reason: Promotion, weak: true},
	{words: []string{"ad", "price"}, reason: Promotion},
	{words: []string{"weekly", "ad"}, reason: Promotion},
	{words: []string{"flyer"}, reason: Promotion},
	{words: []string{"advertised"}, reason: Promotion},
	{words: []string{"black", "friday"}, reason: Promotion},
	{words: []string{"cyber", "monday"}, reason: Promotion},
	{words: []string{"doorbuster"}, reason: Promotion},

	{words: []string{"bogo"}, reason: Bundle},
	{words: []string{"buy", "#", "get", "#"}, reason: Bundle},
	{words: []string{"buy", "#", "get"}, reason: Bundle},
	{words: []string{"bundle"}, reason: Bundle},
	{words: []string{"combo"}, reason: Bundle},
	{words: []string{"multibuy"}, reason: Bundle},
	{words: []string{"multi", "buy"}, reason: Bundle},

	{words: []string{"clearance"}, reason: Clearance},
	{words: []string{"markdown"}, reason: Clearance},
	{words: []string{"mark", "down"}, reason: Clearance},
	{words: []string{"discontinued"}, reason: Clearance},
	{words: []string{"end", "of", "line"}, reason: Clearance},

	{words: []string{"military"}, reason: Military},
	{words: []string{"veteran"}, reason: Military},
	{words: []string{"active", "duty"}, reason: Military},
	{words: []string{"armed", "forces"}, reason: Military},
	{words: []string{"forces"}, reason: Military},
	{words: []string{"service", "member"}, reason: Military},

	{words: []string{"senior", "citizen"}, reason: Senior},
	{words: []string{"senior"}, reason: Senior},
	{words: []string{"oap"}, reason: Senior},
	{words: []string{"pensioner"}, reason: Senior},

	{words: []string{"student"}, reason: Student},
	{words: []string{"unidays"}, reason: Student},
	{words: []string{"nus"}, reason: Student},

	{words: []string{"goodwill"}, reason: Goodwill},
	{words: []string{"good", "will"}, reason: Goodwill},
	{words: []string{"courtesy"}, reason: Goodwill},
	{words: []string{"complaint"}, reason: Goodwill},
	{words: []string{"apology"}, reason: Goodwill},
	{words: []string{"sorry"}, reason: Goodwill, weak: true},
	{words: []string{"inconvenience"}, reason: Goodwill},
	{words: []string{"unhappy"}, reason: Goodwill, weak: true},
	{words: []string{"mixup"}, reason: Goodwill, weak: true},
	{words: []string{"gesture"}, reason: Goodwill},
	{words: []string{"make", "good"}, reason: Goodwill},
	{words: []string{"long", "wait"}, reason: Goodwill, weak: true},
	{words: []string{"wait"}, reason: Goodwill, weak: true},
	{words: []string{"customer", "service"}, reason: Goodwill, weak: true},
	{words: []string{"gw"}, reason: Goodwill},
}

// tier orders reasons when a note names several: a specific reason beats
// a manager override or a promotion, which beat OTHER.
func tier(reason string) int {
	switch reason {
	case ManagerOverride, Promotion:
		return 1
	case Other:
		return 0
	}
	return 2
}

// percentDefault are the reasons whose bare whole numbers are percentages.
var percentDefault = map[string]bool{Employee: true, Military: true, Senior: true, Student: true, Loyalty: true}

// fixedDefault are the reasons whose bare numbers are the price sold at.
var fixedDefault = map[string]bool{PriceMatch: true, Clearance: true, Promotion: true}

// competitor is a retailer a price can be matched against.
type competitor struct {
	name    string
	aliases [][]string // token sequences, lower case
}

var defaultCompetitors = []struct {
	name    string
	aliases []string
}{
	{"Walmart", []string{"walmart", "wal mart", "wmt", "walmarts"}},
	{"Target", []string{"target", "tgt"}},
	{"Best Buy", []string{"best buy", "bestbuy", "bby"}},
	{"Amazon", []string{"amazon", "amzn", "amazon com"}},
	{"Costco", []string{"costco"}},
	{"Home Depot", []string{"home depot", "homedepot", "the home depot"}},
	{"Lowe's", []string{"lowes", "lowe s"}},
	{"Kohl's", []string{"kohls"}},
	{"Macy's", []string{"macys"}},
	{"Staples", []string{"staples"}},
	{"Office Depot", []string{"office depot", "officedepot"}},
	{"Walgreens", []string{"walgreens"}},
	{"CVS", []string{"cvs"}},
	{"Kroger", []string{"kroger"}},
	{"Kmart", []string{"kmart"}},
	{"Sam's Club", []string{"sams club", "sams"}},
	{"Dick's", []string{"dicks"}},
	{"Newegg", []string{"newegg"}},
	{"Menards", []string{"menards"}},
	{"Meijer", []string{"meijer"}},
	{"Wayfair", []string{"wayfair"}},
	{"eBay", []string{"ebay"}},
	{"IKEA", []string{"ikea"}},
	{"Tesco", []string{"tesco", "tescos"}},
	{"Sainsbury's", []string{"sainsburys", "sainsbury", "sainsbury s"}},
	{"Asda", []string{"asda"}},
	{"Morrisons", []string{"morrisons"}},
	{"Argos", []string{"argos"}},
	{"Currys", []string{"currys", "curry s"}},
	{"John Lewis", []string{"john lewis", "johnlewis"}},
	{"Boots", []string{"boots"}},
	{"Aldi", []string{"aldi"}},
	{"Lidl", []string{"lidl"}},
	{"MediaMarkt", []string{"mediamarkt", "media markt"}},
	{"Saturn", []string{"saturn"}},
	{"Carrefour", []string{"carrefour"}},
	{"Fnac", []string{"fnac"}},
}

// competitorAlias holds the one-word aliases, so the tokenizer does not
// correct a competitor's name into a vocabulary word.
var competitorAlias = map[string]struct{}{}

func init() {
	for _, c := range defaultCompetitors {
		for _, a := range c.aliases {
			if !containsSpace(a) {
				competitorAlias[a] = struct{}{}
			}
		}
	}
}

func containsSpace(s string) bool {
	for i := range len(s) {
		if s[i] == ' ' {
			return true
		}
	}
	return false
}
