package ticket

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"sort"
)

// A stored message keeps its raw bytes exactly, but not its attachments
// twice: an attachment's base64 text in the raw mail is left out of the
// stored copy (the "skeleton") whenever the attachment's blob, which the
// store keeps anyway, regenerates it byte for byte. Mail clients write
// base64 in lines of one length (76 characters, RFC 2045 §6.8) with one
// kind of line break, so that is nearly always; anything else (other
// wrapping, blanks, broken base64 the parser decoded leniently) stays in
// the skeleton as it came.

// RawHole is one span left out of a stored message's raw bytes: the
// standard padded base64 of the blob SHA256, in lines of Line characters
// joined by "\r\n" (CRLF) or "\n", with no line break after the last line.
// At is where it goes in the skeleton, Len its length in the raw mail,
// CRC32C the Castagnoli CRC-32 of the text left out (8 hex digits; holes
// made before it was kept have none), which JoinRaw checks the rebuilt
// text against.
type RawHole struct {
	At     int64  `json:"at"`
	Len    int64  `json:"len"`
	SHA256 string `json:"sha256"`
	Line   int    `json:"line"`
	CRLF   bool   `json:"crlf,omitempty"`
	CRC32C string `json:"crc32c,omitempty"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func textCRC(b []byte) string {
	return fmt.Sprintf("%08x", crc32.Checksum(b, castagnoli))
}

// minHoleData is the smallest attachment whose base64 is left out: below
// it the hole's bookkeeping is about the size of what it saves.
const minHoleData = 1024

// splitRaw returns raw without the base64 text of those attachments that
// regenerate it (their SHA256 set), and the holes that say where it goes.
// holes is nil, and skeleton raw itself, when no attachment does.
func splitRaw(raw []byte, atts []Attachment) (skeleton []byte, holes []RawHole) {
	type span struct {
		off int
		h   RawHole
	}
	var spans []span
	for i := range atts {
		a := &atts[i]
		if len(a.Data) < minHoleData || a.SHA256 == "" {
			continue
		}
		off, ok := offsetIn(raw, a.encoded)
		if !ok {
			continue
		}
		line, crlf, ok := base64Layout(a.encoded)
		if !ok {
			continue
		}
		n := base64LinesLen(len(a.Data), line, crlf)
		if n > len(a.encoded) || !canonicalBase64Lines(a.encoded[:n], len(a.Data), line, crlf) {
			continue
		}
		spans = append(spans, span{off, RawHole{Len: int64(n), SHA256: a.SHA256, Line: line, CRLF: crlf, CRC32C: textCRC(a.encoded[:n])}})
	}
	if len(spans) == 0 {
		return raw, nil
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].off < spans[j].off })
	size := len(raw)
	kept := spans[:0]
	end := 0
	for _, s := range spans {
		if s.off < end {
			continue // overlaps the one before: cannot happen for MIME parts
		}
		kept = append(kept, s)
		end = s.off + int(s.h.Len)
		size -= int(s.h.Len)
	}
	skeleton = make([]byte, 0, size)
	holes = make([]RawHole, 0, len(kept))
	prev := 0
	for _, s := range kept {
		skeleton = append(skeleton, raw[prev:s.off]...)
		s.h.At = int64(len(skeleton))
		holes = append(holes, s.h)
		prev = s.off + int(s.h.Len)
	}
	return append(skeleton, raw[prev:]...), holes
}

// offsetIn returns where sub begins in raw when sub is a slice of raw's
// array (the parser's bodies are).
func offsetIn(raw, sub []byte) (int, bool) {
	if len(sub) == 0 || len(raw) == 0 {
		return 0, false
	}
	off := cap(raw) - cap(sub)
	if off < 0 || off+len(sub) > len(raw) || &raw[off] != &sub[0] {
		return 0, false
	}
	return off, true
}

// base64Layout reads the line length and line break of base64 text from
// its first line; the length must be a whole number of quanta.
func base64Layout(b []byte) (line int, crlf, ok bool) {
	line = bytes.IndexByte(b, '\n')
	if line < 0 {
		return len(b) - len(b)%4, false, len(b) >= 4
	}
	if line > 0 && b[line-1] == '\r' {
		line--
		crlf = true
	}
	return line, crlf, line >= 4 && line%4 == 0
}

// base64LinesLen is the length of the base64 of n bytes in lines of line
// characters.
func base64LinesLen(n, line int, crlf bool) int {
	enc := base64.StdEncoding.EncodedLen(n)
	if enc == 0 {
		return 0
	}
	eol := 1
	if crlf {
		eol = 2
	}
	return enc + (enc-1)/line*eol
}

// canonicalBase64Lines reports whether text is exactly the standard
// base64 of n bytes in lines of line characters (no break after the last),
// given that text begins base64 which the standard decoder took whole and
// decoded to those n bytes (Attachment.encoded). It reads the text's form,
// not the bytes: the decoder saw only the alphabet, CR, LF and padding at
// the end, so when the line breaks are exactly where the layout puts them
// (and no other CR or LF is left for the decoder to have skipped), text
// holds EncodedLen(n) characters of the alphabet, the padding is exactly
// the final (3-n%3)%3 characters, and the bits the padding leaves unused
// are zero, then the characters decode to those n bytes (the padded text
// covers all of them, so whatever the decoder read after text held no
// more) and are the one text that encodes them. That is the byte-for-byte
// comparison with a fresh encoding (matchBase64Lines in the tests, the
// oracle FuzzCanonicalBase64Lines holds this to) without encoding: it cost
// 4 % of the daemon's CPU.
func canonicalBase64Lines(text []byte, n, line int, crlf bool) bool {
	enc := base64.StdEncoding.EncodedLen(n)
	if n <= 0 || line <= 0 || len(text) != base64LinesLen(n, line, crlf) {
		return false
	}
	eol := 1
	if crlf {
		eol = 2
	}
	breaks := (enc - 1) / line
	cr := 0
	if crlf {
		cr = breaks
	}
	if bytes.Count(text, []byte{'\n'}) != breaks || bytes.Count(text, []byte{'\r'}) != cr {
		return false
	}
	for k := 1; k <= breaks; k++ {
		at := k*(line+eol) - eol
		if text[at+eol-1] != '\n' || (crlf && text[at] != '\r') {
			return false
		}
	}
	pad := (3 - n%3) % 3
	first := bytes.IndexByte(text, '=')
	switch pad {
	case 0:
		return first < 0
	case 1:
		return first == len(text)-1 && b64Value(text[len(text)-2])&0x3 == 0
	default:
		return first == len(text)-2 && text[len(text)-1] == '=' && b64Value(text[len(text)-3])&0xf == 0
	}
}

// appendBase64Lines appends data's standard base64 in lines of line
// characters (a whole number of quanta) joined by CR LF or LF, with no
// break after the last: each line is encoded straight into dst.
func appendBase64Lines(dst, data []byte, line int, crlf bool) []byte {
	per := max(line/4, 1) * 3 // the bytes a full line encodes
	for len(data) > 0 {
		n := min(per, len(data))
		dst = base64.StdEncoding.AppendEncode(dst, data[:n])
		if data = data[n:]; len(data) > 0 {
			if crlf {
				dst = append(dst, '\r')
			}
			dst = append(dst, '\n')
		}
	}
	return dst
}

// JoinRaw rebuilds a stored message's raw bytes (size of them) from its
// skeleton and holes, blob giving each hole's attachment data by its
// SHA-256. Holes that do not fit the skeleton, and blobs whose bytes do not
// have that SHA-256, do not give the hole's length or whose base64 does not
// have the CRC-32C of the text left out, are an error: never a raw mail
// other than the one imported.
func JoinRaw(skeleton []byte, holes []RawHole, size int64, blob func(sha256 string) ([]byte, error)) ([]byte, error) {
	if len(holes) == 0 {
		if int64(len(skeleton)) != size {
			return nil, fmt.Errorf("stored raw message is %d bytes, want %d", len(skeleton), size)
		}
		return skeleton, nil
	}
	if err := CheckRawHoles(int64(len(skeleton)), holes, size); err != nil {
		return nil, err
	}
	out := make([]byte, 0, size)
	prev := int64(0)
	for i, h := range holes {
		out = append(out, skeleton[prev:h.At]...)
		prev = h.At
		data, err := blob(h.SHA256)
		if err != nil {
			return nil, fmt.Errorf("raw message part %d: attachment %s: %w", i, h.SHA256, err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != h.SHA256 {
			return nil, fmt.Errorf("raw message part %d: attachment %s: the blob's bytes have another SHA-256", i, h.SHA256)
		}
		if got := base64LinesLen(len(data), h.Line, h.CRLF); int64(got) != h.Len {
			return nil, fmt.Errorf("raw message part %d: attachment %s gives %d bytes of base64, want %d", i, h.SHA256, got, h.Len)
		}
		start := len(out)
		out = appendBase64Lines(out, data, h.Line, h.CRLF)
		if h.CRC32C != "" && textCRC(out[start:]) != h.CRC32C {
			return nil, fmt.Errorf("raw message part %d: attachment %s: the rebuilt base64 is not the text left out (CRC-32C %s, want %s)",
				i, h.SHA256, textCRC(out[start:]), h.CRC32C)
		}
	}
	return append(out, skeleton[prev:]...), nil
}

// CheckRawHoles checks that holes fit a skeleton of skelLen bytes, in
// order, and make a raw message of size bytes.
func CheckRawHoles(skelLen int64, holes []RawHole, size int64) error {
	prev := int64(0)
	for i, h := range holes {
		if h.At < prev || h.At > skelLen || h.Len <= 0 || h.Line < 4 || h.Line%4 != 0 || h.SHA256 == "" ||
			(h.CRC32C != "" && len(h.CRC32C) != 8) {
			return fmt.Errorf("raw message part %d: invalid hole %+v", i, h)
		}
		prev = h.At
	}
	if want := StoredRawLen(size, holes); skelLen != want {
		return fmt.Errorf("stored raw message and its attachments make %d bytes, want %d", size-want+skelLen, size)
	}
	return nil
}

// StoredRawLen is the length of the skeleton of a raw mail of size bytes
// with holes.
func StoredRawLen(size int64, holes []RawHole) int64 {
	for _, h := range holes {
		size -= h.Len
	}
	return size
}
