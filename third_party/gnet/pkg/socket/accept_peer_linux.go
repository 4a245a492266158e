// Copyright (c) 2020 The Gnet Authors. All rights reserved.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//go:build linux && !386 && !s390x

package socket

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// AcceptBuf is the room accept4 writes an accepted peer's address into:
// one per accepting goroutine (gnet: one per event loop), reused by every
// call, so that accepting an IPv4 peer allocates nothing (unix.Accept4's
// RawSockaddrAny escapes to the heap and it returns a new Sockaddr).
// Not safe for concurrent use.
type AcceptBuf struct {
	rsa unix.RawSockaddrAny
	len uint32
}

// AcceptPeer accepts the next connection on fd, non-blocking and
// close-on-exec as Accept, with its peer decoded from b: an IPv4 peer
// inline in the Peer, an IPv6 or unix one as a unix.Sockaddr (as
// unix.Accept4 makes them).
func AcceptPeer(fd int, b *AcceptBuf) (nfd int, p Peer, err error) {
	b.rsa = unix.RawSockaddrAny{} // a unix peer's path is read up to a NUL
	b.len = unix.SizeofSockaddrAny
	r, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(&b.rsa)),
		uintptr(unsafe.Pointer(&b.len)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if e != 0 {
		return -1, p, e
	}
	nfd = int(r)
	if p, err = b.peer(); err != nil {
		_ = unix.Close(nfd)
		return -1, p, err
	}
	return nfd, p, nil
}

// peer decodes the address accept4 wrote, as x/sys's anyToSockaddr does
// for the families a stream listener accepts.
func (b *AcceptBuf) peer() (p Peer, err error) {
	switch b.rsa.Addr.Family {
	case unix.AF_INET:
		pp := (*unix.RawSockaddrInet4)(unsafe.Pointer(&b.rsa))
		pb := (*[2]byte)(unsafe.Pointer(&pp.Port)) // network byte order
		port := uint16(pb[0])<<8 | uint16(pb[1])
		if port == 0 { // a zero port marks "not inline" in gnet's conn
			return Peer{SA: &unix.SockaddrInet4{Addr: pp.Addr}}, nil
		}
		return Peer{IP4: pp.Addr, Port: port}, nil
	case unix.AF_INET6:
		pp := (*unix.RawSockaddrInet6)(unsafe.Pointer(&b.rsa))
		pb := (*[2]byte)(unsafe.Pointer(&pp.Port))
		return Peer{SA: &unix.SockaddrInet6{Port: int(pb[0])<<8 | int(pb[1]), ZoneId: pp.Scope_id, Addr: pp.Addr}}, nil
	case unix.AF_UNIX:
		pp := (*unix.RawSockaddrUnix)(unsafe.Pointer(&b.rsa))
		if pp.Path[0] == 0 {
			// "Abstract" unix socket (or an unnamed one): a leading
			// NUL is shown as @, as x/sys does.
			pp.Path[0] = '@'
		}
		n := 0
		for n < len(pp.Path) && pp.Path[n] != 0 {
			n++
		}
		return Peer{SA: &unix.SockaddrUnix{Name: string(unsafe.Slice((*byte)(unsafe.Pointer(&pp.Path[0])), n))}}, nil
	}
	return Peer{}, unix.EAFNOSUPPORT
}
