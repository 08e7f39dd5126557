package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/store"
)

func TestAuthSchemes(t *testing.T) {
	e := shared(t)
	lower := strings.Replace(e.bearer, "Bearer ", "bearer ", 1)
	mixed := strings.Replace(e.soticket, "SOTicket ", "SoTicket ", 1)
	for name, auth := range map[string]string{
		"basic": e.admin, "bearer": e.bearer, "bearer lower-case": lower,
		"soticket": e.soticket, "SoTicket": mixed, "basic import role": e.importer,
	} {
		t.Run(name, func(t *testing.T) {
			r := e.do(t, req{path: createPath, ctype: "application/json", auth: auth, body: jsonBody(607, mail("auth@customer.example", "Auth "+name))})
			if r.code != http.StatusOK {
				t.Fatalf("status %d: %s", r.code, r.body)
			}
		})
	}
}

func TestAuthFailures(t *testing.T) {
	e := shared(t)
	bearerSecret := strings.TrimPrefix(e.bearer, "Bearer ")
	revoked, err := e.st.CreateToken(context.Background(), "revoked", store.TokenBearer, store.RoleAdmin, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.RevokeToken(context.Background(), "revoked"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, auth, scheme string
	}{
		{"none", "", "none"},
		{"wrong password", basic("admin", "wrong"), "basic"},
		{"unknown user", basic("mallory", "admin-pw"), "basic"},
		{"malformed basic", "Basic !!!", "basic"},
		{"bearer presented as SOTicket", "SOTicket " + bearerSecret, "soticket"},
		{"revoked bearer", "Bearer " + revoked, "bearer"},
		{"garbage bearer", "Bearer pdt_1_xyz", "bearer"},
		{"unknown scheme", "Digest username=admin", "none"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := metricValue(t, e.api.metrics.authFailures.WithLabelValues(c.scheme))
			r := e.do(t, req{path: createPath, ctype: "application/json", auth: c.auth, body: jsonBody(607, mail("x@customer.example", "x"))})
			if r.code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", r.code, r.body)
			}
			if got := r.header.Get("WWW-Authenticate"); !strings.Contains(got, `Basic realm="postdesk"`) || !strings.Contains(got, "Bearer") || !strings.Contains(got, "SOTicket") {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if errorOf(t, r).ErrorType != typeUnauthorized {
				t.Errorf("ErrorType: %s", r.body)
			}
			if after := metricValue(t, e.api.metrics.authFailures.WithLabelValues(c.scheme)); after != before+1 {
				t.Errorf("auth failures{scheme=%s} %v -> %v", c.scheme, before, after)
			}
			if strings.Contains(e.logs.String(), "admin-pw") || strings.Contains(e.logs.String(), bearerSecret) {
				t.Error("a secret was logged")
			}
			for line := range strings.Lines(e.logs.String()) {
				if strings.Contains(line, "authentication failed") && strings.Contains(line, `\n`) {
					t.Errorf("the failure's reason spans lines: %s", line)
				}
			}
		})
	}
}

func TestImportRoleCannotRead(t *testing.T) {
	e := shared(t)
	info := decodeInfo(t, e.do(t, req{path: createPath, ctype: "application/json", auth: e.importer, body: jsonBody(607, mail("ro@customer.example", "Read me"))}).body)
	id := int64(info["TicketId"].(float64))
	for _, path := range []string{fmt.Sprintf("/api/v1/Ticket/%d", id), fmt.Sprintf("/ticket/%d", id)} {
		r := e.do(t, req{method: http.MethodGet, path: path, auth: e.importer})
		if r.code != http.StatusForbidden {
			t.Errorf("GET %s as import role: %d, want 403", path, r.code)
		}
		if r := e.do(t, req{method: http.MethodGet, path: path, auth: e.admin}); r.code != http.StatusOK {
			t.Errorf("GET %s as admin: %d", path, r.code)
		}
		if r := e.do(t, req{method: http.MethodGet, path: path}); r.code != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials: %d, want 401", path, r.code)
		}
	}
	if r := e.do(t, req{method: http.MethodGet, path: fmt.Sprintf("/api/v1/Ticket/%d", id), auth: e.importer}); errorOf(t, r).ErrorType != typeForbidden {
		t.Errorf("403 body: %s", r.body)
	}
}

