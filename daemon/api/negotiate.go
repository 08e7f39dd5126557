package api

import (
	"net/http"
	"strconv"
	"strings"
)

// offers are the response types of the API routes, in order of preference
// when the caller's Accept header ranks several equally.
var offers = []string{"application/json", "text/json", "application/xml", "text/xml"}

// negotiate reads the Accept header (RFC 9110 §12.5.1) into rs: XML when an
// XML type ranks highest, JSON by default, and a 406 error (returned by the
// API handlers) when no offered type is acceptable.
func negotiate(r *http.Request, rs *reqState) {
	accept := strings.Join(r.Header.Values("Accept"), ",")
	if strings.TrimSpace(accept) == "" {
		return
	}
	best, bestQ := "", 0.0
	for _, o := range offers {
		if q := quality(accept, o); q > bestQ {
			best, bestQ = o, q
		}
	}
	switch best {
	case "":
		rs.accept = &apiError{status: http.StatusNotAcceptable, typ: typeNotSupported, msg: msgNotAcceptable}
	case "application/xml", "text/xml":
		rs.wantsXML, rs.xmlType = true, best
	}
}

// quality returns the q value the most specific range of accept gives to
// the media type offer (0: not acceptable).
func quality(accept, offer string) float64 {
	otype, osub, _ := strings.Cut(offer, "/")
	q, spec := 0.0, -1
	for _, rng := range strings.Split(accept, ",") {
		params := strings.Split(rng, ";")
		mt := strings.ToLower(strings.TrimSpace(params[0]))
		typ, sub, ok := strings.Cut(mt, "/")
		if !ok {
			continue
		}
		s := -1
		switch {
		case typ == otype && sub == osub:
			s = 2
		case typ == otype && sub == "*":
			s = 1
		case typ == "*" && sub == "*":
			s = 0
		}
		if s < spec || s < 0 {
			continue
		}
		rq := 1.0
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
					rq = f
				} else {
					rq = 0
				}
			}
		}
		if s > spec || rq > q {
			q, spec = rq, s
		}
	}
	return q
}
