//go:build linux && !386 && !s390x

package socket

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAcceptPeer accepts from IPv4, IPv6 and unix listeners and checks the
// peer decoded from the reused buffer against getpeername's (x/sys's
// decoding), and that an IPv4 peer comes inline, with no allocation.
func TestAcceptPeer(t *testing.T) {
	var b AcceptBuf
	for _, c := range []struct {
		name   string
		family int
		addr   unix.Sockaddr
	}{
		{"IPv4", unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}},
		{"IPv6", unix.AF_INET6, &unix.SockaddrInet6{Addr: [16]byte{15: 1}}},
		{"unix-abstract", unix.AF_UNIX, &unix.SockaddrUnix{Name: "@gnet-accept-peer-test"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ln, err := unix.Socket(c.family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Skip(err)
			}
			defer unix.Close(ln)
			if err := unix.Bind(ln, c.addr); err != nil {
				t.Skip(err)
			}
			if err := unix.Listen(ln, 8); err != nil {
				t.Fatal(err)
			}
			la, err := unix.Getsockname(ln)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ { // the buffer is reused: a stale path must not show
				cl, err := unix.Socket(c.family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer unix.Close(cl)
				if c.family == unix.AF_UNIX && i == 1 {
					if err := unix.Bind(cl, &unix.SockaddrUnix{Name: "@gnet-accept-peer-client"}); err != nil {
						t.Fatal(err)
					}
				}
				if err := unix.Connect(cl, la); err != nil {
					t.Fatal(err)
				}
				nfd, p, err := AcceptPeer(ln, &b)
				if err != nil {
					t.Fatal(err)
				}
				defer unix.Close(nfd)
				want, err := unix.Getpeername(nfd)
				if err != nil {
					t.Fatal(err)
				}
				got := p.SA
				if c.family == unix.AF_INET {
					if p.SA != nil || p.Port == 0 {
						t.Fatalf("IPv4 peer not inline: %+v", p)
					}
					got = &unix.SockaddrInet4{Addr: p.IP4, Port: int(p.Port)}
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("accept %d: peer %#v, getpeername %#v", i, got, want)
				}
				if fl, err := unix.FcntlInt(uintptr(nfd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK == 0 {
					t.Errorf("accepted socket not non-blocking: %#x, %v", fl, err)
				}
				if fl, err := unix.FcntlInt(uintptr(nfd), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
					t.Errorf("accepted socket not close-on-exec: %#x, %v", fl, err)
				}
			}
		})
	}
	// An empty backlog: EAGAIN, as unix.Accept4 gives it.
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ln)
	if err := unix.Bind(ln, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(ln, 8); err != nil {
		t.Fatal(err)
	}
	if _, _, err := AcceptPeer(ln, &b); err != unix.EAGAIN {
		t.Fatalf("empty backlog: %v, want EAGAIN", err)
	}
	la, _ := unix.Getsockname(ln)
	allocs := testing.AllocsPerRun(20, func() {
		cl, _ := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		_ = unix.Connect(cl, la)
		nfd, _, err := AcceptPeer(ln, &b)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(nfd)
		unix.Close(cl)
	})
	if allocs > 0 {
		t.Errorf("accepting an IPv4 peer allocates %v objects", allocs)
	}
}
