package api

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/postdesk/postdesk/ticket"
)

// SuperOffice-style exception type names of the error body.
const (
	typeArgument      = "ArgumentException"
	typeUnauthorized  = "UnauthorizedAccessException"
	typeForbidden     = "SoSecurityException"
	typeNotFound      = "SoNotFoundException"
	typeNotSupported  = "NotSupportedException"
	typeTooLarge      = "ArgumentOutOfRangeException"
	typeQuarantined   = "SoQuarantinedException"
	typeThrottled     = "SoThrottledException"
	typeUnavailable   = "SoUnavailableException"
	typeInternal      = "SoServerException"
	errorSource       = "postdesk"
	retryAfterSeconds = 5
)

// apiError is a failed call: its status, SuperOffice exception type and a
// catalog message (localized when written).
type apiError struct {
	status     int
	typ        string
	msg        msgKey
	args       []any
	retryAfter int   // seconds; 0: no Retry-After header
	err        error // the cause, logged, never shown
}

func (e *apiError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%d %s: %v", e.status, e.typ, e.err)
	}
	return fmt.Sprintf("%d %s", e.status, e.typ)
}

func (e *apiError) Unwrap() error { return e.err }

// errorBody is SuperOffice's error shape.
type errorBody struct {
	XMLName      xml.Name `json:"-" xml:"ErrorResponse"`
	Error        bool     `json:"Error" xml:"Error"`
	ErrorType    string   `json:"ErrorType" xml:"ErrorType"`
	ErrorMessage string   `json:"ErrorMessage" xml:"ErrorMessage"`
	Message      string   `json:"Message" xml:"Message"`
	ErrorSource  string   `json:"ErrorSource" xml:"ErrorSource"`
	RequestID    string   `json:"RequestId,omitempty" xml:"RequestId,omitempty"`
}

// importError maps an error of ticket.Service.Import to the API's answer.
func importError(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, ticket.ErrUnknownMailbox):
		return &apiError{status: http.StatusNotFound, typ: typeNotFound, msg: msgUnknownMailbox, err: err}
	case errors.Is(err, ticket.ErrUnknownPerson):
		return &apiError{status: http.StatusBadRequest, typ: typeArgument, msg: msgUnknownPerson, err: err}
	case errors.Is(err, ticket.ErrNotMail):
		return &apiError{status: http.StatusBadRequest, typ: typeArgument, msg: msgNotMail, err: err}
	case errors.Is(err, ticket.ErrTooLarge):
		return &apiError{status: http.StatusRequestEntityTooLarge, typ: typeTooLarge, msg: msgTooLarge, err: err}
	case errors.Is(err, ticket.ErrSenderOverCap):
		return &apiError{status: http.StatusTooManyRequests, typ: typeThrottled, msg: msgSenderCap, err: err, retryAfter: 3600}
	case errors.Is(err, ticket.ErrQuarantined):
		return &apiError{status: http.StatusUnprocessableEntity, typ: typeQuarantined, msg: msgQuarantined, err: err}
	case errors.Is(err, ticket.ErrNotFound):
		return &apiError{status: http.StatusNotFound, typ: typeNotFound, msg: msgTicketNotFound, err: err}
	case errors.Is(err, ticket.ErrUnavailable):
		return &apiError{status: http.StatusServiceUnavailable, typ: typeUnavailable, msg: msgUnavailable, err: err, retryAfter: retryAfterSeconds}
	default:
		// A store fault that is not classified: the caller may retry, and
		// it is not the caller's input, so 503 rather than a 500.
		return &apiError{status: http.StatusServiceUnavailable, typ: typeUnavailable, msg: msgUnavailable, err: err, retryAfter: retryAfterSeconds}
	}
}

// fail writes e in SuperOffice's shape, in XML when the caller asked for
// XML, else JSON; page routes get plain text.
func (a *API) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	rs := state(r)
	text := a.lang.message(rs.lang, e.msg, e.args...)
	level := a.log.Debug
	if e.status >= 500 {
		level = a.log.Error
	}
	if e.err != nil {
		level("request failed", "request_id", rs.id, "method", rs.op, "status", e.status, "err", e.err)
	}
	h := w.Header()
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Language", a.lang.tag(rs.lang).String())
	body := errorBody{Error: true, ErrorType: e.typ, ErrorMessage: text, Message: text, ErrorSource: errorSource, RequestID: rs.id}
	switch {
	case rs.format == formatPage && !rs.wantsXML:
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.status)
		fmt.Fprintf(w, "%d %s\n%s\nrequest id: %s\n", e.status, http.StatusText(e.status), text, rs.id)
	case rs.wantsXML:
		h.Set("Content-Type", rs.xmlType+"; charset=utf-8")
		w.WriteHeader(e.status)
		w.Write([]byte(xml.Header))
		_ = xml.NewEncoder(w).Encode(body)
	default:
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(e.status)
		_ = json.NewEncoder(w).Encode(body)
	}
}
