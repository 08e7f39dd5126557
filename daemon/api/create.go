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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
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
