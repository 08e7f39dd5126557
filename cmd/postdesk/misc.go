package main

import (
	"encoding"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use: "version", Short: "Print the version", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(a.stdout, "postdesk %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

func newCheckConfigCmd(a *app) *cobra.Command {
	var show bool
	cmd := &cobra.Command{
		Use:   "check-config",
		Short: "Validate the configuration (exit 2 naming every bad key)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if _, err := cfg.TicketMailboxes(); err != nil {
				return usageErr(err)
			}
			src := a.configPath
			if src == "" {
				src = "embedded defaults"
			}
			fmt.Fprintf(a.stdout, "configuration ok (%s): store %s, http %s, %d mailboxes\n", src, cfg.Store.Path, cfg.HTTP.Listen, len(cfg.Mailboxes))
			for _, mb := range cfg.Mailboxes {
				how := "manual import only"
				if mb.IMAP != nil {
					how = fmt.Sprintf("imap %s:%d (%s) folder %s, after import %s", mb.IMAP.Host, mb.IMAP.Port, mb.IMAP.TLS, mb.IMAP.Folder, mb.IMAP.AfterImport)
					if r := mb.IMAP.IdleRecheck; r > 0 {
						how += fmt.Sprintf(", idle recheck %v", r)
					}
				}
				fmt.Fprintf(a.stdout, "  mailbox %d %q: %s\n", mb.ID, mb.Name, how)
			}
			if show {
				out, err := yaml.Marshal(configTree(reflect.ValueOf(cfg.Redacted())))
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "\n%s", out)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&show, "show", false, "print the effective configuration, secrets redacted")
	return cmd
}

// configTree renders a configuration value with the key names of the YAML
// file (the mapstructure tags), durations and sizes as written.
func configTree(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if v.Type() == reflect.TypeFor[time.Duration]() {
		return time.Duration(v.Int()).String()
	}
	if v.CanInterface() {
		if m, ok := v.Interface().(encoding.TextMarshaler); ok && v.Kind() != reflect.Pointer {
			if b, err := m.MarshalText(); err == nil {
				return string(b)
			}
		}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return configTree(v.Elem())
	case reflect.Struct:
		out := map[string]any{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			if name == "" || name == "-" {
				name = strings.ToLower(f.Name)
			}
			out[name] = configTree(v.Field(i))
		}
		return out
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = configTree(v.Index(i))
		}
		return out
	case reflect.Map:
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			out[fmt.Sprint(k.Interface())] = configTree(v.MapIndex(k))
		}
		return out
	default:
		return v.Interface()
	}
}
