package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/config"
)

func TestCloseSection(t *testing.T) {
	t.Parallel()
	c, err := config.LoadHub(writeFile(t, "hub.yaml", `
close:
  after_hour: 23
  wait: 45s
  cash:
    tolerance: 200
    default_float: 10000
    floats: {s1: {r1: 15000}}
  shrinkage: {threshold: 4, min_sales: 30, override_reasons: [override]}
`))
	if err != nil {
		t.Fatal(err)
	}
	cl := c.Close
	if cl.AfterHour == nil || *cl.AfterHour != 23 || cl.Wait != 45*time.Second || cl.Cash.Tolerance != 200 || cl.Cash.DefaultFloat != 10000 ||
		cl.Cash.Floats["s1"]["r1"] != 15000 || cl.Shrinkage.Threshold != 4 || cl.Shrinkage.MinSales != 30 {
		t.Errorf("close = %+v", cl)
	}
	if d, _ := config.LoadHub(writeFile(t, "hub.yaml", "")); d.Close.AfterHour != nil {
		t.Error("no close section should mean no automatic close")
	}
	_, err = config.LoadHub(writeFile(t, "hub.yaml", "close:\n  after_hour: 24\n  cash: {floats: {s1: {r2: -5}}}\n"))
	for _, want := range []string{"close.after_hour: is 24", "close.cash.floats.s1.r2: is -5"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %q", err, want)
		}
	}
}
