package ticket

import (
	"bytes"
	"strings"
)

// uuBlock is one uuencoded file found in a text body.
type uuBlock struct {
	name string
	data []byte
}

// extractUUBlocks finds uuencoded files ("begin 644 name" … "end") in a
// text body and returns them with the text that remains. Lenient: lines
// may end in CRLF, '`' and ' ' both encode zero, a missing "end" closes the
// block at the end of the text, malformed lines decode what they can.
// A "begin" line not followed by encoded data is kept as text.
func extractUUBlocks(b []byte) ([]uuBlock, string) {
	var blocks []uuBlock
	var rest strings.Builder
	for len(b) > 0 {
		line, next := cutLine(b)
		name, ok := parseUUBegin(line)
		if !ok {
			rest.Write(b[:len(b)-len(next)])
			b = next
			continue
		}
		var data []byte
		cur := next
		lines := 0
		for len(cur) > 0 {
			l, n := cutLine(cur)
			l = bytes.TrimRight(l, "\r")
			if string(bytes.TrimSpace(l)) == "end" {
				cur = n
				break
			}
			if !decodeUULine(&data, l) {
				break
			}
			lines++
			cur = n
		}
		if lines == 0 {
			rest.Write(b[:len(b)-len(next)])
			b = next
			continue
		}
		blocks = append(blocks, uuBlock{name: name, data: data})
		b = cur
	}
	return blocks, rest.String()
}

func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// parseUUBegin parses "begin MODE NAME" with an octal mode.
func parseUUBegin(line []byte) (name string, ok bool) {
	s := strings.TrimRight(string(line), "\r")
	if !strings.HasPrefix(s, "begin ") {
		return "", false
	}
	f := strings.SplitN(s[len("begin "):], " ", 2)
	if len(f) != 2 || len(f[0]) < 3 || len(f[0]) > 4 || strings.Trim(f[0], "01234567") != "" {
		return "", false
	}
	return strings.TrimSpace(f[1]), strings.TrimSpace(f[1]) != ""
}

// decodeUULine appends one encoded line to data; false when the line is
// not uuencoded data.
func decodeUULine(data *[]byte, l []byte) bool {
	if len(l) == 0 {
		return true // blank lines inside a block are tolerated
	}
	n := int((l[0] - ' ') & 0x3f)
	if l[0] < ' ' || l[0] > '`' {
		return false
	}
	if n == 0 {
		return true
	}
	body := l[1:]
	if len(body) < (n+2)/3*4-3 {
		return false
	}
	out := make([]byte, 0, n+3)
	for i := 0; i+1 < len(body) && len(out) < n; i += 4 {
		var q [4]byte
		for k := 0; k < 4; k++ {
			if i+k < len(body) {
				c := body[i+k]
				if c < ' ' || c > '`' {
					return false
				}
				q[k] = (c - ' ') & 0x3f
			}
		}
		out = append(out, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2, q[2]<<6|q[3])
	}
	if len(out) > n {
		out = out[:n]
	}
	*data = append(*data, out...)
	return true
}
