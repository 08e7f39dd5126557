package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// localizer picks languages for messages and configured names. It is
// immutable after newLocalizer and safe for concurrent use.
type localizer struct {
	tags    []language.Tag
	matcher language.Matcher
	names   map[string]nameTranslations
}

// nameTranslations are the translations of one configured name; index 0 of
// tags stands for the name as configured.
type nameTranslations struct {
	matcher language.Matcher
	values  []string
}

func newLocalizer(names map[string]map[string]string) (*localizer, error) {
	l := &localizer{names: map[string]nameTranslations{}}
	for _, s := range catalogLanguages {
		l.tags = append(l.tags, language.MustParse(s))
	}
	l.matcher = language.NewMatcher(l.tags)
	for name, tr := range names {
		nt := nameTranslations{values: []string{name}}
		tags := []language.Tag{language.Und}
		for lang, v := range tr {
			t, err := language.Parse(lang)
			if err != nil {
				return nil, fmt.Errorf("api: translation of %q: language %q: %w", name, lang, err)
			}
			tags = append(tags, t)
			nt.values = append(nt.values, v)
		}
		nt.matcher = language.NewMatcher(tags)
		l.names[name] = nt
	}
	return l, nil
}

// preferences returns the caller's languages in order: SO-Language first
// (it wins), then Accept-Language. Unparseable values are skipped.
func preferences(r *http.Request) []language.Tag {
	var out []language.Tag
	if v := strings.TrimSpace(r.Header.Get("SO-Language")); v != "" {
		if t, err := language.Parse(v); err == nil {
			out = append(out, t)
		}
	}
	if tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language")); err == nil {
		out = append(out, tags...)
	}
	return out
}

// pick returns the catalog column for the caller's preferences.
func (l *localizer) pick(prefs []language.Tag) int {
	_, i, conf := l.matcher.Match(prefs...)
	if conf == language.No {
		return 0
	}
	return i
}

func (l *localizer) tag(i int) language.Tag { return l.tags[i] }

func (l *localizer) message(lang int, k msgKey, args ...any) string {
	m, ok := catalog[k]
	if !ok {
		m = catalog[msgInternal]
	}
	s := m[lang]
	if s == "" {
		s = m[0]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// name translates a configured name (category, priority) for prefs.
func (l *localizer) name(prefs []language.Tag, name string) string {
	nt, ok := l.names[name]
	if !ok || len(prefs) == 0 {
		return name
	}
	_, i, conf := nt.matcher.Match(prefs...)
	if conf == language.No || i <= 0 {
		return name
	}
	return nt.values[i]
}

// culture is how numbers and dates are shown to the caller (SO-Culture,
// SO-TimeZone).
type culture struct {
	tag  language.Tag
	zone *time.Location
}

// parseCulture reads SO-Culture and SO-TimeZone; unknown values are an
// apiError (400). Without them, dates are UTC and the culture follows the
// caller's language.
func parseCulture(r *http.Request, lang language.Tag) (culture, *apiError) {
	c := culture{tag: lang, zone: time.UTC}
	if v := strings.TrimSpace(r.Header.Get("SO-Culture")); v != "" {
		t, err := language.Parse(v)
		if err != nil {
			return c, &apiError{status: http.StatusBadRequest, typ: typeArgument, msg: msgBadCulture, args: []any{v}, err: err}
		}
		c.tag = t
	}
	if v := strings.TrimSpace(r.Header.Get("SO-TimeZone")); v != "" {
		z, err := loadZone(v)
		if err != nil {
			return c, &apiError{status: http.StatusBadRequest, typ: typeArgument, msg: msgBadTimeZone, args: []any{v}, err: err}
		}
		c.zone = z
	}
	return c, nil
}

// loadZone accepts IANA names and fixed offsets like "UTC+02:00".
func loadZone(v string) (*time.Location, error) {
	if strings.EqualFold(v, "UTC") || strings.EqualFold(v, "GMT") {
		return time.UTC, nil
	}
	for _, p := range []string{"UTC", "GMT"} {
		if rest, ok := strings.CutPrefix(strings.ToUpper(v), p); ok && len(rest) > 1 && (rest[0] == '+' || rest[0] == '-') {
			t, err := time.Parse("-07:00", rest)
			if err != nil {
				t, err = time.Parse("-07", rest)
			}
			if err != nil {
				return nil, fmt.Errorf("offset %q: %w", v, err)
			}
			_, off := t.Zone()
			return time.FixedZone(v, off), nil
		}
	}
	if strings.ContainsAny(v, "\\.") || strings.HasPrefix(v, "/") {
		return nil, fmt.Errorf("zone %q: not an IANA name", v)
	}
	return time.LoadLocation(v)
}

// dateLayout is the culture's date-time layout.
func (c culture) dateLayout() string {
	base, _ := c.tag.Base()
	region, _ := c.tag.Region()
	switch base.String() {
	case "en":
		if region.String() == "US" || region.String() == "ZZ" {
			return "01/02/2006 3:04 PM"
		}
		return "02/01/2006 15:04"
	case "de", "nb", "no", "nn", "da", "fi", "ru", "pl", "cs":
		return "02.01.2006 15:04"
	case "nl":
		return "02-01-2006 15:04"
	case "fr", "es", "it", "pt":
		return "02/01/2006 15:04"
	default: // sv, ISO 8601 and everyone else
		return "2006-01-02 15:04"
	}
}

// date formats t for display in the caller's zone and culture.
func (c culture) date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(c.zone)
	return t.Format(c.dateLayout()) + " " + t.Format("MST")
}

// number formats n with the culture's digit grouping.
func (c culture) number(n int64) string {
	return message.NewPrinter(c.tag).Sprintf("%d", n)
}
