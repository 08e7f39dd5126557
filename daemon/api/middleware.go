package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"golang.org/x/text/language"

	"github.com/postdesk/postdesk/store"
)

// Route kinds: API routes answer errors in JSON/XML, page routes in text.
const (
	formatAPI = iota
	formatPage
)

// reqState is what the middleware learned about a request.
type reqState struct {
	id       string // request id, echoed in X-Request-Id
	op       string // operation name (metric label)
	format   int
	prefs    []language.Tag
	lang     int    // catalog column
	wantsXML bool   // answer in XML
	xmlType  string // the XML media type asked for
	accept   *apiError
	culture  culture
	who      store.Principal
}

type stateKey struct{}

func state(r *http.Request) *reqState {
	if rs, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		return rs
	}
	return &reqState{op: opNotFound}
}

// statusWriter records the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap gives every request an id, negotiates its language and response
// format, recovers panics (500 with the request id), and records metrics
// and slow calls for op.
func (a *API) wrap(op string, format int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := a.now()
		rs := &reqState{id: requestID(r), op: op, format: format, xmlType: "application/xml"}
		rs.prefs = preferences(r)
		rs.lang = a.lang.pick(rs.prefs)
		rs.culture = culture{tag: a.lang.tag(rs.lang), zone: time.UTC}
		negotiate(r, rs)
		w.Header().Set("X-Request-Id", rs.id)
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, rs))

		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					a.observe(rs, r, sw, start)
					panic(p)
				}
				a.metrics.panics.Inc()
				a.log.Error("panic serving request", "request_id", rs.id, "method", op,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.code == 0 {
					a.fail(sw, r, &apiError{status: http.StatusInternalServerError, typ: typeInternal, msg: msgInternal})
				}
			}
			a.observe(rs, r, sw, start)
		}()
		next.ServeHTTP(sw, r)
	})
}

// observe counts the request and reports it when it was slow.
func (a *API) observe(rs *reqState, r *http.Request, sw *statusWriter, start time.Time) {
	elapsed := a.now().Sub(start)
	a.metrics.requests.WithLabelValues(rs.op, statusLabel(sw.code)).Inc()
	a.metrics.duration.WithLabelValues(rs.op).Observe(elapsed.Seconds())
	// A profile lasts as long as its caller asks: not a slow call.
	if elapsed > a.slow && rs.op != opPProf {
		a.metrics.slow.WithLabelValues(rs.op).Inc()
		a.log.Warn("slow API call", "request_id", rs.id, "method", rs.op, "http_method", r.Method,
			"status", statusLabel(sw.code), "duration", elapsed, "threshold", a.slow, "principal", rs.who.Name)
	}
}

// requestID returns the caller's X-Request-Id when it is short and
// printable, else a new random one.
func requestID(r *http.Request) string {
	if v := r.Header.Get("X-Request-Id"); v != "" && len(v) <= 128 {
		ok := true
		for i := 0; i < len(v); i++ {
			if v[i] <= ' ' || v[i] > '~' {
				ok = false
				break
			}
		}
		if ok {
			return v
		}
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func statusLabel(code int) string {
	if code == 0 {
		code = http.StatusOK
	}
	return strconv.Itoa(code)
}
