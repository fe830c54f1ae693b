package gtin

import (
	"testing"
)

func TestCheckDigit(t *testing.T) {
	t.Parallel()
	for _, c := range []string{
		"4006381333931",  // EAN-13
		"036000291452",   // UPC-A
		"96385074",       // EAN-8
		"00012345600012", // GTIN-14
		"5901234123457",
	} {
		if err := Validate(c); err != nil {
			t.Errorf("Validate(%s) = %v, want valid", c, err)
		}
		bad := c[:len(c)-1] + string('0'+(c[len(c)-1]-'0'+1)%10)
		if Valid(bad) {
			t.Errorf("Valid(%s) with a wrong check digit = true", bad)
		}
	}
	for _, c := range []string{"", "12345", "40063813339311", "4006381333931X", "123456789012345"} {
		if Valid(c) {
			t.Errorf("Valid(%q) = true", c)
		}
	}
}

// Every single-digit substitution is caught by the GS1 check digit; the
// resolver relies on it to tell a mistyped code from an unknown item.
func TestCheckDigitCatchesEverySubstitution(t *testing.T) {
	t.Parallel()
	g := "4006381333931"
	for i := 0; i < len(g)-1; i++ {
		for d := byte('0'); d <= '9'; d++ {
			if d == g[i] {
				continue
			}
			s := g[:i] + string(d) + g[i+1:]
			if Valid(s) {
				t.Fatalf("%s (digit %d changed) passes the check", s, i)
			}
		}
	}
}

func TestUPCE(t *testing.T) {
	t.Parallel()
	cases := []struct{ upce, upca string }{
		{"04252614", "042100005264"}, // last digit 2: MMM00-00PPP
		{"01234565", "012345000065"}, // last digit 5..9
	}
	for _, c := range cases {
		got, ok := ExpandUPCE(c.upce)
		if !ok || got != c.upca {
			t.Errorf("ExpandUPCE(%s) = %s %v, want %s", c.upce, got, ok, c.upca)
		}
		back, ok := CompressUPCE(c.upca)
		if !ok || back != c.upce {
			t.Errorf("CompressUPCE(%s) = %s %v, want %s", c.upca, back, ok, c.upce)
		}
	}
	// Round trip every shape of UPC-E core: last digit 0..9.
	for _, core := range []string{"123450", "123451", "123452", "123453", "123454", "123455", "123459"} {
		body := expandCore('0', core)
		upca := body + string(CheckDigit(body))
		e, ok := CompressUPCE(upca)
		if !ok || e[1:7] != core {
			t.Errorf("core %s: UPC-A %s compresses to %s %v", core, upca, e, ok)
			continue
		}
		if a, ok := ExpandUPCE(e); !ok || a != upca {
			t.Errorf("core %s: %s expands to %s %v, want %s", core, e, a, ok, upca)
		}
	}
	if _, ok := CompressUPCE("036000291452"); ok {
		t.Error("036000291452 has no UPC-E")
	}
	if _, ok := ExpandUPCE("04252615"); ok {
		t.Error("UPC-E with a wrong check digit expanded")
	}
	if _, ok := ExpandUPCE("24252614"); ok {
		t.Error("UPC-E with number system 2 expanded")
	}
}

func TestReadings(t *testing.T) {
	t.Parallel()
	const ean = "4006381333931"
	const upca = "042100005264" // has UPC-E 04252614
	cases := []struct {
		raw  string
		key  string
		how  How
		desc string
	}{
		{ean, Key(ean), AsIs, "as is"},
		{"0" + ean, Key(ean), AsIs, "GTIN-14 padding"},
		{"00000" + ean, Key(ean), StrippedZeros, "too many zeros"},
		{"42100005264", Key(upca), AsIs, "UPC-A leading zero dropped"},
		{"]E0" + ean, Key(ean), ScannerAffix, "AIM prefix"},
		{"]e0" + ean, Key(ean), ScannerAffix, "AIM prefix lower case"},
		{"F" + ean, Key(ean), ScannerAffix, "code-ID prefix"},
		{"A" + upca, Key(upca), ScannerAffix, "code-ID prefix UPC-A"},
		{"(01)0" + ean, Key(ean), ScannerAffix, "GS1 AI 01"},
		{"010" + ean, Key(ean), ScannerAffix, "GS1 AI 01 without brackets"},
		{ean + "\r\n", Key(ean), AsIs, "terminator"},
		{" 400-638133-3931 ", Key(ean), AsIs, "spaces and dashes"},
		{ean[:12], Key(ean), CheckAdded, "check digit missing"},
		{upca[:11], Key(upca), CheckAdded, "UPC-A check digit missing"},
		{"04252614", Key(upca), UPCE, "UPC-E"},
		{"425261", Key(upca), UPCE, "UPC-E bare six digits"},
		{"4252614", Key(upca), UPCE, "UPC-E without number system"},
		{"4OO6381333931", Key(ean), OCRDigits, "O for 0"},
		{"400638133393I", Key(ean), OCRDigits, "I for 1"},
		{"4OO638I333931", Key(ean), OCRDigits, "three OCR confusions"},
		{"400638l333931", Key(ean), OCRDigits, "lower-case l for 1"},
	}
	for _, c := range cases {
		rs := Readings(c.raw)
		found := false
		for _, r := range rs {
			if r.Key == c.key {
				found = true
				if r.How != c.how {
					t.Errorf("%s: %q read as %s, want %s", c.desc, c.raw, r.How, c.how)
				}
			}
		}
		if !found {
			t.Errorf("%s: %q readings %v miss key %s", c.desc, c.raw, rs, c.key)
		}
	}
	for _, raw := range []string{"JKT1042-BLK-M", "", "12", "4006381333932"} {
		for _, r := range Readings(raw) {
			if r.How == AsIs || r.How == ScannerAffix {
				t.Errorf("%q has a direct reading %v", raw, r)
			}
		}
	}
}

func FuzzReadings(f *testing.F) {
	for _, s := range []string{"4006381333931", "]E0036000291452", "04252614", "4OO6", "(01)00012345600012"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, r := range Readings(raw) {
			if !Valid(r.GTIN) || Key(r.GTIN) != r.Key {
				t.Fatalf("%q: reading %+v is not a valid GTIN", raw, r)
			}
		}
	})
}
