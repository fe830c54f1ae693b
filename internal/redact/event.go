package redact

import (
	"reflect"
	"strings"
	"sync"

	"github.com/tillsync/tillsync/internal/event"
)

// Event redacts every string of a canonical event in place: the envelope
// (ID, location, source, zone), the attributes (keys and values, the key
// naming the value's field) and every string field of the body, found by
// walking its type, each under the name of its JSON field. Fields added to
// the bodies later are covered without a change here.
//
// Card fields follow their meaning: a Last4 of four digits stays, and a
// whole PAN in it is cut to its last four; an AuthCode stays unless it
// holds a PAN, or is three or four digits alone, which is a CVV typed into
// the wrong field and is cleared. Amounts and quantities are integers the
// event package checks; they are not inspected.
func (r *Redactor) Event(e *event.Event) Findings {
	ew := eventWalker{r: r, pii: r.tok != nil}
	e.ID = ew.str(e.ID, "id", "")
	e.Location = ew.str(e.Location, "location", "")
	e.Source = ew.str(e.Source, "source", "")
	e.Zone = ew.str(e.Zone, "zone", "")
	e.Attributes = ew.strMap(e.Attributes, "attributes")
	if e.Body != nil {
		ew.walk(reflect.ValueOf(e.Body), string(e.Type), "")
	}
	return ew.f
}

type eventWalker struct {
	r   *Redactor
	pii bool
	f   Findings
}

// str redacts the value of a field called name in an object held by a
// field called parent.
func (ew *eventWalker) str(s, name, parent string) string {
	if s == "" {
		return s
	}
	if name == "auth_code" && (len(s) == 3 || len(s) == 4) && allDigits(s) {
		ew.f.inc(CVV)
		return ""
	}
	var nb, pb [maxFieldName]byte
	cls := ew.r.fields.classify(snake(nb[:0], []byte(name)), snake(pb[:0], []byte(parent)))
	out, f := ew.r.field(s, cls, ew.pii)
	ew.f.Add(f)
	return out
}

func (ew *eventWalker) strMap(m map[string]string, parent string) map[string]string {
	var renamed map[string]string
	for k, v := range m {
		if nv := ew.str(v, k, parent); nv != v {
			m[k] = nv
		}
		if nk, f := ew.r.Text(k); nk != k {
			ew.f.Add(f)
			if renamed == nil {
				renamed = map[string]string{}
			}
			renamed[nk] = m[k]
			delete(m, k)
		}
	}
	for k, v := range renamed {
		m[k] = v
	}
	return m
}

func (ew *eventWalker) walk(v reflect.Value, name, parent string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			ew.walk(v.Elem(), name, parent)
		}
	case reflect.Struct:
		for _, f := range fieldsOf(v.Type()) {
			ew.walk(v.Field(f.index), f.name, name)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			ew.walk(v.Index(i), name, parent)
		}
	case reflect.Map:
		if v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String && v.CanInterface() {
			if m, ok := v.Interface().(map[string]string); ok {
				ew.strMap(m, name)
			}
		}
	case reflect.String:
		if v.CanSet() {
			if s := v.String(); s != "" {
				if ns := ew.str(s, name, parent); ns != s {
					v.SetString(ns)
				}
			}
		}
	default:
		// numbers and booleans: amounts, quantities, flags
	}
}

// walkField is an exported struct field the walk visits.
type walkField struct {
	index int
	name  string // as jsonName gives it
}

// structFields caches fieldsOf: reflect.Type → []walkField.
var structFields sync.Map

// fieldsOf returns the exported fields of a struct type with their JSON
// names, worked out once per type rather than for every event.
func fieldsOf(t reflect.Type) []walkField {
	if fs, ok := structFields.Load(t); ok {
		return fs.([]walkField)
	}
	var fs []walkField
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			fs = append(fs, walkField{index: i, name: jsonName(f)})
		}
	}
	structFields.Store(t, fs)
	return fs
}

// jsonName is the name encoding/json gives a struct field.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" || name == "-" {
		return f.Name
	}
	return name
}
