package auth

import "testing"

func TestMatch(t *testing.T) {
	cases := []struct {
		patterns []string
		channel  string
		want     bool
	}{
		{[]string{"news"}, "news", true},
		{[]string{"news"}, "news:1", false},
		{[]string{"news"}, "new", false},
		{[]string{"chat:*"}, "chat:1", true},
		{[]string{"chat:*"}, "chat:", true},
		{[]string{"chat:*"}, "chat:room:7", true},
		{[]string{"chat:*"}, "chat", false},
		{[]string{"chat:*"}, "chatx:1", false},
		{[]string{"chat*"}, "chat", true},
		{[]string{"chat*"}, "chatx:1", true},
		{[]string{"*"}, "anything", true},
		{[]string{"*"}, "", false},
		{[]string{"a*b"}, "a*b", true},
		{[]string{"a*b"}, "axb", false},
		{[]string{"*news"}, "breaking-news", false},
		{[]string{""}, "", false},
		{[]string{""}, "news", false},
		{nil, "news", false},
		{[]string{"sports", "chat:*", "news"}, "news", true},
		{[]string{"sports", "chat:*"}, "chat:9", true},
		{[]string{"sports", "chat:*"}, "weather", false},
		{[]string{"Chat:*"}, "chat:1", false},
	}
	for _, tc := range cases {
		if got := Match(tc.patterns, tc.channel); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.patterns, tc.channel, got, tc.want)
		}
	}
}

func TestCanSubscribeAndPublish(t *testing.T) {
	c := &Claims{User: "ann", Channels: []string{"news", "chat:*"}, Publish: []string{"chat:42"}}
	cases := []struct {
		channel      string
		sub, publish bool
	}{
		{"news", true, false},
		{"chat:42", true, true},
		{"chat:7", true, false},
		{"user:ann", true, false}, // personal channel: always subscribable, not publishable
		{"user:bob", false, false},
		{"user:", false, false},
		{"user:ann2", false, false},
		{"sports", false, false},
	}
	for _, tc := range cases {
		if got := c.CanSubscribe(tc.channel); got != tc.sub {
			t.Errorf("CanSubscribe(%q) = %v", tc.channel, got)
		}
		if got := c.CanPublish(tc.channel); got != tc.publish {
			t.Errorf("CanPublish(%q) = %v", tc.channel, got)
		}
	}
	var anon *Claims
	if anon.CanSubscribe("news") || anon.CanPublish("news") || anon.CanSubscribe("user:") {
		t.Error("nil claims allowed something")
	}
	if (&Claims{}).CanSubscribe("user:") {
		t.Error("claims without a user own the channel \"user:\"")
	}
	if PersonalChannel("ann") != "user:ann" {
		t.Error(PersonalChannel("ann"))
	}
}

func TestMatchAllocs(t *testing.T) {
	user := "a-user-id-long-enough-to-leave-any-stack-buffer-behind"
	c := &Claims{User: user, Channels: []string{"news", "sports:*", "chat:*"}}
	personal := PersonalChannel(user)
	if n := testing.AllocsPerRun(100, func() { c.CanSubscribe("chat:42"); c.CanSubscribe(personal) }); n != 0 {
		t.Fatalf("%v allocs per check", n)
	}
}

func BenchmarkCanSubscribe(b *testing.B) {
	c := &Claims{User: "ann", Channels: []string{"news", "sports:*", "chat:*", "weather:eu:*"}}
	b.ReportAllocs()
	for b.Loop() {
		c.CanSubscribe("weather:eu:paris")
	}
}
