package bench

// seqTracker checks one subscriber's stream of one channel: every publisher
// numbers its publications on each channel 1, 2, 3, … and the subscriber must
// see each number once, in order. A jump forward counts the numbers skipped as
// lost; a number at or below the last one seen counts as a duplicate (a
// publication delivered out of order therefore shows as one lost and one
// duplicated, which is as wrong as either).
type seqTracker struct {
	last []uint64 // by publisher index
}

// observe records seq from publisher pub and returns what it revealed.
func (t *seqTracker) observe(pub int, seq uint64) (lost, dup uint64) {
	if pub >= len(t.last) {
		t.last = append(t.last, make([]uint64, pub+1-len(t.last))...)
	}
	last := t.last[pub]
	switch {
	case seq <= last:
		return 0, 1
	case seq > last+1:
		lost = seq - last - 1
	}
	t.last[pub] = seq
	return lost, 0
}

// tail returns the publications never seen at the end of the streams, given how
// many each publisher published on the channel.
func (t *seqTracker) tail(published []uint64) (lost uint64) {
	for pub, n := range published {
		var last uint64
		if pub < len(t.last) {
			last = t.last[pub]
		}
		if n > last {
			lost += n - last
		}
	}
	return lost
}
