package ticket

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// roundTrip splits raw as an import does and joins it again from the
// attachments, failing t unless that gives raw back; it returns the holes.
func roundTrip(t testing.TB, raw []byte) []RawHole {
	t.Helper()
	m, err := ParseMail(raw)
	if err != nil {
		return nil
	}
	blobs := map[string][]byte{}
	for i := range m.Attachments {
		a := &m.Attachments[i]
		sum := sha256.Sum256(a.Data)
		a.SHA256 = hex.EncodeToString(sum[:])
		blobs[a.SHA256] = a.Data
	}
	skel, holes := splitRaw(raw, m.Attachments)
	var cut int64
	for _, h := range holes {
		cut += h.Len
	}
	if int64(len(skel))+cut != int64(len(raw)) {
		t.Fatalf("skeleton %d bytes + holes %d bytes != raw %d bytes", len(skel), cut, len(raw))
	}
	got, err := JoinRaw(skel, holes, int64(len(raw)), func(sha string) ([]byte, error) {
		b, ok := blobs[sha]
		if !ok {
			return nil, fmt.Errorf("no blob %s", sha)
		}
		return b, nil
	})
	if err != nil {
		t.Fatalf("JoinRaw: %v (holes %+v)", err, holes)
	}
	if !bytes.Equal(got, raw) {
		i := 0
		for i < len(got) && i < len(raw) && got[i] == raw[i] {
			i++
		}
		t.Fatalf("JoinRaw gave %d bytes that differ from the %d of the mail at byte %d (holes %+v)", len(got), len(raw), i, holes)
	}
	return holes
}

// TestRawHolesCorpora stores every corpus mail without its attachments'
// base64 and gets every one back byte for byte.
func TestRawHolesCorpora(t *testing.T) {
	var files []string
	for _, pat := range []string{"zammad/*.box", "hunnysoft-zbateson/emails/*.txt", "mime4j/*/*.msg", "mime4j/*/*.txt"} {
		f, _ := filepath.Glob(filepath.Join(corporaDir, pat))
		files = append(files, f...)
	}
	if len(files) == 0 {
		t.Skipf("shared corpora not found at %s", corporaDir)
	}
	var mails, withHoles, holes int
	var size, cut int64
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		hs := roundTrip(t, raw)
		mails++
		size += int64(len(raw))
		if len(hs) > 0 {
			withHoles++
		}
		holes += len(hs)
		for _, h := range hs {
			cut += h.Len
		}
	}
	t.Logf("%d mails, %d of them with %d holes: %d of %d bytes left out (%.0f %%)", mails, withHoles, holes, cut, size, 100*float64(cut)/float64(size))
	// The corpora carry scores of base64 attachments (zammad's alone 60
	// and more): a split that never cuts is broken, not cautious.
	if withHoles < 50 || cut < size/4 {
		t.Errorf("only %d mails with holes, %d of %d bytes left out", withHoles, cut, size)
	}
}

// layoutMail is a mail with one attachment of data, its base64 wrapped at
// line characters with eol, then passed through edit.
func layoutMail(data []byte, line int, eol string, edit func(string) string) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	var lines []string
	for len(enc) > line {
		lines = append(lines, enc[:line])
		enc = enc[line:]
	}
	lines = append(lines, enc)
	body := strings.Join(lines, eol)
	if edit != nil {
		body = edit(body)
	}
	return []byte(strings.ReplaceAll("From: a@example.com\nSubject: layout\nMIME-Version: 1.0\n"+
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nSee the file.\n"+
		"--b\nContent-Type: application/octet-stream; name=f.bin\nContent-Transfer-Encoding: base64\n\n", "\n", eol) +
		body + strings.ReplaceAll("\n--b--\n", "\n", eol))
}

