package ticket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// TNEF ([MS-OXTNEF]) is Outlook's container for rich mail ("winmail.dat").
// readTNEF extracts its attachments; message-level attributes are skipped.

const tnefSignature = 0x223E9F78

// Attribute ids (low 16 bits of the attribute id, [MS-OXTNEF] §2.1.3.2).
const (
	tnefAttAttachData     = 0x800F // attAttachData: the attachment bytes
	tnefAttAttachTitle    = 0x8010 // attAttachTitle: 8.3 or short name
	tnefAttAttachRendData = 0x9002 // attAttachRendData: starts an attachment
	tnefAttAttachment     = 0x9005 // attAttachment: MAPI properties
	tnefLevelAttachment   = 0x02
)

// MAPI property ids and types used here ([MS-OXPROPS]).
const (
	mapiAttachLongFilename = 0x3707
	mapiAttachFilename     = 0x3704
	mapiAttachMimeTag      = 0x370E
	mapiAttachContentID    = 0x3712
	mapiAttachDataBin      = 0x3701

	ptShort    = 0x0002
	ptLong     = 0x0003
	ptFloat    = 0x0004
	ptDouble   = 0x0005
	ptCurrency = 0x0006
	ptAppTime  = 0x0007
	ptError    = 0x000A
	ptBoolean  = 0x000B
	ptObject   = 0x000D
	ptI8       = 0x0014
	ptString8  = 0x001E
	ptUnicode  = 0x001F
	ptSysTime  = 0x0040
	ptCLSID    = 0x0048
	ptBinary   = 0x0102
	ptMulti    = 0x1000
)

var errNotTNEF = errors.New("not a TNEF stream")

// tnefAttachment is one file found in a TNEF stream.
type tnefAttachment struct {
	name      string
	mimeType  string
	contentID string
	data      []byte
}

// readTNEF returns the attachments of a TNEF stream, at most max of them.
// The data slices alias b.
func readTNEF(b []byte, max int) ([]tnefAttachment, error) {
	if len(b) < 6 || binary.LittleEndian.Uint32(b) != tnefSignature {
		return nil, errNotTNEF
	}
	b = b[6:] // signature, legacy key
	var atts []tnefAttachment
	var cur *tnefAttachment
	for len(b) >= 9 {
		level := b[0]
		id := binary.LittleEndian.Uint32(b[1:]) & 0xFFFF
		n := binary.LittleEndian.Uint32(b[5:])
		if uint64(n)+11 > uint64(len(b)) {
			return atts, fmt.Errorf("tnef attribute %#x: length %d beyond data", id, n)
		}
		data := b[9 : 9+n]
		b = b[9+n+2:] // data, checksum
		if level != tnefLevelAttachment {
			continue
		}
		switch id {
		case tnefAttAttachRendData:
			if len(atts) >= max {
				return atts, fmt.Errorf("more than %d tnef attachments", max)
			}
			atts = append(atts, tnefAttachment{})
			cur = &atts[len(atts)-1]
		case tnefAttAttachTitle:
			if cur != nil && cur.name == "" {
				cur.name = strings.TrimRight(decodeCharset("windows-1252", data), "\x00")
			}
		case tnefAttAttachData:
			if cur != nil {
				cur.data = data
			}
		case tnefAttAttachment:
			if cur != nil {
				applyMAPIProps(cur, data)
			}
		}
	}
	return withData(atts), nil
}

// withData drops attachments without bytes (embedded messages, OLE objects).
func withData(atts []tnefAttachment) []tnefAttachment {
	out := atts[:0]
	for _, a := range atts {
		if len(a.data) > 0 {
			out = append(out, a)
		}
	}
	return out
}

// applyMAPIProps reads the attachment's MAPI property list ([MS-OXTNEF]
// §2.1.3.4) for the long filename, MIME type and content id. Parsing stops
// quietly at the first malformed property.
func applyMAPIProps(a *tnefAttachment, b []byte) {
	r := tnefReader{b: b}
	count := r.u32()
	for i := uint32(0); i < count && r.ok(); i++ {
		typ := r.u16()
		pid := r.u16()
		if pid >= 0x8000 { // named property: GUID, kind, id or name
			r.skip(16)
			if r.u32() == 0 {
				r.skip(4)
			} else {
				r.skip(pad4(int(r.u32())))
			}
		}
		multi := typ&ptMulti != 0
		base := typ &^ ptMulti
		values := uint32(1)
		if multi || base == ptString8 || base == ptUnicode || base == ptBinary || base == ptObject {
			values = r.u32()
		}
		for v := uint32(0); v < values && r.ok(); v++ {
			switch base {
			case ptString8, ptUnicode, ptBinary, ptObject:
				n := int(r.u32())
				val := r.bytes(n)
				r.skip(pad4(n) - n)
				if !r.ok() {
					return
				}
				var s string
				switch base {
				case ptUnicode:
					s = utf16le(val)
				case ptString8:
					s = decodeCharset("windows-1252", val)
				}
				s = strings.TrimRight(s, "\x00")
				switch pid {
				case mapiAttachLongFilename:
					if s != "" {
						a.name = s
					}
				case mapiAttachFilename:
					if a.name == "" {
						a.name = s
					}
				case mapiAttachMimeTag:
					a.mimeType = strings.ToLower(strings.TrimSpace(s))
				case mapiAttachContentID:
					a.contentID = strings.Trim(s, "<> ")
				case mapiAttachDataBin:
					if a.data == nil && base == ptBinary {
						a.data = val
					}
				}
			case ptShort, ptLong, ptFloat, ptError, ptBoolean:
				r.skip(4)
			case ptDouble, ptCurrency, ptAppTime, ptI8, ptSysTime:
				r.skip(8)
			case ptCLSID:
				r.skip(16)
			default:
				return // unknown type: sizes unknown from here on
			}
		}
	}
}

func pad4(n int) int { return (n + 3) &^ 3 }

func utf16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// tnefReader is a bounds-checked little-endian reader; after the first
// overrun every read returns zero and ok reports false.
type tnefReader struct {
	b   []byte
	bad bool
}

func (r *tnefReader) ok() bool { return !r.bad }

func (r *tnefReader) bytes(n int) []byte {
	if r.bad || n < 0 || n > len(r.b) {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *tnefReader) skip(n int) { r.bytes(n) }

func (r *tnefReader) u16() uint16 {
	if v := r.bytes(2); v != nil {
		return binary.LittleEndian.Uint16(v)
	}
	return 0
}

func (r *tnefReader) u32() uint32 {
	if v := r.bytes(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}
