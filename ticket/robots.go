package ticket

import (
	"mime"
	"strings"
)

// isAutomatic reports whether m was sent by a machine rather than a person
// (DESIGN "Import semantics" step 6). Such mail is imported as usual but
// marked, so that nothing downstream answers it and loops die out.
func (s *Service) isAutomatic(mb Mailbox, m *Mail) bool {
	h := m.Header
	// RFC 3834 §5: anything but "no" is automatic.
	if v := strings.TrimSpace(h.Get("Auto-Submitted")); v != "" && !strings.EqualFold(firstToken(v), "no") {
		return true
	}
	switch strings.ToLower(firstToken(h.Get("Precedence"))) {
	case "bulk", "junk", "list", "auto_reply":
		return true
	}
	for _, v := range h.Values("X-Loop") {
		if strings.Contains(strings.ToLower(v), strings.ToLower(s.loopID)) {
			return true
		}
	}
	if h.Has("X-Auto-Response-Suppress") || h.Has("X-Autoreply") || h.Has("X-Autorespond") {
		return true
	}
	// An empty Return-Path (RFC 5321 §4.5.5 null reverse-path): bounces.
	if h.Has("Return-Path") {
		rp := strings.TrimSpace(h.Get("Return-Path"))
		if rp == "<>" || rp == "" {
			return true
		}
	}
	from := strings.ToLower(m.From.Email)
	if local, _, ok := strings.Cut(from, "@"); ok {
		switch local {
		case "mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply":
			return true
		}
	}
	if mb.Address != "" && strings.EqualFold(from, mb.Address) {
		return true // our own mail coming back
	}
	// RFC 3464 delivery status notifications.
	if mt, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil {
		if mt == "multipart/report" || mt == "message/delivery-status" {
			if rt := strings.ToLower(params["report-type"]); rt == "" || rt == "delivery-status" || rt == "disposition-notification" {
				return true
			}
		}
	}
	return false
}

func firstToken(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, " \t;("); i >= 0 {
		v = v[:i]
	}
	return v
}
