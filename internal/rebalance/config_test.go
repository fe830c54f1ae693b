package rebalance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigNamesBadFields(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "rb.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, err := LoadConfig(write("currency: EURO\nreview_days: 0\npack_size: 0\nlanes:\n  - {from: A, to: A, lead_time_days: -1}\nskus:\n  - {sku: X}\n  - {sku: X}\n"))
	if err == nil {
		t.Fatal("a bad config loaded")
	}
	for _, want := range []string{"currency", "review_days", "pack_size", "lanes[0]: from and to", "lanes[0].lead_time_days", "skus[1].sku"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
	if _, err := LoadConfig(write("revew_days: 2\n")); err == nil || !strings.Contains(err.Error(), "revew_days") {
		t.Errorf("a misspelt key: %v", err)
	}
	c, err := LoadConfig(write("currency: JPY\nskus:\n  - {sku: X, pack_size: 6, margin: 300}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m, p, d := c.sku("X"); m != 300 || p != 6 || d != 0 {
		t.Errorf("sku X: margin %d pack %d display %d", m, p, d)
	}
	if m, p, _ := c.sku("Y"); m != c.Margin || p != 1 {
		t.Errorf("sku Y gets the defaults: margin %d pack %d", m, p)
	}
}
