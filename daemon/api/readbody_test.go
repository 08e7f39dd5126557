package api

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadBody(t *testing.T) {
	body := strings.Repeat("mail ", 1000)
	for _, tc := range []struct {
		name    string
		r       io.Reader
		length  int64
		want    string
		wantErr error
	}{
		{"announced length", strings.NewReader(body), int64(len(body)), body, nil},
		{"in small reads", iotest.OneByteReader(strings.NewReader(body)), int64(len(body)), body, nil},
		{"no length", strings.NewReader(body), -1, body, nil},
		{"length over the limit", strings.NewReader(body), 1 << 40, body, nil},
		{"shorter than announced", strings.NewReader(body[:100]), int64(len(body)), body[:100], io.ErrUnexpectedEOF},
		{"empty, length announced", strings.NewReader(""), 10, "", io.ErrUnexpectedEOF},
		{"longer than announced", strings.NewReader(body), 100, body, nil},
		{"read error", iotest.ErrReader(errors.New("connection reset")), 10, "", errors.New("connection reset")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readBody(tc.r, tc.length, 1<<20)
			if (err == nil) != (tc.wantErr == nil) || (err != nil && err.Error() != tc.wantErr.Error()) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if !bytes.Equal(got, []byte(tc.want)) {
				t.Fatalf("%d bytes, want %d", len(got), len(tc.want))
			}
		})
	}
}

// BenchmarkReadBody compares reading a 25 MiB request body into a buffer
// of its announced size with io.ReadAll, in 32 KiB reads as from a socket.
func BenchmarkReadBody(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 25<<20)
	chunked := func() io.Reader { return io.LimitReader(&chunkReader{b: body}, int64(len(body))) }
	b.Run("readBody", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := readBody(chunked(), int64(len(body)), 32<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("io.ReadAll", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := io.ReadAll(chunked()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// chunkReader returns at most 32 KiB per Read.
type chunkReader struct {
	b   []byte
	off int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.off >= len(c.b) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 32<<10)], c.b[c.off:])
	c.off += n
	return n, nil
}
