package faulttest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"testing"
	"time"
)

// repeatReader yields n copies of b without holding them in memory.
type repeatReader struct {
	b byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.n)
	for i := range k {
		p[i] = r.b
	}
	r.n -= k
	return int(k), nil
}

// streamed is prefix, n bytes of b, then suffix: a body of any size.
func streamed(prefix string, b byte, n int64, suffix string) (io.Reader, int64) {
	return io.MultiReader(strings.NewReader(prefix), &repeatReader{b, n}, strings.NewReader(suffix)),
		int64(len(prefix)) + n + int64(len(suffix))
}

// rawDo sends a request over its own TCP connection and streams body
// (length < 0: chunked) from a goroutine while reading the response, so a
// server that answers early (413) and hangs up is observed as it answers.
// head holds extra header lines ("Name: value"), sent verbatim.
func (td *testDaemon) rawDo(t testing.TB, method, target string, head []string, body io.Reader, length int64) (int, http.Header, []byte) {
	t.Helper()
	addr := strings.TrimPrefix(td.base, "http://")
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, target, addr)
	hasAuth := false
	for _, h := range head {
		if strings.HasPrefix(strings.ToLower(h), "authorization:") {
			hasAuth = true
		}
		req.WriteString(h + "\r\n")
	}
	if !hasAuth {
		req.WriteString("Authorization: Bearer " + td.token + "\r\n")
	}
	if body != nil {
		if length >= 0 {
			fmt.Fprintf(&req, "Content-Length: %d\r\n", length)
		} else {
			req.WriteString("Transfer-Encoding: chunked\r\n")
		}
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		t.Fatalf("write request head: %v", err)
	}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		if body == nil {
			return
		}
		var w io.Writer = conn
		if length < 0 {
			cw := httputil.NewChunkedWriter(conn)
			defer func() {
				cw.Close()
				io.WriteString(conn, "\r\n")
			}()
			w = cw
		}
		_, _ = io.Copy(w, body) // stops when the server hangs up
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: no response: %v", method, target, err)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	conn.Close()
	<-wrote
	return resp.StatusCode, resp.Header, b
}