func TestXSRFDoubleSubmit(t *testing.T) {
	e := shared(t)
	body := func() string { return jsonBody(607, mail("xsrf@customer.example", "XSRF")) }
	r := e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: body(),
		header: map[string]string{"Cookie": "XSRF-TOKEN=abc123"}})
	if r.code != http.StatusForbidden {
		t.Errorf("cookie without header: %d, want 403", r.code)
	}
	r = e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: body(),
		header: map[string]string{"Cookie": "XSRF-TOKEN=abc123", "X-XSRF-TOKEN": "abc124"}})
	if r.code != http.StatusForbidden {
		t.Errorf("mismatching header: %d, want 403", r.code)
	}
	r = e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: body(),
		header: map[string]string{"Cookie": "XSRF-TOKEN=abc123", "X-XSRF-TOKEN": "abc123"}})
	if r.code != http.StatusOK {
		t.Errorf("matching header: %d %s", r.code, r.body)
	}
	if metricValue(t, e.api.metrics.authFailures.WithLabelValues("xsrf")) < 2 {
		t.Error("xsrf failures not counted")
	}
}

func TestAppTokenRequiredWhenConfigured(t *testing.T) {
	e := newEnv(t, envConfig{api: func(o *Options) { o.AppTokens = []string{"app-one", "app-two"} }})
	body := func() string { return jsonBody(607, mail("app@customer.example", "App token")) }
	for _, c := range []struct {
		token string
		want  int
	}{{"", 401}, {"app-three", 401}, {"app-two", 200}, {"app-one", 200}} {
		h := map[string]string{}
		if c.token != "" {
			h["SO-AppToken"] = c.token
		}
		r := e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: body(), header: h})
		if r.code != c.want {
			t.Errorf("SO-AppToken %q: %d, want %d: %s", c.token, r.code, c.want, r.body)
		}
	}
	if got := metricValue(t, e.api.metrics.authFailures.WithLabelValues("apptoken")); got != 2 {
		t.Errorf("apptoken failures = %v, want 2", got)
	}
}

func TestRepeatedFailuresThrottled(t *testing.T) {
	e := newEnv(t, envConfig{api: func(o *Options) { o.AuthFailureLimit = 3 }})
	post := func(auth string) resp {
		return e.do(t, req{path: createPath, ctype: "application/json", auth: auth, body: jsonBody(607, mail("th@customer.example", "Throttle"))})
	}
	for i := 0; i < 3; i++ {
		if r := post(basic("admin", "guess")); r.code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, r.code)
		}
	}
	// Blocked now, even with the right password: no guess gets checked.
	r := post(e.admin)
	if r.code != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("after 3 failures: %d (Retry-After %q), want 429", r.code, r.header.Get("Retry-After"))
	}
	e.clock.advance(2 * time.Second)
	if r := post(basic("admin", "guess")); r.code != http.StatusUnauthorized {
		t.Fatalf("after the first delay: %d, want 401", r.code)
	}
	// The 4th failure doubles the delay: 1 s later it is still blocked.
	e.clock.advance(time.Second)
	if r := post(e.admin); r.code != http.StatusTooManyRequests {
		t.Fatalf("within the doubled delay: %d, want 429", r.code)
	}
	e.clock.advance(2 * time.Second)
	if r := post(e.admin); r.code != http.StatusOK {
		t.Fatalf("after the doubled delay: %d %s", r.code, r.body)
	}
	// A success forgets the failures.
	if r := post(basic("admin", "guess")); r.code != http.StatusUnauthorized {
		t.Fatalf("after success: %d, want 401", r.code)
	}
}
