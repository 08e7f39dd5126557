package ticket

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// oldBase64 is decodeBase64 as it was before the lenient loop learnt to go
// on where the standard decoder stopped: the standard decoder, and when
// that fails the lenient loop from the first byte. decodeBase64 must match
// it byte for byte.
func oldBase64(b []byte) []byte {
	if data, err := base64.StdEncoding.DecodeString(string(b)); err == nil {
		return data
	}
	return lenientBase64(nil, b, 0, 0)
}

// wrapBase64 encodes data in lines of width letters ending in eol.
func wrapBase64(data []byte, width int, eol string) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var sb strings.Builder
	for len(enc) > width {
		sb.WriteString(enc[:width])
		sb.WriteString(eol)
		enc = enc[width:]
	}
	sb.WriteString(enc)
	sb.WriteString(eol)
	return sb.String()
}

func TestDecodeBase64Resumes(t *testing.T) {
	data := bytes.Repeat([]byte("postdesk keeps every byte of an attachment. "), 40)
	good := wrapBase64(data, 76, "\r\n")
	cases := map[string]string{
		"well-formed":                 good,
		"garbage last line":           good + "--boundary-- epilogue\r\n",
		"stray byte in the last line": good[:len(good)-10] + "*" + good[len(good)-10:],
		"missing padding":             strings.TrimRight(good, "=\r\n") + "\r\n",
		"lines of 75 letters":         wrapBase64(data, 75, "\n") + "!!\n",
		"lines of 73, CRLF, damaged":  wrapBase64(data, 73, "\r\n") + "QUJD*\r\n",
		"CR inside a line":            "QUJD\rRUZH\nSElK\n!!\n",
		"short lines with a CR":       "QU\rJD\nSElK\n*\n",
		"padding before the damage":   "SGk=\nSGk=\n*\n",
		"damage in the first line":    "QUJD*RUZH\nSElK\n",
		"space at a line end":         "QUJD \nRUZH\n*\n",
		"bare LF, damage":             wrapBase64(data, 60, "\n") + "#\n",
		"glued blobs":                 "SGk=SGk=",
		"empty":                       "",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			got, strict := decodeBase64([]byte(in))
			want := oldBase64([]byte(in))
			if !bytes.Equal(got, want) {
				t.Fatalf("decodeBase64 = %q, the old decoder %q", got, want)
			}
			_, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(in))
			if strict != (err == nil) {
				t.Fatalf("strict = %v, the standard decoder's error %v", strict, err)
			}
		})
	}
	// The cases that should resume do: a damaged last line costs the
	// lenient loop that line alone.
	in := []byte(good + "--boundary--\r\n")
	if at, keep, tail, ok := cleanPrefix(in, len(good)); !ok || at != len(good) || keep != len(data) || len(tail) != 0 {
		t.Fatalf("cleanPrefix(good + garbage) = %d, %d, %q, %v; want to resume at %d keeping %d bytes", at, keep, tail, ok, len(good), len(data))
	}
	lines := strings.SplitAfter(wrapBase64(data, 75, "\n"), "\n")
	in = []byte(lines[0] + "!!\n" + strings.Join(lines[1:], ""))
	if at, keep, tail, ok := cleanPrefix(in, len(lines[0])); !ok || at != len(lines[0]) || keep != 54 || string(tail) != lines[0][72:75] {
		t.Fatalf("cleanPrefix(a line of 75, garbage, more) = %d, %d, %q, %v; want %d, 54, %q", at, keep, tail, ok, len(lines[0]), lines[0][72:75])
	}
	if got, _ := decodeBase64(in); !bytes.Equal(got, data) {
		t.Fatalf("decodeBase64(a line of 75, garbage, more) = %q, want %q", got, data)
	}
}

func FuzzDecodeBase64(f *testing.F) {
	data := bytes.Repeat([]byte{0, 1, 2, 0xfe, 'x'}, 30)
	for _, s := range []string{
		wrapBase64(data, 76, "\r\n") + "--b--\r\n",
		wrapBase64(data, 75, "\n") + "!\n",
		strings.TrimRight(wrapBase64(data, 76, "\r\n"), "=\r\n"),
		"QUJD\rRUZH\nSElK\n!!\n",
		"SGk=\nSGk=\n*\n",
		"QUJD \nRUZH\n*\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, _ := decodeBase64(in)
		if want := oldBase64(in); !bytes.Equal(got, want) {
			t.Fatalf("decodeBase64(%q) = %q, the old decoder %q", in, got, want)
		}
	})
}

// BenchmarkDecodeBase64 decodes a 64 KiB attachment in 76-letter lines,
// whole and with a damaged last line (an epilogue glued to the data, a
// missing padding: 12 of the corpora's parts).
func BenchmarkDecodeBase64(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	good := wrapBase64(data, 76, "\r\n")
	for _, c := range []struct{ name, in string }{
		{"well-formed", good},
		{"damaged-last-line", good + "--boundary--\r\n"},
	} {
		b.Run(c.name, func(b *testing.B) {
			in := []byte(c.in)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				decodeBase64(in)
			}
		})
	}
}
