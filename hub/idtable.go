package hub

import "hash/maphash"

// idTable is the registry's index of clients by ID: an open-addressing hash
// table (linear probing, backward-shift deletion, no tombstones) of *Client
// pointers, the key read from the client itself. At 8 bytes a slot and a load
// between 3/8 and 3/4 it costs 11–21 bytes per connection, where a
// map[string]*Client costs about 45 (24-byte slots, control bytes, and a
// quarter of the groups empty after each growth).
type idTable struct {
	seed  maphash.Seed
	slots []*Client // len is 0 or a power of two
	n     int
}

const idTableMin = 64

func (t *idTable) len() int { return t.n }

func (t *idTable) home(id string) int {
	return int(maphash.String(t.seed, id) & uint64(len(t.slots)-1))
}

// get returns the client with the given ID, or nil.
func (t *idTable) get(id string) *Client {
	if t.n == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	for i := t.home(id); ; i = (i + 1) & mask {
		c := t.slots[i]
		if c == nil || c.ID == id {
			return c
		}
	}
}

// put adds c, whose ID is not in the table.
func (t *idTable) put(c *Client) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.resize(max(idTableMin, len(t.slots)*2))
	}
	t.insert(c)
	t.n++
}

func (t *idTable) insert(c *Client) {
	mask := len(t.slots) - 1
	i := t.home(c.ID)
	for t.slots[i] != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = c
}

// remove deletes c (by identity) if it is in the table.
func (t *idTable) remove(c *Client) {
	if t.n == 0 {
		return
	}
	mask := len(t.slots) - 1
	i := t.home(c.ID)
	for t.slots[i] != c {
		if t.slots[i] == nil {
			return
		}
		i = (i + 1) & mask
	}
	// Backward-shift: move later members of the probe run into the hole
	// when their home does not lie cyclically in (hole, their slot].
	for j := (i + 1) & mask; t.slots[j] != nil; j = (j + 1) & mask {
		h := t.home(t.slots[j].ID)
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = nil
	t.n--
	if t.n == 0 {
		t.slots = nil
	} else if len(t.slots) > idTableMin && t.n*8 < len(t.slots) {
		t.resize(len(t.slots) / 2)
	}
}

func (t *idTable) resize(size int) {
	old := t.slots
	t.slots = make([]*Client, size)
	for _, c := range old {
		if c != nil {
			t.insert(c)
		}
	}
}

// each calls fn for every client.
func (t *idTable) each(fn func(*Client)) {
	for _, c := range t.slots {
		if c != nil {
			fn(c)
		}
	}
}