// TestRawHolesLayouts cuts the base64 that regenerates exactly and keeps
// any other whole; every mail comes back byte for byte.
func TestRawHolesLayouts(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 5000)
	for i := range data {
		data[i] = byte(rnd.UintN(256))
	}
	big := make([]byte, 3<<20+7) // more than one encoding block
	for i := range big {
		big[i] = byte(rnd.UintN(256))
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		cut  bool
	}{
		{"76 CRLF", layoutMail(data, 76, "\r\n", nil), true},
		{"76 LF", layoutMail(data, 76, "\n", nil), true},
		{"64 CRLF", layoutMail(data, 64, "\r\n", nil), true},
		{"4 LF", layoutMail(data, 4, "\n", nil), true},
		{"one line", layoutMail(data, 1<<20, "\r\n", nil), true},
		{"3 MiB", layoutMail(big, 76, "\r\n", nil), true},
		{"blank line after", layoutMail(data, 76, "\r\n", func(s string) string { return s + "\r\n\r\n" }), true},
		{"lines of 78", layoutMail(data, 78, "\r\n", nil), false},
		{"line break after the first", layoutMail(data, 76, "\r\n", func(s string) string { return "\r\n" + s }), false},
		{"trailing blank on a line", layoutMail(data, 76, "\r\n", func(s string) string { return strings.Replace(s, "\r\n", " \r\n", 3) }), false},
		{"mixed line breaks", layoutMail(data, 76, "\r\n", func(s string) string { return strings.Replace(s, "\r\n", "\n", 1) }), false},
		{"one short line", layoutMail(data, 76, "\r\n", func(s string) string { return s[:100] + "\r\n" + s[100:] }), false},
		{"no padding", layoutMail(data[:4999], 76, "\r\n", func(s string) string { return strings.TrimRight(s, "=") }), false},
		{"a character outside the alphabet", layoutMail(data, 76, "\r\n", func(s string) string { return s[:500] + "!" + s[500:] }), false},
		{"small", layoutMail(data[:minHoleData-1], 76, "\r\n", nil), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			holes := roundTrip(t, tc.raw)
			if got := len(holes) > 0; got != tc.cut {
				t.Errorf("cut %v (holes %+v), want %v", got, holes, tc.cut)
			}
		})
	}
}

// TestRawHolesTwoCopies cuts both copies of an attachment sent twice.
func TestRawHolesTwoCopies(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 200)
	one := layoutMail(data, 76, "\r\n", nil)
	i := bytes.Index(one, []byte("--b\r\nContent-Type: application"))
	j := bytes.LastIndex(one, []byte("\r\n--b--"))
	part := one[i : j+2]
	raw := append(append(append([]byte{}, one[:j+2]...), part...), one[j+2:]...)
	if holes := roundTrip(t, raw); len(holes) != 2 {
		t.Errorf("holes %+v, want 2", holes)
	}
}

