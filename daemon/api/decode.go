package api

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// maxNesting bounds how deep a JSON or XML request may nest. The request
// is flat; anything deeper is an attack or a mistake.
const maxNesting = 32

// createRequest is a decoded CreateTicketFromMailData call.
type createRequest struct {
	MailboxID int64
	PersonID  int64
	Data      []byte // the raw RFC 822 mail
}

// decodeRequest decodes a CreateTicketFromMailData body of contentType
// (JSON, XML, form or message/rfc822). Property names are matched
// case-insensitively (SuperOffice clients send camelCase); MailboxId and
// PersonId may also come from the query, which the body overrides.
// req.Data shares body's memory (message/rfc822: body itself; JSON: its
// Data string unescaped in place): body must not be reused while it is.
func decodeRequest(contentType string, query url.Values, body []byte) (createRequest, *apiError) {
	var req createRequest
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || contentType == "" {
		return req, unsupported(contentType, err)
	}
	fields := map[string]string{}
	for k, v := range query {
		if len(v) > 0 {
			fields[strings.ToLower(k)] = v[len(v)-1]
		}
	}
	switch mt {
	case "application/json", "text/json":
		if e := textBody(params, body); e != nil {
			return req, e
		}
		if e := decodeJSON(body, fields); e != nil {
			return req, e
		}
	case "application/xml", "text/xml":
		if e := textBody(params, body); e != nil {
			return req, e
		}
		if e := decodeXML(body, fields); e != nil {
			return req, e
		}
	case "application/x-www-form-urlencoded":
		if e := textBody(params, body); e != nil {
			return req, e
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return req, badBody(err)
		}
		for k, v := range form {
			if len(v) > 0 {
				fields[strings.ToLower(k)] = v[len(v)-1]
			}
		}
	case "message/rfc822":
		// Mail is bytes, possibly 8-bit in any charset: no UTF-8 check.
		// The body itself becomes Data below (no copy).
		delete(fields, "data")
	default:
		return req, unsupported(contentType, nil)
	}

	var e *apiError
	if req.MailboxID, e = number(fields, "mailboxid", "MailboxId"); e != nil {
		return req, e
	}
	if req.PersonID, e = number(fields, "personid", "PersonId"); e != nil {
		return req, e
	}
	if req.MailboxID <= 0 {
		return req, &apiError{status: http.StatusBadRequest, typ: typeArgument, msg: msgMissingMailbox}
	}
	if req.PersonID < 0 {
		return req, &apiError{status: http.StatusBadRequest, typ: typeArgument, msg: msgBadNumber, args: []any{"PersonId"}}
	}
	if mt == "message/rfc822" {
		req.Data = body
	} else if d := fields["data"]; d != "" {
		// The mail is most of the request: it is not copied once more.
		// Nothing writes to the bytes of a mail (the import core and the
		// store only read Data), so it may share the string's memory.
		req.Data = unsafe.Slice(unsafe.StringData(d), len(d))
	}
	if len(bytes.TrimSpace(req.Data)) == 0 {
		return req, &apiError{status: http.StatusBadRequest, typ: typeArgument, msg: msgMissingData}
	}
	return req, nil
}

func unsupported(contentType string, err error) *apiError {
	return &apiError{status: http.StatusUnsupportedMediaType, typ: typeNotSupported, msg: msgMediaType, args: []any{contentType}, err: err}
}

func badBody(err error) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: typeArgument, msg: msgBadBody, args: []any{err.Error()}, err: err}
}

// textBody checks that a JSON, XML or form body is UTF-8: the only charset
// these types take here (RFC 8259 §8.1).
func textBody(params map[string]string, body []byte) *apiError {
	if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "utf8" && cs != "us-ascii" {
		return unsupported("charset="+cs, nil)
	}
	if !utf8.Valid(body) {
		return &apiError{status: http.StatusBadRequest, typ: typeArgument, msg: msgBadUTF8}
	}
	return nil
}

// number reads an optional whole number field ("" or absent: 0).
func number(fields map[string]string, key, name string) (int64, *apiError) {
	v := strings.TrimSpace(fields[key])
	if v == "" || v == "null" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, &apiError{status: http.StatusBadRequest, typ: typeArgument, msg: msgBadNumber, args: []any{name}, err: err}
	}
	return n, nil
}

