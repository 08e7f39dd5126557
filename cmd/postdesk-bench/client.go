package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// loadClient is the HTTP load generator: keep-alive HTTP/1.1 connections,
// each request written with one writev of prebuilt header bytes and the
// body, each response read with net/http's own parser. net/http's
// Transport costs the load generator, which shares the two cores with the
// server, about 70 µs a request in goroutine hand-offs and bookkeeping
// (its read and write loops and the caller's Do were 12 % of the HTTP
// step's CPU profile); this costs a fraction of that, so more of the
// machine measures the server.
type loadClient struct {
	addr string // host:port
	head string // request line and headers up to Content-Length's value
	idle chan *loadConn
	dial time.Duration
	// timeout bounds each request when set (the one 25 MiB import of the
	// memory row); the load steps set none, a deadline per request costs.
	timeout time.Duration
}

type loadConn struct {
	c net.Conn
	r *bufio.Reader
}

// newLoadClient posts to base+path (base "http://host:port") with the
// Bearer token, keeping up to conns connections open.
func newLoadClient(base, path, token string, conns int) *loadClient {
	addr := strings.TrimPrefix(base, "http://")
	return &loadClient{
		addr: addr,
		head: "POST " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + token +
			"\r\nContent-Type: application/json\r\nUser-Agent: postdesk-bench\r\nContent-Length: ",
		idle: make(chan *loadConn, conns),
		dial: 5 * time.Second,
	}
}

func (lc *loadClient) get() (*loadConn, error) {
	select {
	case c := <-lc.idle:
		return c, nil
	default:
	}
	c, err := net.DialTimeout("tcp", lc.addr, lc.dial)
	if err != nil {
		return nil, err
	}
	return &loadConn{c: c, r: bufio.NewReaderSize(c, 4096)}, nil
}

func (lc *loadClient) put(c *loadConn) {
	select {
	case lc.idle <- c:
	default:
		c.c.Close()
	}
}

// post sends the body made of parts and checks for a 200. A connection
// that failed or that the server closes is not reused.
func (lc *loadClient) post(parts ...[]byte) error {
	c, err := lc.get()
	if err != nil {
		return err
	}
	if lc.timeout > 0 {
		if err := c.c.SetDeadline(time.Now().Add(lc.timeout)); err != nil {
			c.c.Close()
			return err
		}
	}
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	head := make([]byte, 0, len(lc.head)+24)
	head = append(strconv.AppendInt(append(head, lc.head...), int64(size), 10), "\r\n\r\n"...)
	bufs := append(net.Buffers{head}, parts...)
	if _, err := bufs.WriteTo(c.c); err != nil {
		c.c.Close()
		return err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.c.Close()
		return err
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		c.c.Close()
	} else {
		lc.put(c)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return err
}

// closeIdle closes the kept connections.
func (lc *loadClient) closeIdle() {
	for {
		select {
		case c := <-lc.idle:
			c.c.Close()
		default:
			return
		}
	}
}
