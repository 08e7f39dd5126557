package imaptest

import (
	"net"
	"strconv"
	"sync"
	"testing"
)

// Proxy is a TCP proxy on 127.0.0.1 in front of an IMAP server, for fault
// injection: it can cut every connection, cut one after a number of bytes
// from the server, or stall connections (keep them open, forward nothing).
type Proxy struct {
	Addr string
	Host string
	Port int

	target string
	ln     net.Listener

	mu       sync.Mutex
	conns    map[*proxyConn]struct{}
	accepted int
	down     int64 // server→client bytes forwarded in total
	cutAt    int64 // >0: cut the connection that crosses this total
	cuts     int
}

type proxyConn struct {
	client, server net.Conn
	stall          chan struct{} // closed: stop forwarding
	stallOnce      sync.Once
	closed         chan struct{}
	closeOnce      sync.Once
}

// StartProxy listens on a free port and forwards each connection to target.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("imaptest: proxy listen: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: make(map[*proxyConn]struct{})}
	host, port, _ := net.SplitHostPort(p.Addr)
	p.Host = host
	p.Port, _ = strconv.Atoi(port)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.serve()
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		p.Cut()
	})
	return p
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pc := &proxyConn{client: c, server: s, stall: make(chan struct{}), closed: make(chan struct{})}
		p.mu.Lock()
		p.conns[pc] = struct{}{}
		p.accepted++
		p.mu.Unlock()
		go p.pipe(pc, pc.client, pc.server, true) // server → client
		go p.pipe(pc, pc.server, pc.client, false)
	}
}

func (p *Proxy) pipe(pc *proxyConn, dst, src net.Conn, down bool) {
	defer p.drop(pc)
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			select {
			case <-pc.stall:
				<-pc.closed // forward nothing until closed
				return
			default:
			}
			chunk := buf[:n]
			cut := false
			if down {
				p.mu.Lock()
				if p.cutAt > 0 && p.down+int64(n) >= p.cutAt {
					chunk = chunk[:p.cutAt-p.down]
					p.cutAt = 0
					p.cuts++
					cut = true
				}
				p.down += int64(len(chunk))
				p.mu.Unlock()
			}
			if _, werr := dst.Write(chunk); werr != nil || cut {
				return
			}
		}
		if err != nil {
			return // EOF or closed: drop closes the other side too
		}
	}
}

// drop closes both sides of pc.
func (p *Proxy) drop(pc *proxyConn) {
	pc.closeOnce.Do(func() { close(pc.closed) })
	pc.client.Close()
	pc.server.Close()
	p.mu.Lock()
	delete(p.conns, pc)
	p.mu.Unlock()
}

// Accepted returns how many connections the proxy has accepted so far.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Open returns how many connections are currently open.
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Cuts returns how many connections CutAfter has cut.
func (p *Proxy) Cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

// Cut closes every open connection at once.
func (p *Proxy) Cut() {
	p.mu.Lock()
	conns := make([]*proxyConn, 0, len(p.conns))
	for pc := range p.conns {
		conns = append(conns, pc)
	}
	p.mu.Unlock()
	for _, pc := range conns {
		p.drop(pc)
	}
}

// CutAfter closes the connection that forwards the n-th next byte from the
// server to the client (once; later connections are not affected).
func (p *Proxy) CutAfter(n int64) {
	p.mu.Lock()
	p.cutAt = p.down + n
	p.mu.Unlock()
}

// Stall makes every open connection stop forwarding in both directions
// while staying open, like a hung server or a black-holed route. New
// connections are forwarded normally.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pc := range p.conns {
		pc.stallOnce.Do(func() { close(pc.stall) })
	}
}