// TestJoinRawRefuses never gives bytes other than the mail's: holes that
// do not fit and blobs that do not regenerate the hole are errors.
func TestJoinRawRefuses(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 3000)
	raw := layoutMail(data, 76, "\r\n", nil)
	m, err := ParseMail(raw)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(m.Attachments[0].Data)
	m.Attachments[0].SHA256 = hex.EncodeToString(sum[:])
	skel, holes := splitRaw(raw, m.Attachments)
	if len(holes) != 1 {
		t.Fatalf("holes %+v", holes)
	}
	blob := func(b []byte, err error) func(string) ([]byte, error) {
		return func(string) ([]byte, error) { return b, err }
	}
	size := int64(len(raw))
	for name, f := range map[string]func() ([]byte, error){
		"wrong size":   func() ([]byte, error) { return JoinRaw(skel, holes, size+1, blob(data, nil)) },
		"short blob":   func() ([]byte, error) { return JoinRaw(skel, holes, size, blob(data[1:], nil)) },
		"other blob":   func() ([]byte, error) { return JoinRaw(skel, holes, size, blob(bytes.Repeat([]byte("y"), 3000), nil)) },
		"missing blob": func() ([]byte, error) { return JoinRaw(skel, holes, size, blob(nil, ErrNotFound)) },
		"hole past the end": func() ([]byte, error) {
			h := holes[0]
			h.At = int64(len(skel)) + 1
			return JoinRaw(skel, []RawHole{h}, size, blob(data, nil))
		},
		"line not whole quanta": func() ([]byte, error) {
			h := holes[0]
			h.Line = 75
			return JoinRaw(skel, []RawHole{h}, size, blob(data, nil))
		},
		"no holes, wrong size": func() ([]byte, error) { return JoinRaw(raw, nil, size-1, nil) },
		// The blob is right, but the text it gives is not what was left
		// out (as if the check before the cut had let a wrong one pass).
		"other text than left out": func() ([]byte, error) {
			h := holes[0]
			h.CRC32C = fmt.Sprintf("%08x", ^crc32.Checksum(nil, castagnoli))
			if h.CRC32C == holes[0].CRC32C {
				h.CRC32C = "00000000"
			}
			return JoinRaw(skel, []RawHole{h}, size, blob(data, nil))
		},
		"malformed CRC": func() ([]byte, error) {
			h := holes[0]
			h.CRC32C = "abc"
			return JoinRaw(skel, []RawHole{h}, size, blob(data, nil))
		},
	} {
		if b, err := f(); err == nil {
			t.Errorf("%s: JoinRaw gave %d bytes, want an error", name, len(b))
		}
	}
	if b, err := JoinRaw(skel, holes, size, blob(data, nil)); err != nil || !bytes.Equal(b, raw) {
		t.Errorf("JoinRaw = %d bytes, %v; want the mail", len(b), err)
	}
	if holes[0].CRC32C == "" {
		t.Errorf("hole without the CRC-32C of its text: %+v", holes[0])
	}
	// Holes stored before the CRC-32C was kept have none.
	old := holes[0]
	old.CRC32C = ""
	if b, err := JoinRaw(skel, []RawHole{old}, size, blob(data, nil)); err != nil || !bytes.Equal(b, raw) {
		t.Errorf("JoinRaw of a hole without CRC-32C = %d bytes, %v; want the mail", len(b), err)
	}
}

// FuzzRawHoles builds a mail around an attachment in every line length
// and line break, edits one byte of its base64 (or none), and holds the
// split to its one promise: the mail comes back byte for byte.
func FuzzRawHoles(f *testing.F) {
	f.Add(bytes.Repeat([]byte("postdesk"), 200), uint8(18), true, uint16(0), byte(0), uint8(0))
	f.Add(bytes.Repeat([]byte{0xff, 0, 7}, 500), uint8(15), false, uint16(100), byte('\n'), uint8(1))
	f.Add(bytes.Repeat([]byte("x"), 1500), uint8(0), true, uint16(76), byte(' '), uint8(2))
	f.Add(bytes.Repeat([]byte("ab"), 700), uint8(3), true, uint16(2000), byte('='), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, quanta uint8, crlf bool, pos uint16, c byte, op uint8) {
		if len(data) < minHoleData {
			data = append(data, bytes.Repeat([]byte{byte(len(data))}, minHoleData-len(data))...)
		}
		eol := "\n"
		if crlf {
			eol = "\r\n"
		}
		raw := layoutMail(data, 4*(int(quanta%40)+1), eol, func(s string) string {
			i := int(pos) % (len(s) + 1)
			switch op % 3 {
			case 1: // replace a byte
				if i < len(s) {
					return s[:i] + string(c) + s[i+1:]
				}
			case 2: // insert a byte
				return s[:i] + string(c) + s[i:]
			}
			return s
		})
		holes := roundTrip(t, raw)
		if op%3 == 0 && len(holes) != 1 {
			t.Errorf("unedited base64 in lines of %d: holes %+v, want one", 4*(int(quanta%40)+1), holes)
		}
	})
}

