package mapping

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata and calibration.json")

// The checked-in evaluation data and how it is made: change a generator,
// run `go test ./internal/mapping -run 'TestTestdata|TestCalibration' -update`.
const (
	catalogSeed, catalogItems = 7, 3000
	devSeed, testSeed         = 11, 13
	setLines                  = 4000
	unknownShare              = 0.15
)

func loadTestdata(t *testing.T) (*Catalog, []Labelled, []Labelled) {
	t.Helper()
	cat, err := Load(filepath.Join("testdata", "catalog.csv"))
	if err != nil {
		t.Fatal(err)
	}
	dev, err := LoadLabelled(filepath.Join("testdata", "mapping_dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	test, err := LoadLabelled(filepath.Join("testdata", "mapping_test.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return cat, dev, test
}

func writeLabelled(t *testing.T, ls []Labelled) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, l := range ls {
		if err := enc.Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// TestTestdata checks that the checked-in catalog and labelled sets are
// what the generators make, so the evaluation can be reproduced.
func TestTestdata(t *testing.T) {
	t.Parallel()
	cat := GenerateCatalog(catalogSeed, catalogItems)
	var cb bytes.Buffer
	if err := cat.WriteCSV(&cb); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"catalog.csv":        cb.Bytes(),
		"mapping_dev.jsonl":  writeLabelled(t, GenerateLabelled(cat, devSeed, setLines, unknownShare)),
		"mapping_test.jsonl": writeLabelled(t, GenerateLabelled(cat, testSeed, setLines, unknownShare)),
	}
	for name, want := range files {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, want, 0o600); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator makes; run with -update if the generator changed on purpose", path)
		}
	}
}

// TestCalibration checks that calibration.json is the table measured on the
// dev set (and rewrites it with -update).
func TestCalibration(t *testing.T) {
	cat, dev, _ := loadTestdata(t)
	r := NewResolver(cat, Options{Calibration: &Calibration{}})
	got := Calibrate(r, dev, "testdata/mapping_dev.jsonl on testdata/catalog.csv").MarshalIndent()
	if *update {
		if err := os.WriteFile("calibration.json", got, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, defaultCalibration) {
		t.Error("calibration.json is not what the dev set measures; run with -update")
	}
}

// TestHeldOut evaluates on the held-out test set, which the calibration and
// the thresholds were not tuned on: the targets.
func TestHeldOut(t *testing.T) {
	cat, _, test := loadTestdata(t)
	r := NewResolver(cat, Options{})
	rep := Evaluate(r, test)
	t.Logf("held out: %d lines, %d resolvable; precision %.4f, auto share %.4f, recall %.4f, in candidates %.4f, unknown auto-applied %d",
		rep.Lines, rep.Resolvable, rep.Precision, rep.AutoShare, rep.Recall, rep.InCandidates, rep.UnknownAuto)
	for _, f := range rep.ByError {
		t.Logf("  %-28s %5d lines  auto %5d  right %5d  top1 %5d", f.Error, f.Lines, f.AutoApplied, f.AutoCorrect, f.Top1Correct)
	}
	for _, b := range rep.Reliability {
		t.Logf("  conf %.2f-%.2f  n %5d  mean %.3f  accuracy %.3f", b.From, b.To, b.N, b.MeanConfidence, b.Accuracy)
	}
	if rep.Precision < 0.99 {
		t.Errorf("precision of auto-applied repairs %.4f, want ≥ 0.99", rep.Precision)
	}
	if rep.AutoShare < 0.70 {
		t.Errorf("share of resolvable errors repaired automatically %.4f, want ≥ 0.70", rep.AutoShare)
	}
}

// A resolver calibrated on codes made from its own catalog meets the
// targets on other codes for that catalog.
func TestSelfCalibrate(t *testing.T) {
	t.Parallel()
	cat := GenerateCatalog(5, 2000)
	r := NewResolver(cat, Options{SelfCalibrate: 3000})
	if r.cal.On == defaultCalibrationOn(t) || len(r.cal.Buckets) == 0 {
		t.Fatalf("not self-calibrated: %q", r.cal.On)
	}
	rep := Evaluate(r, GenerateLabelled(cat, 99, 3000, unknownShare))
	if rep.Precision < 0.99 || rep.AutoShare < 0.70 {
		t.Errorf("self-calibrated: precision %.4f, auto share %.4f", rep.Precision, rep.AutoShare)
	}
}

func defaultCalibrationOn(t *testing.T) string {
	t.Helper()
	return DefaultCalibration().On
}
