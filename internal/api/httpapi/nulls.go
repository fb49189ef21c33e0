package httpapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/verigate/verigate"
)

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// refuseNulls reports the first JSON null in body that would land in a
// field of v's type. encoding/json leaves a field untouched for null, so
// without this {"core": null} would read as "core not given" and a body of
// null as {}. No request field of any surface is documented as nullable;
// free-form JSON (json.RawMessage, interface values) keeps its nulls
// inside, but is not itself null.
func refuseNulls(body []byte, v any) error {
	var doc any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil // the typed decode has already judged the syntax
	}
	if doc == nil {
		return verigate.Errorf(verigate.EINVALID, "The request body must be a JSON object.")
	}
	return nullsIn(doc, reflect.TypeOf(v), "")
}

func nullsIn(doc any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if doc == nil {
		return verigate.FieldError(path, "must not be null")
	}
	if t == rawMessageType || t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, _ := doc.(map[string]any)
		for k, val := range obj {
			if f, ok := jsonField(t, k); ok {
				if err := nullsIn(val, f.Type, join(path, k)); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		obj, _ := doc.(map[string]any)
		for k, val := range obj {
			if err := nullsIn(val, t.Elem(), join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		arr, _ := doc.([]any)
		for i, val := range arr {
			if err := nullsIn(val, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonField finds the struct field encoding/json fills from key: an exact
// tag or name match, else a case-insensitive one.
func jsonField(t reflect.Type, key string) (reflect.StructField, bool) {
	var fold *reflect.StructField
	for _, f := range jsonFieldsOf(t) {
		if f.name == key {
			return f.StructField, true
		}
		if fold == nil && strings.EqualFold(f.name, key) {
			fold = &f.StructField
		}
	}
	if fold != nil {
		return *fold, true
	}
	return reflect.StructField{}, false
}

type namedField struct {
	reflect.StructField
	name string // its JSON key
}

// jsonFields caches jsonFieldsOf by type: reflect.VisibleFields on every
// request was a tenth of a session create's CPU.
var jsonFields sync.Map // reflect.Type → []namedField

// jsonFieldsOf returns the fields of struct type t that encoding/json
// fills, with their keys.
func jsonFieldsOf(t reflect.Type) []namedField {
	if fs, ok := jsonFields.Load(t); ok {
		return fs.([]namedField)
	}
	var fs []namedField
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || (f.Anonymous && f.Type.Kind() == reflect.Struct) {
			continue
		}
		name := f.Name
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == "-" {
			continue
		} else if tag != "" {
			name = tag
		}
		fs = append(fs, namedField{f, name})
	}
	jsonFields.Store(t, fs)
	return fs
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
