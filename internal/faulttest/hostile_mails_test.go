package faulttest

import (
	"fmt"
	"strings"
)

// Hostile mails, each with the given Message-ID so the IMAP path can
// account for it. They are built in memory; none is larger than a few MB.

func hdr(id, extra string) string {
	return "From: Mallory <mallory@evil.example>\r\nTo: support@example.com\r\nSubject: hostile " + id +
		"\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <" + id + ">\r\nMIME-Version: 1.0\r\n" + extra
}

func nestedMultipart(id string, depth int) []byte {
	var b strings.Builder
	b.WriteString(hdr(id, "Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n"))
	for i := 1; i < depth; i++ {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n", i-1, i)
	}
	fmt.Fprintf(&b, "--b%d\r\nContent-Type: text/plain\r\n\r\ndeep\r\n", depth-1)
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return []byte(b.String())
}

func nestedRFC822(id string, depth int) []byte {
	var b strings.Builder
	b.WriteString(hdr(id, "Content-Type: message/rfc822\r\n\r\n"))
	for range depth {
		b.WriteString("From: a@b.example\r\nSubject: fwd\r\nContent-Type: message/rfc822\r\n\r\n")
	}
	b.WriteString("From: a@b.example\r\nSubject: inner\r\n\r\nbottom\r\n")
	return []byte(b.String())
}

func manyAttachments(id string, n int) []byte {
	var b strings.Builder
	b.WriteString(hdr(id, "Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nmany\r\n"))
	for i := range n {
		fmt.Fprintf(&b, "--x\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"a%d.bin\"\r\n\r\n%d\r\n", i, i)
	}
	b.WriteString("--x--\r\n")
	return []byte(b.String())
}

func attachmentNamed(id, name string) []byte {
	return []byte(hdr(id, "Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"+
		"--x\r\nContent-Type: application/octet-stream; name=\""+name+"\"\r\nContent-Disposition: attachment; filename=\""+name+"\"\r\n\r\npayload\r\n--x--\r\n"))
}

func attachment2231(id, encoded string) []byte {
	return []byte(hdr(id, "Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"+
		"--x\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=utf-8''"+encoded+"\r\n\r\npayload\r\n--x--\r\n"))
}

func simple(id, extraHeaders, body string) []byte {
	return []byte(hdr(id, extraHeaders+"\r\n"+body))
}

func withoutFrom(id string) []byte {
	return []byte("To: support@example.com\r\nSubject: no sender\r\nMessage-ID: <" + id + ">\r\n\r\nwho am I\r\n")
}

func manyHeaders(id string, n int) []byte {
	var b strings.Builder
	b.WriteString(hdr(id, ""))
	for i := range n {
		fmt.Fprintf(&b, "X-H%d: v\r\n", i)
	}
	b.WriteString("\r\nbody\r\n")
	return []byte(b.String())
}

func encodedWordBomb(id string, n int) []byte {
	var b strings.Builder
	b.WriteString("From: m@evil.example\r\nMessage-ID: <" + id + ">\r\nSubject:")
	for range n {
		b.WriteString(" =?utf-8?q?=E2=98=A0?=")
	}
	b.WriteString("\r\n\r\nbody\r\n")
	return []byte(b.String())
}

func longHeaderLine(id string, n int) []byte {
	return []byte(hdr(id, "X-Long: "+strings.Repeat("A", n)+"\r\n\r\nbody\r\n"))
}

