// Package connectors is the one list of ERP connectors a hub can use. A
// connector is added here, explicitly, not through init side effects.
package connectors

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erpnext"
	"github.com/tillsync/tillsync/internal/erp/netsuite"
	"github.com/tillsync/tillsync/internal/erp/odoo"
	"github.com/tillsync/tillsync/internal/erp/sap"
	"github.com/tillsync/tillsync/internal/erp/webhook"
)

// specs are the connector kinds.
var specs = []erp.Spec{
	netsuite.Spec,
	odoo.Spec,
	erpnext.Spec,
	sap.Spec,
	webhook.Spec,
}

// All returns every connector spec, sorted by kind.
func All() []erp.Spec {
	out := append([]erp.Spec(nil), specs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// Lookup returns the spec of a kind.
func Lookup(kind string) (erp.Spec, error) {
	for _, s := range specs {
		if s.Kind == kind {
			return s, nil
		}
	}
	var kinds []string
	for _, s := range All() {
		kinds = append(kinds, s.Kind)
	}
	return erp.Spec{}, fmt.Errorf("unknown ERP kind %q (known: %s)", kind, strings.Join(kinds, ", "))
}

// Missing lists required fields a spec's settings lack.
func Missing(s erp.Spec, settings map[string]string) []string {
	var out []string
	for _, f := range s.Fields {
		if f.Required && settings[f.Name] == "" {
			name := f.Name
			if f.Secret {
				name += "_env"
			}
			out = append(out, name)
		}
	}
	return out
}
