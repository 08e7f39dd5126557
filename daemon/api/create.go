package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/postdesk/postdesk/ticket"
)

// createTicket is POST /api/v1/Agents/CustomerService/CreateTicketFromMailData.
func (a *API) createTicket(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		a.methodNotAllowed(w, r, http.MethodPost)
		return
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, a.maxBody), r.ContentLength, a.maxBody)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			a.fail(w, r, &apiError{status: http.StatusRequestEntityTooLarge, typ: typeTooLarge, msg: msgTooLarge, err: err})
			return
		}
		a.fail(w, r, badBody(err))
		return
	}
	req, e := decodeRequest(r.Header.Get("Content-Type"), r.URL.Query(), body)
	if e != nil {
		a.fail(w, r, e)
		return
	}
	res, err := a.svc.Import(r.Context(), ticket.ImportRequest{
		MailboxID: req.MailboxID,
		PersonID:  req.PersonID,
		Raw:       req.Data,
		Source:    ticket.SourceHTTP,
	})
	if err != nil {
		a.fail(w, r, importError(err))
		return
	}
	rs := state(r)
	w.Header().Set("X-Postdesk-Outcome", string(res.Outcome))
	a.log.Info("mail imported over HTTP", "request_id", rs.id, "principal", rs.who.Name,
		"mailbox", req.MailboxID, "outcome", string(res.Outcome), "ticket", res.Info.TicketID)
	a.writeInfo(w, r, http.StatusOK, a.infoDocument(r, res.Info))
}

// readBody reads a request body whole. With a Content-Length within limit
// it reads into one buffer of that size (net/http ends the body there):
// io.ReadAll would grow its buffer step by step, copying a 25 MiB mail
// about twenty times and holding two copies at the last step.
func readBody(r io.Reader, contentLength, limit int64) ([]byte, error) {
	if contentLength <= 0 || contentLength > limit {
		return io.ReadAll(r)
	}
	b := make([]byte, contentLength)
	n, err := io.ReadFull(r, b)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return b[:n], io.ErrUnexpectedEOF
	case err != nil:
		return b[:n], err
	}
	// Whatever follows (nothing, from net/http) is read as io.ReadAll would.
	rest, err := io.ReadAll(r)
	if len(rest) > 0 {
		b = append(b, rest...)
	}
	return b, err
}
