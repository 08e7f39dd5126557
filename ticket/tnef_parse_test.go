package ticket

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf16"
)

// tnefAttr encodes one TNEF attribute ([MS-OXTNEF] §2.1.3.1).
func tnefAttr(level byte, id uint32, data []byte) []byte {
	b := []byte{level}
	b = binary.LittleEndian.AppendUint32(b, id)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	var sum uint16
	for _, c := range data {
		sum += uint16(c)
	}
	return binary.LittleEndian.AppendUint16(b, sum)
}

// mapiUnicodeProp encodes a one-property MAPI list with a PT_UNICODE value.
func mapiUnicodeProp(id uint16, s string) []byte {
	u := utf16.Encode([]rune(s + "\x00"))
	val := make([]byte, 0, 2*len(u))
	for _, c := range u {
		val = binary.LittleEndian.AppendUint16(val, c)
	}
	b := binary.LittleEndian.AppendUint32(nil, 2) // two properties
	// A PT_LONG property first, to exercise skipping.
	b = binary.LittleEndian.AppendUint16(b, ptLong)
	b = binary.LittleEndian.AppendUint16(b, 0x0E21)
	b = binary.LittleEndian.AppendUint32(b, 7)
	b = binary.LittleEndian.AppendUint16(b, ptUnicode)
	b = binary.LittleEndian.AppendUint16(b, id)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(val)))
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// buildTNEF makes a TNEF stream with the given files: short title, long
// MAPI name and data.
func buildTNEF(files ...[3]string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, tnefSignature)
	b = binary.LittleEndian.AppendUint16(b, 0x0001)
	b = append(b, tnefAttr(1, 0x00089006, []byte{1, 0, 0, 0})...) // message level attribute, skipped
	for _, f := range files {
		b = append(b, tnefAttr(2, 0x00069002, make([]byte, 14))...)
		b = append(b, tnefAttr(2, 0x00018010, []byte(f[0]+"\x00"))...)
		b = append(b, tnefAttr(2, 0x0006800F, []byte(f[2]))...)
		if f[1] != "" {
			b = append(b, tnefAttr(2, 0x00069005, mapiUnicodeProp(mapiAttachLongFilename, f[1]))...)
		}
	}
	return b
}

func TestReadTNEF(t *testing.T) {
	stream := buildTNEF(
		[3]string{"REPORT~1.PDF", "Quarterly report ä.pdf", "%PDF-1.4 data"},
		[3]string{"NOTES.TXT", "", "hello"},
	)
	atts, err := readTNEF(stream, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 2 {
		t.Fatalf("got %d attachments, want 2", len(atts))
	}
	if atts[0].name != "Quarterly report ä.pdf" || string(atts[0].data) != "%PDF-1.4 data" {
		t.Errorf("first attachment: %q %q", atts[0].name, atts[0].data)
	}
	if atts[1].name != "NOTES.TXT" || string(atts[1].data) != "hello" {
		t.Errorf("second attachment: %q %q", atts[1].name, atts[1].data)
	}
	if _, err := readTNEF([]byte("not tnef at all"), 10); !errors.Is(err, errNotTNEF) {
		t.Errorf("garbage: err = %v, want errNotTNEF", err)
	}
	// Truncated streams fail without panicking.
	for i := 0; i < len(stream); i += 7 {
		readTNEF(stream[:i], 10)
	}
	if atts, err := readTNEF(stream, 1); err == nil || len(atts) > 1 {
		t.Errorf("limit 1: got %d attachments, err %v", len(atts), err)
	}
}

func tnefMail(payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.com\r\nSubject: tnef\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--XX\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	b.WriteString(base64.StdEncoding.EncodeToString(payload))
	b.WriteString("\r\n--XX--\r\n")
	return b.Bytes()
}

func TestParseMailTNEF(t *testing.T) {
	m, err := ParseMail(tnefMail(buildTNEF([3]string{"A.TXT", "long name.txt", "payload"})))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "long name.txt" || string(m.Attachments[0].Data) != "payload" ||
		m.Attachments[0].ContentType != "text/plain" {
		t.Fatalf("attachments: %s", attNames(m))
	}
	// A TNEF stream that cannot be unpacked is kept as winmail.dat.
	m, err = ParseMail(tnefMail([]byte("garbage, not TNEF")))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "winmail.dat" || string(m.Attachments[0].Data) != "garbage, not TNEF" {
		t.Fatalf("attachments: %s", attNames(m))
	}
}

// TestParseMailTNEFCorpus: hunnysoft m4006 declares application/ms-tnef
// but carries a PNG; the part must be kept byte-exact as winmail.dat.
func TestParseMailTNEFCorpus(t *testing.T) {
	dir := corpus(t, "hunnysoft-zbateson")
	m, err := parseNoPanic(t, filepath.Join(dir, "emails", "m4006.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "emails", "files", "winmail.dat"))
	if err != nil {
		t.Skipf("winmail.dat absent: %v", err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "winmail.dat" || !bytes.Equal(m.Attachments[0].Data, want) {
		t.Fatalf("attachments: %s", attNames(m))
	}
}
