package config

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Operator files checked here.
const (
	dashboardPath   = "../../configs/grafana-dashboard.json"
	alertsPath      = "../../configs/alerts.yml"
	alertsTestsPath = "../../configs/alerts_test.yml"
)

// exportedMetrics are the metric families postdesk exports (the project's
// fixed list). Dashboards and alerts may use these and nothing else; an
// end-to-end test checks the list against the binary's /metrics.
var exportedMetrics = map[string]string{
	"postdesk_build_info":                                "gauge",
	"postdesk_api_requests_total":                        "counter",
	"postdesk_api_request_duration_seconds":              "histogram",
	"postdesk_api_slow_calls_total":                      "counter",
	"postdesk_api_slow_threshold_seconds":                "gauge",
	"postdesk_api_auth_failures_total":                   "counter",
	"postdesk_imports_total":                             "counter",
	"postdesk_import_duration_seconds":                   "histogram",
	"postdesk_imap_polls_total":                          "counter",
	"postdesk_imap_connected":                            "gauge",
	"postdesk_imap_last_success_timestamp_seconds":       "gauge",
	"postdesk_imap_backlog_messages":                     "gauge",
	"postdesk_imap_reconnects_total":                     "counter",
	"postdesk_imap_oauth_token_expiry_timestamp_seconds": "gauge",
	"postdesk_imap_fetched_bytes_total":                  "counter",
	"postdesk_imap_idle_rechecks_total":                  "counter",
	"postdesk_panics_total":                              "counter",
	"postdesk_quarantine_messages":                       "gauge",
	"postdesk_store_commit_duration_seconds":             "histogram",
	"postdesk_store_commit_batch_size":                   "histogram",
	"postdesk_store_commits_total":                       "counter",
}

// allStrings returns every string (and map key) in a decoded JSON or YAML value.
func allStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, allStrings(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for k, e := range v {
			out = append(out, k)
			out = append(out, allStrings(e)...)
		}
		return out
	}
	return nil
}

// checkKnown reports every metric name in texts that postdesk does not
// export, and returns the names used.
func checkKnown(t *testing.T, file string, texts []string) map[string]bool {
	t.Helper()
	used := map[string]bool{}
	for _, s := range texts {
		for _, name := range MetricNames(s) {
			used[name] = true
			if _, ok := exportedMetrics[name]; !ok {
				t.Errorf("%s uses %s, which postdesk does not export (in %q)", file, name, s)
			}
		}
	}
	return used
}

type dashboard struct {
	SchemaVersion int `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
	Panels []dashboardPanel `json:"panels"`
}

type dashboardPanel struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

func readDashboard(t *testing.T) (*dashboard, any) {
	t.Helper()
	data, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	var raw any
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	return &d, raw
}

func TestDashboardUsesExportedMetrics(t *testing.T) {
	d, raw := readDashboard(t)
	used := checkKnown(t, dashboardPath, allStrings(raw))

	if d.SchemaVersion < 39 {
		t.Errorf("schemaVersion %d, want 39 or later", d.SchemaVersion)
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	for _, want := range []string{"DS_PROMETHEUS", "mailbox"} {
		if !slices.Contains(vars, want) {
			t.Errorf("template variable %s missing (have %q)", want, vars)
		}
	}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${DS_PROMETHEUS}" {
			t.Errorf("panel %q: datasource is not ${DS_PROMETHEUS}", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if len(MetricNames(tg.Expr)) == 0 {
				t.Errorf("panel %q: query %q uses no postdesk metric", p.Title, tg.Expr)
			}
		}
	}
	// The panels operators rely on (issue: dashboard over postdesk's
	// metrics) stay on the dashboard.
	for name := range exportedMetrics {
		if !used[name] {
			t.Errorf("the dashboard shows no panel for %s", name)
		}
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert string `yaml:"alert"`
			Expr  string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func TestAlertsUseExportedMetrics(t *testing.T) {
	data, err := os.ReadFile(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(data, &rf); err != nil {
		t.Fatalf("%s: %v", alertsPath, err)
	}
	var alerts []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			if r.Alert != "PostdeskDown" && len(MetricNames(r.Expr)) == 0 {
				t.Errorf("alert %s: %q uses no postdesk metric", r.Alert, r.Expr)
			}
		}
	}
	for _, want := range []string{"PostdeskDown", "PostdeskMailboxNotPolled", "PostdeskQuarantineGrowing", "PostdeskSlowCalls", "PostdeskOAuthTokenExpiring", "PostdeskImportFailures"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("alert %s missing from %s", want, alertsPath)
		}
	}

	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	checkKnown(t, alertsPath, allStrings(raw))

	tests, err := os.ReadFile(alertsTestsPath)
	if err != nil {
		t.Fatal(err)
	}
	var rawTests any
	if err := yaml.Unmarshal(tests, &rawTests); err != nil {
		t.Fatalf("%s: %v", alertsTestsPath, err)
	}
	checkKnown(t, alertsTestsPath, allStrings(rawTests))
	for _, a := range alerts {
		if !strings.Contains(string(tests), "alertname: "+a) {
			t.Errorf("alert %s has no unit test in %s", a, alertsTestsPath)
		}
	}
}

// promtool returns the path of promtool or skips the test.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian: apt-get install prometheus); skipping promtool checks")
	}
	return p
}

func runPromtool(t *testing.T, bin string, args ...string) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestPromtoolRules(t *testing.T) {
	bin := promtool(t)
	runPromtool(t, bin, "check", "rules", alertsPath)
	runPromtool(t, bin, "test", "rules", alertsTestsPath)
}

// TestPromtoolDashboardQueries parses every dashboard query with promtool,
// as recording rules with Grafana's variables filled in.
func TestPromtoolDashboardQueries(t *testing.T) {
	bin := promtool(t)
	d, _ := readDashboard(t)
	vars := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$job", ".*", "$instance", ".*", "$mailbox", ".*")
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			n++
			q, _ := json.Marshal(vars.Replace(tg.Expr)) // a JSON string is a YAML string
			fmt.Fprintf(&b, "      - record: dashboard:query%d\n        expr: %s\n", n, q)
		}
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	runPromtool(t, bin, "check", "rules", path)
}