// jsonRequest is the JSON form of the request; encoding/json matches the
// property names case-insensitively, so camelCase clients work.
type jsonRequest struct {
	MailboxID jsonNumber `json:"MailboxId"`
	PersonID  jsonNumber `json:"PersonId"`
	Data      *string    `json:"Data"`
}

// jsonNumber is a whole number sent as a JSON number or a string.
type jsonNumber struct {
	text string
	set  bool
}

func (n *jsonNumber) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		if err := json.Unmarshal(b, &n.text); err != nil {
			return err
		}
	case len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		n.text = string(b)
	default:
		return errors.New("must be a string or a number")
	}
	n.set = true
	return nil
}

// decodeJSON reads MailboxId, PersonId and Data of a JSON object into
// fields (lower-cased keys) in one pass; other properties are ignored, as
// SuperOffice does.
func decodeJSON(body []byte, fields map[string]string) *apiError {
	if decodeFlatJSON(body, fields) {
		return nil
	}
	return decodeJSONSlow(body, fields)
}

// decodeJSONSlow decodes any JSON request with encoding/json.
func decodeJSONSlow(body []byte, fields map[string]string) *apiError {
	if jsonDepth(body) > maxNesting {
		return &apiError{status: http.StatusBadRequest, typ: typeArgument, msg: msgTooDeep}
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return badBody(errors.New("the body must be a JSON object"))
	}
	var r jsonRequest
	if err := json.Unmarshal(body, &r); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && strings.EqualFold(te.Field, "data") {
			return badBody(errors.New("Data must be a string"))
		}
		return badBody(err)
	}
	if r.MailboxID.set {
		fields["mailboxid"] = r.MailboxID.text
	}
	if r.PersonID.set {
		fields["personid"] = r.PersonID.text
	}
	if r.Data != nil {
		fields["data"] = *r.Data
	}
	return nil
}

// jsonDepth returns the deepest nesting of objects and arrays in b,
// skipping strings. A string is skipped with bytes.IndexByte to its closing
// quote (one not escaped by an odd run of backslashes): the mail in Data is
// nearly all of a request, and a byte-at-a-time state machine over it cost
// 6 % of the HTTP path's CPU.
func jsonDepth(b []byte) int {
	depth, deepest := 0, 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			end := closingQuote(b, i)
			if end < 0 {
				return deepest // unterminated: the decoder reports it
			}
			i = end
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
		case '}', ']':
			depth--
		}
	}
	return deepest
}

// closingQuote returns the index of the quote that ends the string opened
// at b[open], or -1.
func closingQuote(b []byte, open int) int {
	for j := open + 1; ; j++ {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		backslashes := 0
		for p := j - 1; p > open && b[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return j
		}
	}
}

// decodeXML reads the children of the root element into fields by
// lower-cased local name. Document type declarations are refused, so no
// entity is ever defined, let alone expanded (encoding/xml knows only the
// five predefined entities and numeric references).
func decodeXML(body []byte, fields map[string]string) *apiError {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	depth := 0
	var field string
	var text strings.Builder
	roots := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return badBody(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxNesting {
				return &apiError{status: http.StatusBadRequest, typ: typeArgument, msg: msgTooDeep}
			}
			switch depth {
			case 1:
				if roots++; roots > 1 {
					return badBody(errors.New("more than one root element"))
				}
			case 2:
				field = strings.ToLower(t.Name.Local)
				text.Reset()
				for _, a := range t.Attr {
					if a.Name.Local == "nil" && a.Value == "true" {
						field = "" // xsi:nil: absent
					}
				}
			}
		case xml.EndElement:
			if depth == 2 && field != "" {
				switch field {
				case "mailboxid", "personid", "data":
					fields[field] = text.String()
				}
			}
			depth--
		case xml.CharData:
			if depth == 2 && field != "" {
				text.Write(t)
			}
		case xml.Directive:
			return badBody(errors.New("document type declarations are not allowed"))
		}
	}
	if roots == 0 {
		return badBody(errors.New("no root element"))
	}
	return nil
}
