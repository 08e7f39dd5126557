package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/viper"
)

// EnvPrefix starts every environment variable that overrides a key.
const EnvPrefix = "POSTDESK_"

// EnvConfigFile is the one POSTDESK_* variable that is not a key: it is
// left to the command line (the configuration file's path).
const EnvConfigFile = "POSTDESK_CONFIG"

// maxEnvMailbox bounds the mailbox index accepted in variable names.
const maxEnvMailbox = 1000

// leafPaths lists the key paths of the scalar and list fields of struct
// type t, descending into nested structs and struct pointers. Fields whose
// tag is in skip (maps, lists of structs) are left out.
func leafPaths(t reflect.Type, prefix []string, skip []string) [][]string {
	var out [][]string
	for f := range t.Fields() {
		tag := f.Tag.Get("mapstructure")
		if tag == "" || slices.Contains(skip, tag) {
			continue
		}
		path := append(slices.Clip(prefix), tag)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != durationType {
			out = append(out, leafPaths(ft, path, skip)...)
			continue
		}
		out = append(out, path)
	}
	return out
}

// envNames maps variable names (without the prefix) to key paths.
func envNames(paths [][]string) map[string][]string {
	m := make(map[string][]string, len(paths))
	for _, p := range paths {
		m[strings.ToUpper(strings.Join(p, "_"))] = p
	}
	return m
}

// EnvVars lists every variable that can override a key, mailbox keys with
// "<n>" for the index. check-config and docs print it.
func EnvVars() []string {
	var out []string
	for name := range envNames(leafPaths(reflect.TypeFor[Config](), nil, []string{"companies", "names", "mailboxes"})) {
		out = append(out, EnvPrefix+name)
	}
	for name := range envNames(leafPaths(reflect.TypeFor[Mailbox](), nil, []string{"rules"})) {
		out = append(out, EnvPrefix+"MAILBOXES_<n>_"+name)
	}
	slices.Sort(out)
	return out
}

// applyEnv sets the keys named by POSTDESK_* variables in env on v.
func applyEnv(v *viper.Viper, env []string) []error {
	top := envNames(leafPaths(reflect.TypeFor[Config](), nil, []string{"companies", "names", "mailboxes"}))
	mbox := envNames(leafPaths(reflect.TypeFor[Mailbox](), nil, []string{"rules"}))

	type mboxSet struct {
		index int
		path  []string
		value string
	}
	var sets []mboxSet
	var errs []error
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		rest, ok := strings.CutPrefix(name, EnvPrefix)
		if !ok || name == EnvConfigFile {
			continue
		}
		if p, ok := top[rest]; ok {
			v.Set(strings.Join(p, keyDelim), value)
			continue
		}
		if r, ok := strings.CutPrefix(rest, "MAILBOXES_"); ok {
			idx, key, _ := strings.Cut(r, "_")
			n, err := strconv.Atoi(idx)
			if p, ok := mbox[key]; ok && err == nil && n >= 0 && n < maxEnvMailbox && idx == strconv.Itoa(n) {
				sets = append(sets, mboxSet{n, p, value})
				continue
			}
		}
		errs = append(errs, fmt.Errorf("environment variable %s: no such configuration key (see package config for the names)", name))
	}
	if len(sets) == 0 {
		return errs
	}

	list, ok := v.Get("mailboxes").([]any)
	if !ok && v.Get("mailboxes") != nil {
		return append(errs, fmt.Errorf("mailboxes: must be a list"))
	}
	list = slices.Clone(list)
	for _, s := range sets {
		for len(list) <= s.index {
			list = append(list, map[string]any{})
		}
		m, ok := list[s.index].(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("mailboxes[%d]: must be a mapping", s.index))
			continue
		}
		list[s.index] = setPath(m, s.path, s.value)
	}
	v.Set("mailboxes", list)
	return errs
}

// setPath returns a copy of m with path set to value, creating the
// mappings on the way.
func setPath(m map[string]any, path []string, value string) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	if len(path) == 1 {
		out[path[0]] = value
		return out
	}
	sub, _ := out[path[0]].(map[string]any)
	out[path[0]] = setPath(sub, path[1:], value)
	return out
}
