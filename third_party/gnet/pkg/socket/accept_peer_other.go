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

//go:build darwin || dragonfly || freebsd || netbsd || openbsd || (linux && (386 || s390x))

package socket

// AcceptBuf is unused here: AcceptPeer is Accept (on linux it is where
// accept4 writes the peer's address).
type AcceptBuf struct{}

// AcceptPeer is Accept with the peer as a Peer (always its SA here).
func AcceptPeer(fd int, _ *AcceptBuf) (int, Peer, error) {
	nfd, sa, err := sysAccept(fd)
	if err != nil {
		return nfd, Peer{}, err
	}
	return nfd, Peer{SA: sa}, nil
}
