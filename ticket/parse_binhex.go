package ticket

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// BinHex 4.0 (RFC 1741) is the classic Mac attachment encoding
// (application/mac-binhex40): 6-bit text between colons, run-length
// compressed, holding a header, a data fork and a resource fork.

const binhexAlphabet = "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"

var errBinHex = errors.New("malformed BinHex 4.0 data")

// decodeBinHex returns the file name and data fork of a BinHex 4.0 text;
// the resource fork (Mac metadata) is dropped. CRCs are not checked: what
// decodes is kept.
func decodeBinHex(b []byte) (name string, data []byte, err error) {
	i := bytes.Index(b, []byte("(This file must be converted with BinHex"))
	if i < 0 {
		return "", nil, errBinHex
	}
	b = b[i:]
	start := bytes.IndexByte(b, ':')
	if start < 0 {
		return "", nil, errBinHex
	}
	b = b[start+1:]
	var table [256]int8
	for k := range table {
		table[k] = -1
	}
	for k := 0; k < len(binhexAlphabet); k++ {
		table[binhexAlphabet[k]] = int8(k)
	}
	// 6-bit decoding up to the closing colon.
	raw := make([]byte, 0, len(b)*3/4)
	var acc uint32
	n := 0
	for _, c := range b {
		if c == ':' {
			break
		}
		v := table[c]
		if v < 0 {
			continue // line breaks
		}
		acc = acc<<6 | uint32(v)
		n++
		if n == 4 {
			raw = append(raw, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 2:
		raw = append(raw, byte(acc>>4))
	case 3:
		raw = append(raw, byte(acc>>10), byte(acc>>2))
	}
	// Run-length decoding: 0x90 n repeats the previous byte n-1 more
	// times; 0x90 0 is a literal 0x90.
	out := make([]byte, 0, len(raw))
	for k := 0; k < len(raw); k++ {
		c := raw[k]
		if c != 0x90 || k+1 >= len(raw) {
			out = append(out, c)
			continue
		}
		k++
		cnt := int(raw[k])
		if cnt == 0 {
			out = append(out, 0x90)
			continue
		}
		if len(out) == 0 {
			return "", nil, errBinHex
		}
		prev := out[len(out)-1]
		for r := 1; r < cnt; r++ {
			out = append(out, prev)
		}
	}
	// Header: name length, name, version, type, creator, flags, data
	// length, resource length, CRC.
	if len(out) < 1 {
		return "", nil, errBinHex
	}
	nl := int(out[0])
	h := 1 + nl + 1 + 4 + 4 + 2
	if len(out) < h+4+4+2 {
		return "", nil, errBinHex
	}
	name = decodeCharset("macintosh", out[1:1+nl])
	dlen := binary.BigEndian.Uint32(out[h:])
	body := out[h+4+4+2:]
	if uint64(dlen) > uint64(len(body)) {
		return "", nil, errBinHex
	}
	return name, body[:dlen], nil
}
