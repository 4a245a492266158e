//go:build linux || darwin || freebsd

package gnet

import (
	"net"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRemoteAddrPort checks conn.RemoteAddrPort against RemoteAddr for each
// way a connection keeps its peer (PATCHES.md), and that it does not
// allocate for an IP peer without a zone.
func TestRemoteAddrPort(t *testing.T) {
	accepted := &connAddrs{proto: "tcp"}
	for _, c := range []struct {
		name string
		c    *conn
		want netip.AddrPort
	}{
		{"inline IPv4", &conn{addrs: accepted, remote4: [4]byte{10, 1, 2, 3}, remote4Port: 4567},
			netip.MustParseAddrPort("10.1.2.3:4567")},
		{"IPv4 sockaddr", &conn{addrs: accepted, remote: &unix.SockaddrInet4{Addr: [4]byte{10, 1, 2, 3}, Port: 9}},
			netip.MustParseAddrPort("10.1.2.3:9")},
		{"IPv6", &conn{addrs: accepted, remote: &unix.SockaddrInet6{Addr: [16]byte{0: 0x20, 1: 0x01, 15: 1}, Port: 443}},
			netip.MustParseAddrPort("[2001::1]:443")},
		{"IPv4-mapped IPv6", &conn{addrs: accepted, remote: &unix.SockaddrInet6{Addr: [16]byte{10: 0xff, 11: 0xff, 12: 10, 15: 1}, Port: 80}},
			netip.MustParseAddrPort("[::ffff:10.0.0.1]:80")},
		{"unix", &conn{addrs: &connAddrs{proto: "unix"}, remote: &unix.SockaddrUnix{Name: "@x"}}, netip.AddrPort{}},
		{"client", &conn{addrs: &connAddrs{proto: "tcp", remoteAddr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1).To4(), Port: 80}}},
			netip.MustParseAddrPort("192.0.2.1:80")},
		{"UDP", &conn{addrs: &connAddrs{proto: "udp"}, isDatagram: true, remote: &unix.SockaddrInet4{Addr: [4]byte{192, 0, 2, 2}, Port: 53}},
			netip.MustParseAddrPort("192.0.2.2:53")},
		{"closed", &conn{}, netip.AddrPort{}},
	} {
		got := c.c.RemoteAddrPort()
		if got != c.want {
			t.Errorf("%s: RemoteAddrPort %v, want %v", c.name, got, c.want)
		}
		var fromAddr netip.AddrPort
		switch a := c.c.RemoteAddr().(type) {
		case *net.TCPAddr:
			fromAddr = a.AddrPort()
		case *net.UDPAddr:
			fromAddr = a.AddrPort()
		}
		if got != fromAddr {
			t.Errorf("%s: RemoteAddrPort %v, RemoteAddr's %v", c.name, got, fromAddr)
		}
		if n := testing.AllocsPerRun(10, func() { _ = c.c.RemoteAddrPort() }); n > 0 {
			t.Errorf("%s: RemoteAddrPort allocates %v objects", c.name, n)
		}
	}
}
