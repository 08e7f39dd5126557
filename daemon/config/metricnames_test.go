package config

import (
	"slices"
	"testing"
)

func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (le) (rate(postdesk_api_request_duration_seconds_bucket{method="GetTicket"}[5m]))`:                          {"postdesk_api_request_duration_seconds"},
		`rate(postdesk_store_commit_batch_size_sum[5m]) / rate(postdesk_store_commit_batch_size_count[5m])`:                 {"postdesk_store_commit_batch_size"},
		`time() - postdesk_imap_last_success_timestamp_seconds{mailbox=~"$mailbox"} > 600 and postdesk_imap_connected == 0`: {"postdesk_imap_connected", "postdesk_imap_last_success_timestamp_seconds"},
		`up{job="postdesk"} == 0`:             nil,
		`my_postdesk_thing + xpostdesk_other`: nil,
		`Imports (postdesk_imports_total)`:    {"postdesk_imports_total"},
		`postdesk_panics_total`:               {"postdesk_panics_total"},
	} {
		if got := MetricNames(expr); !slices.Equal(got, want) {
			t.Errorf("MetricNames(%q) = %q, want %q", expr, got, want)
		}
	}
}
