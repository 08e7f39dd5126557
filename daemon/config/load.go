package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

//go:embed defaults.yaml
var defaultsYAML []byte

// keyDelim is viper's key delimiter. The default "." would split map keys
// such as the domain "example.com" in companies.
const keyDelim = "::"

// Load reads the configuration: the embedded defaults, then the YAML file
// at path (none when path is ""), then the POSTDESK_* variables of env (in
// os.Environ form), then secret files. It returns every problem found,
// joined, each naming its key.
//
// env also supplies STATE_DIRECTORY (the default store path) and
// CREDENTIALS_DIRECTORY (where relative secret file names are resolved; else
// they are relative to the configuration file's directory).
func Load(path string, env []string) (*Config, error) {
	c, err := load(path, env)
	if err != nil {
		if path == "" {
			return nil, fmt.Errorf("configuration: %w", err)
		}
		return nil, fmt.Errorf("configuration %s: %w", path, err)
	}
	return c, nil
}

// Default returns the embedded default configuration, resolved as Load
// would without a file and with an empty environment.
func Default() *Config {
	c, err := load("", nil)
	if err != nil {
		// The embedded defaults are tested; this is a build defect.
		panic("config: embedded defaults are invalid: " + err.Error())
	}
	return c
}

func load(path string, env []string) (*Config, error) {
	vars := envMap(env)
	v := viper.NewWithOptions(viper.KeyDelimiter(keyDelim))
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(defaultsYAML)); err != nil {
		return nil, fmt.Errorf("embedded defaults: %w", err)
	}
	configDir := ""
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if err := v.MergeConfig(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("parse yaml: %w", err)
		}
		if configDir, err = filepath.Abs(filepath.Dir(path)); err != nil {
			return nil, err
		}
	}

	var errs []error
	errs = append(errs, applyEnv(v, env)...)

	var c Config
	if err := v.UnmarshalExact(&c, viper.DecodeHook(decodeHook())); err != nil {
		errs = append(errs, decodeErrors(err)...)
		return nil, errors.Join(errs...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.fillDefaults(vars)
	errs = append(errs, c.readSecrets(secretDir(configDir, vars))...)
	errs = append(errs, c.validate()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}

// envMap turns os.Environ-style entries into a map; later entries win.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// decodeHook converts YAML and environment values into Config's types.
func decodeHook() mapstructure.DecodeHookFunc {
	return mapstructure.ComposeDecodeHookFunc(durationHook, byteSizeHook, stringToSliceHook)
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
)

// durationHook parses "90s"-style durations and rejects bare numbers other
// than 0, whose unit would be a guess.
func durationHook(_, t reflect.Type, data any) (any, error) {
	if t != durationType {
		return data, nil
	}
	switch d := data.(type) {
	case string:
		s := strings.TrimSpace(d)
		if s == "" || s == "0" {
			return time.Duration(0), nil
		}
		dur, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("invalid duration %q (want e.g. 90s, 5m, 1h30m)", d)
		}
		return dur, nil
	case int, int64, uint64, float64:
		if reflect.ValueOf(d).IsZero() {
			return time.Duration(0), nil
		}
		return nil, fmt.Errorf("duration %v needs a unit (e.g. %vs)", d, d)
	}
	return data, nil
}

// byteSizeHook parses ByteSize values: "25MiB", "10MB" or a number.
func byteSizeHook(_, t reflect.Type, data any) (any, error) {
	if t != byteSizeType {
		return data, nil
	}
	switch d := data.(type) {
	case string:
		return ParseByteSize(d)
	case int:
		return ParseByteSize(fmt.Sprint(d))
	case int64:
		return ParseByteSize(fmt.Sprint(d))
	case uint64:
		return ParseByteSize(fmt.Sprint(d))
	case float64:
		return ParseByteSize(fmt.Sprint(d))
	}
	return data, nil
}

// stringToSliceHook splits comma-separated strings (environment values)
// into lists, trimming spaces and dropping empty elements.
func stringToSliceHook(f, t reflect.Type, data any) (any, error) {
	if f.Kind() != reflect.String || t.Kind() != reflect.Slice {
		return data, nil
	}
	var out []string
	for s := range strings.SplitSeq(data.(string), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// decodeErrors turns a mapstructure error into one error per problem, each
// starting with the full key, so errors.Join prints one line each.
func decodeErrors(err error) []error {
	var de *mapstructure.DecodeError
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		var out []error
		for _, inner := range e.Unwrap() {
			out = append(out, decodeErrors(inner)...)
		}
		return out
	case *mapstructure.DecodeError:
		de = e
	case interface{ Unwrap() error }:
		// mapstructure's "decoding failed due to the following error(s)".
		if inner := e.Unwrap(); inner != nil {
			return decodeErrors(inner)
		}
		return []error{err}
	default:
		return []error{err}
	}

	inner := de.Unwrap()
	if keys, ok := strings.CutPrefix(inner.Error(), "has invalid keys: "); ok {
		var out []error
		for k := range strings.SplitSeq(keys, ", ") {
			if de.Name() != "" {
				k = de.Name() + "." + k
			}
			out = append(out, fmt.Errorf("%s: unknown key", k))
		}
		return out
	}
	var pe *mapstructure.ParseError
	if errors.As(inner, &pe) {
		return []error{fmt.Errorf("%s: %q is not a valid %s", de.Name(), fmt.Sprint(pe.Value), pe.Expected.Type())}
	}
	var ue *mapstructure.UnconvertibleTypeError
	if errors.As(inner, &ue) {
		return []error{fmt.Errorf("%s: want a %s, got %v", de.Name(), ue.Expected.Type(), ue.Value)}
	}
	return []error{fmt.Errorf("%s: %w", de.Name(), inner)}
}
