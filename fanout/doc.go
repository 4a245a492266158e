// Package fanout is the fan-out tier of rtd serve: the JSON channel protocol on /ws, channel streams on /sse, and the server API on /api/*, with token checks before every upgrade.
package fanout
