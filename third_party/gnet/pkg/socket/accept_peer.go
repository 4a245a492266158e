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

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package socket

import "golang.org/x/sys/unix"

// Peer is an accepted connection's peer: an IPv4 peer's address and port
// inline (SA nil, Port non-zero), or, when AcceptPeer could not keep it
// inline, a unix.Sockaddr (SA non-nil).
type Peer struct {
	SA   unix.Sockaddr
	IP4  [4]byte
	Port uint16
}
