package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/postdesk/postdesk/store"
)

// right is what a route requires of the caller's role.
type right int

const (
	rightImport right = iota // CreateTicketFromMailData: admin and import
	rightRead                // reading tickets: admin only
	rightAdmin               // the daemon's internals (/debug/pprof/): admin only
)

func (r right) allows(role store.Role) bool {
	switch role {
	case store.RoleAdmin:
		return true
	case store.RoleImport:
		return r == rightImport
	}
	return false
}

// wwwAuthenticate lists the schemes a 401 offers (RFC 9110 §11.6.1).
const wwwAuthenticate = `Basic realm="postdesk", Bearer realm="postdesk", SOTicket realm="postdesk"`

// authed authenticates the caller and checks that its role has need.
//
// Order: a throttled client address gets 429 before any credential is
// looked at; then the XSRF double-submit check; then SO-AppToken when app
// tokens are configured; then the Authorization header (Basic, Bearer or
// SOTicket, scheme names case-insensitive). Failures answer 401 with
// WWW-Authenticate and count against the client address.
//
// postdesk has no login page and hence no cookie sessions: cookies never
// authenticate. A request that carries an XSRF-TOKEN cookie (a browser
// session of some front end sharing the host) must still send the same
// value in X-XSRF-TOKEN, else it is refused with 403.
func (a *API) authed(need right, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs := state(r)
		if rs.format == formatAPI && rs.accept != nil {
			a.fail(w, r, rs.accept)
			return
		}
		c, cerr := parseCulture(r, a.lang.tag(rs.lang))
		if cerr != nil {
			a.fail(w, r, cerr)
			return
		}
		rs.culture = c

		client := clientAddr(r)
		if wait, blocked := a.throttle.blocked(client); blocked {
			a.fail(w, r, &apiError{status: http.StatusTooManyRequests, typ: typeThrottled, msg: msgThrottled,
				retryAfter: int(wait.Seconds()) + 1})
			return
		}
		if !xsrfOK(r) {
			a.metrics.authFailures.WithLabelValues("xsrf").Inc()
			a.fail(w, r, &apiError{status: http.StatusForbidden, typ: typeForbidden, msg: msgXSRF})
			return
		}
		if len(a.appTokens) > 0 && !a.appTokenOK(r.Header.Get("SO-AppToken")) {
			a.denied(w, r, client, "apptoken", msgAppToken, errors.New("missing or unknown SO-AppToken"))
			return
		}
		p, scheme, err := a.authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			if !errors.Is(err, store.ErrBadCredentials) {
				a.fail(w, r, importError(err))
				return
			}
			a.denied(w, r, client, scheme, msgCredentials, err)
			return
		}
		a.throttle.success(client)
		rs.who = p
		if !need.allows(p.Role) {
			a.fail(w, r, &apiError{status: http.StatusForbidden, typ: typeForbidden, msg: msgForbidden})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// denied answers 401 and counts the failure.
func (a *API) denied(w http.ResponseWriter, r *http.Request, client, scheme string, msg msgKey, err error) {
	a.metrics.authFailures.WithLabelValues(scheme).Inc()
	a.throttle.failure(client)
	a.log.Info("authentication failed", "request_id", state(r).id, "scheme", scheme, "client", client, "err", err)
	w.Header().Set("WWW-Authenticate", wwwAuthenticate)
	a.fail(w, r, &apiError{status: http.StatusUnauthorized, typ: typeUnauthorized, msg: msg})
}

// authenticate checks an Authorization header value. scheme is the metric
// label of the scheme tried ("none" when absent or unknown).
func (a *API) authenticate(ctx context.Context, header string) (p store.Principal, scheme string, err error) {
	name, cred, _ := strings.Cut(strings.TrimSpace(header), " ")
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(name) {
	case "basic":
		user, pass, ok := parseBasic(cred)
		if !ok {
			return p, "basic", fmt.Errorf("%w: malformed basic credentials", store.ErrBadCredentials)
		}
		p, err = a.store.AuthenticatePassword(ctx, user, pass)
		return p, "basic", err
	case "bearer":
		p, err = a.store.AuthenticateToken(ctx, store.TokenBearer, cred)
		return p, "bearer", err
	case "soticket":
		p, err = a.store.AuthenticateToken(ctx, store.TokenSOTicket, cred)
		return p, "soticket", err
	case "":
		return p, "none", fmt.Errorf("%w: no Authorization header", store.ErrBadCredentials)
	default:
		return p, "none", fmt.Errorf("%w: unknown authorization scheme", store.ErrBadCredentials)
	}
}

func parseBasic(cred string) (user, pass string, ok bool) {
	// http.Request.BasicAuth does exactly this decoding; reuse it.
	r := http.Request{Header: http.Header{"Authorization": {"Basic " + cred}}}
	return r.BasicAuth()
}

// appTokenOK compares v with every configured app token in constant time.
func (a *API) appTokenOK(v string) bool {
	v = strings.TrimSpace(v)
	ok := 0
	for _, t := range a.appTokens {
		ok |= subtle.ConstantTimeCompare([]byte(v), []byte(t))
	}
	return v != "" && ok == 1
}

// xsrfOK implements the double-submit check: without an XSRF-TOKEN cookie
// there is nothing to check; with one, X-XSRF-TOKEN must equal it.
func xsrfOK(r *http.Request) bool {
	c, err := r.Cookie("XSRF-TOKEN")
	if err != nil {
		return true
	}
	h := r.Header.Get("X-XSRF-TOKEN")
	return c.Value != "" && subtle.ConstantTimeCompare([]byte(h), []byte(c.Value)) == 1
}

// clientAddr is the throttling key: the peer's IP address. Behind a
// reverse proxy every client shares the proxy's address; postdesk does not
// trust X-Forwarded-For, which any client can forge.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