// matchBase64Lines reports whether b is exactly data's base64 in lines of
// line characters, by encoding data whole and breaking the text into
// lines: what splitRaw checked before canonicalBase64Lines (with an
// encoder of its own), kept as its oracle.
func matchBase64Lines(b, data []byte, line int, crlf bool) bool {
	enc := base64.StdEncoding.EncodeToString(data)
	eol := "\n"
	if crlf {
		eol = "\r\n"
	}
	var want strings.Builder
	for len(enc) > line {
		want.WriteString(enc[:line] + eol)
		enc = enc[line:]
	}
	want.WriteString(enc)
	return string(b) == want.String()
}

// checkCanonical decodes text as the parser does and, where the standard
// decoder takes it whole, holds canonicalBase64Lines to the oracle on the
// span splitRaw would cut. It reports whether it got that far.
func checkCanonical(t *testing.T, text []byte) bool {
	t.Helper()
	data, strict := decodeBase64(text)
	if !strict || len(data) == 0 {
		return false
	}
	line, crlf, ok := base64Layout(text)
	if !ok {
		return false
	}
	n := base64LinesLen(len(data), line, crlf)
	if n > len(text) {
		return false
	}
	got := canonicalBase64Lines(text[:n], len(data), line, crlf)
	if want := matchBase64Lines(text[:n], data, line, crlf); got != want {
		t.Fatalf("%q (line %d, crlf %v): canonicalBase64Lines %v, encoding and comparing %v", text, line, crlf, got, want)
	}
	return true
}

// TestCanonicalBase64LinesAgreesWithEncoding edits every byte of small
// encodings in several layouts every way that matters to the decoder (a
// line break or padding where none belongs, a character replaced, one
// dropped or added, two swapped) and compares the form check with a fresh encoding.
func TestCanonicalBase64LinesAgreesWithEncoding(t *testing.T) {
	checked, cut := 0, 0
	for n := 1; n <= 20; n++ {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*37 + n)
		}
		for _, line := range []int{4, 8, 12} {
			for _, eol := range []string{"\n", "\r\n"} {
				base := appendBase64Lines(nil, data, line, eol == "\r\n")
				for _, tail := range []string{"", eol, eol + eol} {
					text := append(bytes.Clone(base), tail...)
					if !checkCanonical(t, text) {
						t.Fatalf("unedited %q not checked", text)
					}
					cut++
					for i := 0; i <= len(text); i++ {
						for _, c := range []byte{'\r', '\n', '=', 'A', 'B', 'Q', 'g', '/', '+', '9'} {
							if i < len(text) {
								replaced := bytes.Clone(text)
								replaced[i] = c
								if checkCanonical(t, replaced) {
									checked++
								}
							}
							inserted := append(append(bytes.Clone(text[:i]), c), text[i:]...)
							if checkCanonical(t, inserted) {
								checked++
							}
						}
						if i < len(text) {
							dropped := append(bytes.Clone(text[:i]), text[i+1:]...)
							if checkCanonical(t, dropped) {
								checked++
							}
						}
						if i+1 < len(text) {
							swapped := bytes.Clone(text)
							swapped[i], swapped[i+1] = swapped[i+1], swapped[i]
							if checkCanonical(t, swapped) {
								checked++
							}
						}
					}
				}
			}
		}
	}
	if checked < 10000 {
		t.Fatalf("only %d edited texts reached the comparison", checked)
	}
	t.Logf("%d unedited and %d edited texts compared", cut, checked)
}

// FuzzCanonicalBase64Lines holds the form check to the oracle on any text
// the standard decoder takes whole.
func FuzzCanonicalBase64Lines(f *testing.F) {
	for _, n := range []int{1, 2, 3, 57, 58, 59, 1500} {
		data := bytes.Repeat([]byte{0xfb, 0x10, 'x'}, n)[:n]
		f.Add(appendBase64Lines(nil, data, 76, true))
		f.Add(append(appendBase64Lines(nil, data, 64, false), '\n'))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		checkCanonical(t, text)
	})
}
