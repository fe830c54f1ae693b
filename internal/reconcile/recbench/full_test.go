package recbench

import (
	"context"
	"encoding/json"
	"os"
	"testing"
)

func TestFullSizeManual(t *testing.T) {
	if os.Getenv("RECBENCH_FULL") == "" {
		t.Skip("set RECBENCH_FULL=1")
	}
	o := DefaultOptions()
	o.Progress = os.Stderr
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(rep, "", " ")
	t.Log(string(b))
}
