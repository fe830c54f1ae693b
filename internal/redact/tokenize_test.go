package redact

import (
	"strings"
	"testing"
)

func TestTokenizer(t *testing.T) {
	t.Parallel()
	tok := testTokenizer(t)
	a := tok.Token(Email, "Jane.Doe@Example.com ")
	if !strings.HasPrefix(a, "tok:v2:") || len(a) != len("tok:v2:")+22 || !IsToken(a) {
		t.Fatalf("token %q: want tok:v2:<22 base64url>", a)
	}
	if b := tok.Token(Email, "jane.doe@example.com"); b != a {
		t.Errorf("case and spaces change the e-mail token: %q vs %q", a, b)
	}
	if b := tok.Token(Personal, "jane.doe@example.com"); b == a {
		t.Errorf("an e-mail and a name share a token")
	}
	for _, p := range []string{"+49 30 1234567", "+49-30-1234567", "0049 30 1234567", "+49301234567"} {
		if got, want := tok.Token(Phone, p), tok.Token(Phone, "+49301234567"); got != want {
			t.Errorf("phone %q: token %q, want %q", p, got, want)
		}
	}
	if tok.Token(Personal, "Jane  DOE") != tok.Token(Personal, "jane doe") {
		t.Errorf("names: case and spacing change the token")
	}
	// Rotation: the old key still computes old tokens, new ones differ.
	old, err := tok.TokenWith("v1", Email, "jane.doe@example.com")
	if err != nil || !strings.HasPrefix(old, "tok:v1:") || old[len("tok:v1:"):] == a[len("tok:v2:"):] {
		t.Errorf("TokenWith(v1) = %q, %v", old, err)
	}
	if _, err := tok.TokenWith("v9", Email, "x"); err == nil {
		t.Error("TokenWith an unknown key: no error")
	}
	// Another key, another token; the same key, the same token.
	other, _ := NewTokenizer("v2", map[string][]byte{"v2": []byte("another-secret-key-16")})
	if other.Token(Email, "jane.doe@example.com") == a {
		t.Error("two keys give the same token")
	}
	if tok.KeyID() != "v2" {
		t.Errorf("KeyID = %q", tok.KeyID())
	}
}

func TestNewTokenizerRejects(t *testing.T) {
	t.Parallel()
	good := []byte("0123456789abcdef")
	for name, c := range map[string]struct {
		current string
		keys    map[string][]byte
	}{
		"short key":       {"v1", map[string][]byte{"v1": []byte("short")}},
		"bad id":          {"v:1", map[string][]byte{"v:1": good}},
		"empty id":        {"", map[string][]byte{"": good}},
		"missing current": {"v2", map[string][]byte{"v1": good}},
	} {
		if _, err := NewTokenizer(c.current, c.keys); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"v1=hex:30313233":     "0123",
		"v1=base64:MDEyMw==":  "0123",
		"v1=base64:MDEyMw":    "0123",
		"v1=plain text=value": "plain text=value",
	} {
		id, secret, err := ParseKey(in)
		if err != nil || id != "v1" || string(secret) != want {
			t.Errorf("ParseKey(%q) = %q, %q, %v; want v1, %q", in, id, secret, err, want)
		}
	}
	for _, in := range []string{"v1", "=x", "v1=", "v1=hex:zz", "v1=base64:%%"} {
		if _, _, err := ParseKey(in); err == nil {
			t.Errorf("ParseKey(%q): no error", in)
		}
	}
}

func TestTokenizeText(t *testing.T) {
	t.Parallel()
	tok := testTokenizer(t)
	r, err := New(Config{Tokenizer: tok})
	if err != nil {
		t.Fatal(err)
	}
	email := tok.Token(Email, "jane@example.com")
	phone := tok.Token(Phone, "+4930123456")
	for in, want := range map[string]string{
		"mail jane@example.com today":             "mail " + email + " today",
		"<Jane@Example.COM>":                      "<" + email + ">",
		"call +49 30 123456 or +49 (0)30 123456?": "call " + phone + " or " + tok.Token(Phone, "+49 (0)30 123456") + "?",
		"Tel. 030 1234567":                        "Tel. " + tok.Token(Phone, "030 1234567"),
		"phone: (030) 123-4567":                   "phone: " + tok.Token(Phone, "(030) 123-4567"),
		// not personal data
		"order 030 1234567": "order 030 1234567",
		"a@b":               "a@b",
		"user@localhost":    "user@localhost",
		"+123":              "+123",
		"SKU 1234-5678":     "SKU 1234-5678",
		"card 4111111111111111 for jane@example.com": "card [PAN] for " + email,
	} {
		out, _ := r.Text(in)
		if out != want {
			t.Errorf("Text(%q) = %q, want %q", in, out, want)
		}
		if again, f := r.Text(out); again != out || f.Total() != 0 {
			t.Errorf("Text(%q) not idempotent: %q -> %q", in, out, again)
		}
	}
	// Without a Tokenizer, personal data stays.
	plain, _ := setup(t)
	if out, f := plain.Text("jane@example.com +4930123456"); out != "jane@example.com +4930123456" || f.Total() != 0 {
		t.Errorf("without a tokenizer: %q, %v", out, f)
	}
}

func TestTokenizeFields(t *testing.T) {
	t.Parallel()
	tok := testTokenizer(t)
	r, err := New(Config{Tokenizer: tok, PIIFields: []string{"email", "customer.name", "*_address.name", "loyalty_*"}})
	if err != nil {
		t.Fatal(err)
	}
	in := `{"email":"Jane@example.com","customer":{"name":"Jane Doe"},"shipping_address":{"name":"Jane Doe"},` +
		`"line_items":[{"name":"Trail Runner"}],"loyalty_card":"LC-123","first_name":"Jane","email2":"x"}`
	out, f, err := r.JSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	name := tok.Token(Personal, "Jane Doe")
	want := `{"email":"` + tok.Token(Email, "jane@example.com") + `","customer":{"name":"` + name + `"},"shipping_address":{"name":"` + name + `"},` +
		`"line_items":[{"name":"Trail Runner"}],"loyalty_card":"` + tok.Token(Personal, "LC-123") + `","first_name":"Jane","email2":"x"}`
	if string(out) != want || f.PII() != 4 {
		t.Errorf("JSON:\n got %s\nwant %s\n%v", out, want, f)
	}
}
