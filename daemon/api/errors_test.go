package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/ticket"
)

func TestErrorStatusCodes(t *testing.T) {
	e := shared(t)
	big := strings.Repeat("x", 2<<20) // shared env: MaxBodyBytes 1 MiB
	cases := []struct {
		name string
		r    req
		code int
		typ  string
	}{
		{"unknown mailbox", req{ctype: "application/json", body: jsonBody(4242, mail("a@customer.example", "x"))}, 404, typeNotFound},
		{"not mail", req{ctype: "application/json", body: `{"MailboxId":607,"Data":"autem"}`}, 400, typeArgument},
		{"not mail rfc822", req{ctype: "message/rfc822", path: createPath + "?MailboxId=607", body: "autem"}, 400, typeArgument},
		{"missing mailbox", req{ctype: "application/json", body: `{"Data":"From: a@b.example\r\n\r\nhi"}`}, 400, typeArgument},
		{"mailbox not a number", req{ctype: "application/json", body: `{"MailboxId":"six","Data":"x"}`}, 400, typeArgument},
		{"mailbox fraction", req{ctype: "application/json", body: `{"MailboxId":6.5,"Data":"x"}`}, 400, typeArgument},
		{"missing data", req{ctype: "application/json", body: `{"MailboxId":607}`}, 400, typeArgument},
		{"data not a string", req{ctype: "application/json", body: `{"MailboxId":607,"Data":{"a":1}}`}, 400, typeArgument},
		{"json array", req{ctype: "application/json", body: `[1,2]`}, 400, typeArgument},
		{"json trailing data", req{ctype: "application/json", body: `{"MailboxId":607,"Data":"x"} {}`}, 400, typeArgument},
		{"broken json", req{ctype: "application/json", body: `{"MailboxId":607,`}, 400, typeArgument},
		{"broken xml", req{ctype: "application/xml", body: `<a><MailboxId>607</a>`}, 400, typeArgument},
		{"too large", req{ctype: "application/json", body: jsonBody(607, big)}, 413, typeTooLarge},
		{"unsupported type", req{ctype: "text/plain", body: "hello"}, 415, typeNotSupported},
		{"no content type", req{body: jsonBody(607, "x")}, 415, typeNotSupported},
		{"latin-1 json", req{ctype: "application/json; charset=iso-8859-1", body: jsonBody(607, "x")}, 415, typeNotSupported},
		{"not acceptable", req{ctype: "application/json", body: jsonBody(607, "x"), header: map[string]string{"Accept": "text/html"}}, 406, typeNotSupported},
		{"GET", req{method: http.MethodGet}, 405, typeArgument},
		{"bad time zone", req{ctype: "application/json", body: jsonBody(607, "x"), header: map[string]string{"SO-TimeZone": "Mars/Olympus"}}, 400, typeArgument},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.r.path == "" {
				c.r.path = createPath
			}
			c.r.auth = e.admin
			r := e.do(t, c.r)
			if r.code != c.code {
				t.Fatalf("status %d, want %d: %.300s", r.code, c.code, r.body)
			}
			if got := errorOf(t, r).ErrorType; got != c.typ {
				t.Errorf("ErrorType %q, want %q", got, c.typ)
			}
			if r.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
}

func TestUnknownRouteIs404(t *testing.T) {
	e := shared(t)
	r := e.do(t, req{method: http.MethodGet, path: "/api/v1/Nope", auth: e.admin})
	if r.code != http.StatusNotFound {
		t.Fatalf("status %d", r.code)
	}
	errorOf(t, r)
}

func TestErrorInXMLWhenAsked(t *testing.T) {
	e := shared(t)
	r := e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: jsonBody(4242, mail("a@customer.example", "x")),
		header: map[string]string{"Accept": "application/xml"}})
	if r.code != 404 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/xml") ||
		!strings.Contains(r.body, "<ErrorType>SoNotFoundException</ErrorType>") || !strings.Contains(r.body, "<Error>true</Error>") {
		t.Errorf("XML error: %d %s %s", r.code, r.header.Get("Content-Type"), r.body)
	}
}

// Each sentinel of the import core maps to its status code.
func TestImportErrorMapping(t *testing.T) {
	for err, want := range map[error]int{
		ticket.ErrUnknownMailbox: 404, ticket.ErrUnknownPerson: 400, ticket.ErrNotMail: 400,
		ticket.ErrTooLarge: 413, ticket.ErrSenderOverCap: 429, ticket.ErrQuarantined: 422,
		ticket.ErrNotFound: 404, ticket.ErrUnavailable: 503,
	} {
		ae := importError(err)
		if ae.status != want {
			t.Errorf("%v -> %d, want %d", err, ae.status, want)
		}
		if want == 503 && ae.retryAfter == 0 {
			t.Errorf("%v: no Retry-After", err)
		}
	}
}

func TestSenderOverCapIs429(t *testing.T) {
	e := newEnv(t, envConfig{service: func(o *ticket.Options) { o.SenderCap = 1 }})
	for i, want := range []int{200, 429} {
		r := e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: jsonBody(607, mail("storm@customer.example", "Storm"))})
		if r.code != want {
			t.Fatalf("mail %d: %d, want %d: %s", i+1, r.code, want, r.body)
		}
		if want == 429 && (r.header.Get("Retry-After") == "" || errorOf(t, r).ErrorType != typeThrottled) {
			t.Errorf("429 without Retry-After or type: %v %s", r.header, r.body)
		}
	}
}

func TestPanicBecomes500WithRequestID(t *testing.T) {
	e := shared(t)
	before := metricValue(t, e.api.metrics.panics)
	h := e.api.wrap("Test", formatAPI, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	w := httptest.NewRecorder()
	r, _ := http.NewRequest(http.MethodGet, "/x", nil)
	r.Header.Set("X-Request-Id", "req-panic-1")
	h.ServeHTTP(w, r)
	if w.Code != 500 || !strings.Contains(w.Body.String(), "req-panic-1") || w.Header().Get("X-Request-Id") != "req-panic-1" {
		t.Errorf("panic answer: %d %s", w.Code, w.Body.String())
	}
	if metricValue(t, e.api.metrics.panics) != before+1 {
		t.Error("panic not counted")
	}
	if !strings.Contains(e.logs.String(), "request_id=req-panic-1") {
		t.Error("panic not logged with the request id")
	}
}
