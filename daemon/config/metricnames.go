package config

import (
	"regexp"
	"slices"
	"strings"
)

// metricNameRE finds postdesk_* identifiers; the leading group keeps a
// match from starting inside a longer identifier.
var metricNameRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_:])(postdesk_[A-Za-z0-9_:]*[A-Za-z0-9])`)

// MetricNames returns the distinct postdesk_* metric names referenced in
// expr (a PromQL expression or any text, such as a dashboard title),
// sorted. The series suffixes _bucket, _sum and _count of histograms are
// removed, so the result names metric families as /metrics declares them
// in its # TYPE lines.
func MetricNames(expr string) []string {
	var names []string
	for _, m := range metricNameRE.FindAllStringSubmatch(expr, -1) {
		name := m[1]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok {
				name = base
				break
			}
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}