// mailCases are hostile mails: each goes through the HTTP API and IMAP.
var mailCases = []struct {
	name string
	mail func(id string) []byte
	// check names a property the stored result must have (see checkStored).
	check string
	// notOverIMAP: go-imap's imapserver (the in-process test server)
	// answers BODY[] with an empty literal when textproto.ReadHeader
	// fails, so the mail cannot reach postdesk intact that way.
	notOverIMAP bool
}{
	{"1000-deep nested multiparts", func(id string) []byte { return nestedMultipart(id, 1000) }, "", false},
	{"10000 tiny attachments", func(id string) []byte { return manyAttachments(id, 10000) }, "", false},
	{"200-deep nested message/rfc822", func(id string) []byte { return nestedRFC822(id, 200) }, "", false},
	{"attachment name ../../etc/passwd", func(id string) []byte { return attachmentNamed(id, "../../etc/passwd") }, "safe-filenames", false},
	{"attachment name absolute /etc/shadow", func(id string) []byte { return attachmentNamed(id, "/etc/shadow") }, "safe-filenames", false},
	{"attachment name ..\\..\\windows", func(id string) []byte { return attachmentNamed(id, `..\..\windows\system.ini`) }, "safe-filenames", false},
	{"attachment name with NUL (RFC 2231)", func(id string) []byte { return attachment2231(id, "evil%00.txt.exe") }, "safe-filenames", false},
	{"attachment name with CR LF and ESC (RFC 2231)", func(id string) []byte { return attachment2231(id, "a%0D%0AX-Injected:%201%1B[31m.txt") }, "safe-filenames", false},
	{"attachment name ../ in RFC 2231", func(id string) []byte { return attachment2231(id, "..%2F..%2Fboot.ini") }, "safe-filenames", false},
	{"header injection via encoded subject", func(id string) []byte {
		return []byte("From: m@evil.example\r\nMessage-ID: <" + id + ">\r\nSubject: =?utf-8?b?aGkNCkJjYzogdmljdGltQGV4YW1wbGUuY29t?=\r\n\r\nbody\r\n")
	}, "clean-title", false},
	{"NUL and control chars in subject", func(id string) []byte {
		return []byte("From: m@evil.example\r\nMessage-ID: <" + id + ">\r\nSubject: a\x00b\x07c\x1bd\x7f\r\n\r\nbo\x00dy\r\n")
	}, "clean-title", false},
	{"base64 garbage body", func(id string) []byte {
		return simple(id, "Content-Transfer-Encoding: base64\r\n", "!!!@@@###$$$%%%^^^&&&***\r\n====\r\nQUJD\x00\x01\r\n")
	}, "", false},
	{"quoted-printable garbage body", func(id string) []byte {
		return simple(id, "Content-Transfer-Encoding: quoted-printable\r\n", "=ZZ=\r\n=\r\n=4=\r\n=\xff=0\r\n")
	}, "", false},
	{"malformed date", func(id string) []byte {
		return []byte("From: m@evil.example\r\nMessage-ID: <" + id + ">\r\nDate: 99 Foo 12345 25:61:61 +9999\r\nSubject: bad date\r\n\r\nbody\r\n")
	}, "", false},
	{"date year 99999999", func(id string) []byte {
		return []byte("From: m@evil.example\r\nMessage-ID: <" + id + ">\r\nDate: Thu, 26 Nov 99999999 10:00:00 +0000\r\nSubject: far date\r\n\r\nbody\r\n")
	}, "", false},
	{"missing From", withoutFrom, "", false},
	{"From without address", func(id string) []byte {
		return []byte("From: <>\r\nMessage-ID: <" + id + ">\r\nSubject: empty from\r\n\r\nbody\r\n")
	}, "", false},
	{"invalid UTF-8 in headers and body", func(id string) []byte {
		return []byte("From: \xff\xfe <m@evil.example>\r\nMessage-ID: <" + id + ">\r\nSubject: \xc3\x28\xa0\xa1\r\n\r\n\xf0\x28\x8c\xbc\r\n")
	}, "clean-title", false},
	{"unknown charset", func(id string) []byte {
		return simple(id, "Content-Type: text/plain; charset=x-no-such-charset\r\n", "body\r\n")
	}, "", false},
	{"UTF-7 garbage", func(id string) []byte {
		return simple(id, "Content-Type: text/plain; charset=utf-7\r\n", "+AGEAYgBj- +////- +ZeVnLIqe-+\r\n")
	}, "", false},
	{"TNEF garbage winmail.dat", func(id string) []byte {
		return []byte(hdr(id, "Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\neJ8+IgAAAQaQCAAEAAAAAAABAAEAAQeQBgAIAAAA5AQAAAAAAADoAAEIgAcAGAAAAElQTS5NaWNyb3NvZnQgTWFpbC5Ob3RlADEI\r\n--x--\r\n"))
	}, "", false},
	{"uuencode garbage", func(id string) []byte {
		return simple(id, "", "begin 644 ../../evil.bin\r\nM9&%T80``````\xff\r\n`\r\nend\r\n")
	}, "safe-filenames", false},
	{"multipart without boundary", func(id string) []byte {
		return simple(id, "Content-Type: multipart/mixed\r\n", "--\r\nno boundary\r\n")
	}, "", false},
	{"multipart never closed", func(id string) []byte {
		return simple(id, "Content-Type: multipart/mixed; boundary=x\r\n", "--x\r\nContent-Type: text/plain\r\n\r\nopen")
	}, "", false},
	{"100000 headers", func(id string) []byte { return manyHeaders(id, 100000) }, "", false},
	{"10000 RFC 2047 words in subject", func(id string) []byte { return encodedWordBomb(id, 10000) }, "", false},
	{"5 MB header line", func(id string) []byte { return longHeaderLine(id, 5<<20) }, "", false},
	{"100 KB Content-Type parameters", func(id string) []byte {
		return simple(id, "Content-Type: text/plain; "+strings.Repeat("p=v; ", 20000)+"charset=utf-8\r\n", "body\r\n")
	}, "", false},
	{"Message-ID with control chars", func(id string) []byte {
		return []byte("From: m@evil.example\r\nMessage-ID: <" + id + ">\r\nReferences: <\x00\x01@x> <" + strings.Repeat("r", 100000) + "@x>\r\nSubject: refs\r\n\r\nbody\r\n")
	}, "", false},
	{"bare CR line ends", func(id string) []byte {
		return []byte("From: m@evil.example\rMessage-ID: <" + id + ">\rSubject: cr\r\rbody\r")
	}, "", false},
	{"header without colon", func(id string) []byte {
		return []byte("From: m@evil.example\r\nMessage-ID: <" + id + ">\r\nthis is not a header\r\nSubject: x\r\n\r\nbody\r\n")
	}, "", true},
	{"HTML with script and handlers", func(id string) []byte {
		return simple(id, "Content-Type: text/html; charset=utf-8\r\n", `<html><body onload="alert(1)"><script>alert(2)</script><img src=x onerror=alert(3)><a href="javascript:alert(4)">x</a></body></html>`+"\r\n")
	}, "", false},
	{"cid: loop and huge inline image count", func(id string) []byte {
		var b strings.Builder
		b.WriteString(hdr(id, "Content-Type: multipart/related; boundary=\"r\"\r\n\r\n--r\r\nContent-Type: text/html\r\n\r\n"))
		for i := range 2000 {
			fmt.Fprintf(&b, `<img src="cid:i%d">`, i%3)
		}
		b.WriteString("\r\n--r\r\nContent-Type: image/png\r\nContent-ID: <i0>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n")
		return []byte(b.String())
	}, "", false},
}
