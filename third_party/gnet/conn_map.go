// Copyright (c) 2023 The Gnet Authors. All rights reserved.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//      http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//go:build (darwin || dragonfly || freebsd || linux || netbsd || openbsd) && !gc_opt

package gnet

import (
	"sync"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2/internal/gfd"
)

// connMatrix is an event loop's view of its engine's fdTable: the
// connections it owns, found by fd (patch 8: upstream kept a map[int]*conn
// per loop, ~29 B a connection; a table slot is 8 B).
type connMatrix struct {
	connCount int32
	table     *fdTable
	el        *eventloop
	far       map[int]*conn // fds beyond the table (at most maxTableFDs of them fit)
}

func (cm *connMatrix) init(table *fdTable, el *eventloop) {
	cm.table, cm.el = table, el
}

func (cm *connMatrix) iterate(f func(*conn) bool) {
	for i := range cm.table.chunks {
		ch := cm.table.chunks[i].Load()
		if ch == nil {
			continue
		}
		for j := range ch {
			if c := ch[j].Load(); c != nil && c.loop == cm.el && !f(c) {
				return
			}
		}
	}
	for _, c := range cm.far {
		if !f(c) {
			return
		}
	}
}

func (cm *connMatrix) incCount(_ int, delta int32) {
	atomic.AddInt32(&cm.connCount, delta)
}

func (cm *connMatrix) loadCount() (n int32) {
	return atomic.LoadInt32(&cm.connCount)
}

func (cm *connMatrix) addConn(c *conn, index int) {
	c.gfd = gfd.NewGFD(c.Fd(), index, 0, 0)
	if s := cm.table.slot(c.Fd(), true); s != nil {
		s.Store(c)
	} else {
		if cm.far == nil {
			cm.far = make(map[int]*conn)
		}
		cm.far[c.Fd()] = c
	}
	cm.incCount(0, 1)
}

// delConn runs before c's fd is closed, so before another loop can be given
// the same fd and store its own connection in the slot.
func (cm *connMatrix) delConn(c *conn) {
	if c.Fd() >= 0 && c.Fd() < maxTableFDs {
		if s := cm.table.slot(c.Fd(), false); s == nil || !s.CompareAndSwap(c, nil) {
			return // not (or no longer) this loop's
		}
	} else if cm.far[c.Fd()] != c {
		return
	} else {
		delete(cm.far, c.Fd())
	}
	cm.incCount(0, -1)
}

// getConn returns this loop's connection on fd: nil if there is none, or if
// the fd is now another loop's (an event left over from before it was
// closed here and accepted there).
func (cm *connMatrix) getConn(fd int) *conn {
	if fd >= 0 && fd < maxTableFDs {
		if ch := cm.table.chunks[fd>>fdChunkBits].Load(); ch != nil {
			if c := ch[fd&(fdChunkSize-1)].Load(); c != nil && c.loop == cm.el {
				return c
			}
		}
		return nil
	}
	return cm.far[fd]
}

// fdTable maps the file descriptors of an engine's connections to them, one
// table for all its event loops: the kernel hands out the lowest free fd, so
// fds are dense and a slot per fd, in chunks made when first needed, costs
// about 8 B per connection. Each loop writes only the slots of the fds it
// owns (added on accept, cleared before close(2)); the slots are atomic
// because an fd closed by one loop may next be accepted by another.
type fdTable struct {
	mu     sync.Mutex // makes chunks
	chunks [maxTableFDs >> fdChunkBits]atomic.Pointer[fdChunk]
}

const (
	fdChunkBits = 10
	fdChunkSize = 1 << fdChunkBits
	maxTableFDs = 1 << 20 // the default fs.nr_open; fds beyond go to a loop's own map
)

type fdChunk [fdChunkSize]atomic.Pointer[conn]

// slot returns fd's slot, making its chunk if make is set (nil for an fd
// beyond the table, or without a chunk when make is not set).
func (t *fdTable) slot(fd int, make bool) *atomic.Pointer[conn] {
	if fd < 0 || fd >= maxTableFDs {
		return nil
	}
	p := &t.chunks[fd>>fdChunkBits]
	ch := p.Load()
	if ch == nil {
		if !make {
			return nil
		}
		t.mu.Lock()
		if ch = p.Load(); ch == nil {
			ch = new(fdChunk)
			p.Store(ch)
		}
		t.mu.Unlock()
	}
	return &ch[fd&(fdChunkSize-1)]
}

/*
func (cm *connMatrix) getConnByGFD(fd gfd.GFD) *conn {
	return cm.getConn(fd.Fd())
}
*/
