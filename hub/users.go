package hub

import "slices"

// bigUser is how many connections a user keeps in a plain list; past it the
// user's connections are indexed (userConns.seq).
const bigUser = 32

// userConns is one named user's connections, oldest first, so that the
// oldest is the one evicted at Options.MaxConnsPerUser. It is kept in the
// registry rather than as a connect sequence on every Client: most users hold
// a connection or two, for which a short list with a linear search is the
// cheapest record there is. A user past bigUser connections (one identity
// shared by a fleet, with no per-user limit) is switched to a map from
// connection to connect sequence, so that its disconnects stay O(1) rather
// than each scanning and shifting a long list; it stays a map until it has
// no connections left. Guarded by the registry lock.
type userConns struct {
	list []*Client          // connect order, while seq is nil
	seq  map[*Client]uint64 // connect sequence (registry.seq) once the user has been big
}

func (u *userConns) len() int {
	if u.seq != nil {
		return len(u.seq)
	}
	return len(u.list)
}

// add appends c, the newest connection; r numbers the connections of a big
// user.
func (u *userConns) add(c *Client, r *registry) {
	switch {
	case u.seq != nil:
	case len(u.list) < bigUser:
		u.list = append(u.list, c)
		return
	default:
		u.seq = make(map[*Client]uint64, 2*bigUser)
		for _, o := range u.list {
			r.seq++
			u.seq[o] = r.seq
		}
		u.list = nil
	}
	r.seq++
	u.seq[c] = r.seq
}

// remove takes c out, keeping the others in connect order.
func (u *userConns) remove(c *Client) {
	if u.seq != nil {
		delete(u.seq, c)
		return
	}
	if i := slices.Index(u.list, c); i >= 0 {
		u.list = slices.Delete(u.list, i, i+1)
	}
}

// oldest returns the connection connected first (nil when there is none).
func (u *userConns) oldest() *Client {
	if u.seq == nil {
		if len(u.list) == 0 {
			return nil
		}
		return u.list[0]
	}
	var victim *Client
	var first uint64
	for o, s := range u.seq {
		if victim == nil || s < first {
			victim, first = o, s
		}
	}
	return victim
}
