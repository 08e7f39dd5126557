// Package ticket is postdesk's import core: CreateTicketFromMailData.
//
// One raw RFC 822 message goes in, one TicketInfo comes out, "in the same way
// as importMail would import an email": the mail is parsed leniently
// (ParseMail), deduplicated, threaded onto an existing ticket or turned into a
// new one, tied to a customer, routed, checked for loops and robots and
// written in one transaction of the Repository. Mail that cannot be imported
// is quarantined with its raw bytes and the reason; nothing is dropped.
//
// The package defines the Repository it needs; package store implements it on
// SQLite. A Service is safe for concurrent use.
package ticket
