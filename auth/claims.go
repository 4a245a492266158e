package auth

import (
	"strings"
	"time"
)

// PersonalPrefix starts a user's personal channel: "user:" + the token's sub.
// A user may always subscribe to its own personal channel, whatever its
// channels claim says.
const PersonalPrefix = "user:"

// Claims are what a verified connection token grants.
type Claims struct {
	User     string    // sub: the user ID, never empty
	Channels []string  // channels the user may subscribe to: exact names or prefix patterns ending in "*"
	Publish  []string  // channels the user may publish on, same syntax
	Expires  time.Time // exp; zero when the token has none
	Info     []byte    // the optional "info" claim as raw JSON, shown in presence; nil when absent or null
}

// PersonalChannel returns user's personal channel, "user:" + user.
func PersonalChannel(user string) string { return PersonalPrefix + user }

// CanSubscribe reports whether the claims allow subscribing to channel: it
// matches Channels (see Match) or is the user's personal channel. A nil
// *Claims (an anonymous connection) is allowed nothing; what anonymous
// connections may do is the caller's policy.
func (c *Claims) CanSubscribe(channel string) bool {
	if c == nil {
		return false
	}
	return c.personal(channel) || Match(c.Channels, channel)
}

// personal reports whether channel is "user:" + c.User, without building
// that string.
func (c *Claims) personal(channel string) bool {
	user, ok := strings.CutPrefix(channel, PersonalPrefix)
	return ok && user != "" && user == c.User
}

// CanPublish reports whether the claims allow publishing on channel: it
// matches Publish (see Match). The personal channel is not implied here: it
// carries messages from the server to the user, and a client that could
// publish there could forge them to its own other connections.
func (c *Claims) CanPublish(channel string) bool {
	if c == nil {
		return false
	}
	return Match(c.Publish, channel)
}

// Match reports whether channel matches any of patterns. A pattern ending in
// "*" is a prefix pattern and matches every channel that starts with the text
// before the "*": "chat:*" matches "chat:1" and "chat:" but neither "chat"
// nor "chatx:1"; "chat*" matches all three; "*" alone matches every channel.
// Any other pattern, including one with a "*" elsewhere, matches only the
// channel spelled exactly like it. Empty patterns and the empty channel
// never match.
func Match(patterns []string, channel string) bool {
	if channel == "" {
		return false
	}
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(channel, prefix) {
				return true
			}
		} else if p == channel {
			return true
		}
	}
	return false
}
