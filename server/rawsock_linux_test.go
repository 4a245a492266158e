package server

import (
	"bytes"
	"net"
	"syscall"
	"testing"
)

// rawSockets opens connections to a server from raw syscall sockets: no Go
// object per connection on the client side, so what the process's heap
// gains is the server's. Its sockets are closed at the end of the test (or
// by closeAll).
type rawSockets struct {
	t    testing.TB
	sa   syscall.SockaddrInet4
	fds  []int
	head []byte
}

// newRawSockets prepares up to n connections to s.
func newRawSockets(t testing.TB, s *Server, n int) *rawSockets {
	addr, err := net.ResolveTCPAddr("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	rs := &rawSockets{t: t, sa: syscall.SockaddrInet4{Port: addr.Port}, fds: make([]int, 0, n), head: make([]byte, 4096)}
	copy(rs.sa.Addr[:], addr.IP.To4())
	t.Cleanup(rs.closeAll)
	return rs
}

// open connects a socket and writes req on it.
func (rs *rawSockets) open(req []byte) int {
	t := rs.t
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	rs.fds = append(rs.fds, fd)
	if err := syscall.Connect(fd, &rs.sa); err != nil {
		t.Fatal(err)
	}
	if _, err := syscall.Write(fd, req); err != nil {
		t.Fatal(err)
	}
	return fd
}

// readUntil reads fd until what it read holds want: a response head (once
// it arrives the server has finished the handshake: OnOpen returned, the
// request detached), or a message.
func (rs *rawSockets) readUntil(fd int, want string) {
	rs.t.Helper()
	got := 0
	for !bytes.Contains(rs.head[:got], []byte(want)) {
		if got == len(rs.head) {
			rs.t.Fatalf("%q not in %q", want, rs.head)
		}
		k, err := syscall.Read(fd, rs.head[got:])
		if err != nil || k == 0 {
			rs.t.Fatalf("read: %v (got %q, want %q)", err, rs.head[:got], want)
		}
		got += k
	}
}

// closeAll closes every socket opened so far.
func (rs *rawSockets) closeAll() {
	for _, fd := range rs.fds {
		syscall.Close(fd)
	}
	rs.fds = rs.fds[:0]
}
