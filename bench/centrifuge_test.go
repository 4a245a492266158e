//go:build linux

package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestJSONMember(t *testing.T) {
	p := []byte(` {"id":2, "s":"a\"}{,", "subscribe" : {"epoch":"e","publications":[{"data":{"x":[1,{"y":"]"}]},"offset":3},{"offset":4}],"recovered":true}, "n":null}`)
	for key, want := range map[string]string{
		"id": "2", "s": `"a\"}{,"`, "n": "null",
		"subscribe": `{"epoch":"e","publications":[{"data":{"x":[1,{"y":"]"}]},"offset":3},{"offset":4}],"recovered":true}`,
	} {
		if v, ok := jsonMember(p, key); !ok || string(v) != want {
			t.Errorf("%s: %q %v, want %q", key, v, ok, want)
		}
	}
	if v, ok := jsonMember(p, "epoch"); ok {
		t.Errorf("epoch is nested, got %q", v)
	}
	sub, _ := jsonMember(p, "subscribe")
	pubs, _ := jsonMember(sub, "publications")
	var offsets []string
	if !jsonElements(pubs, func(e []byte) {
		v, _ := jsonMember(e, "offset")
		offsets = append(offsets, string(v))
	}) || strings.Join(offsets, ",") != "3,4" {
		t.Errorf("publications: offsets %v", offsets)
	}
	for _, bad := range []string{``, `[]`, `{"a"}`, `{"a":`, `{"a":"x}`, `{"b":{"a":1}}`} {
		if v, ok := jsonMember([]byte(bad), "a"); ok {
			t.Errorf("%s: got %q", bad, v)
		}
	}
	for in, want := range map[string]bool{`{}`: true, ` { } `: true, `{"a":1}`: false, `{`: false, `{}x`: false, ``: false} {
		if isEmptyObject([]byte(in)) != want {
			t.Errorf("isEmptyObject(%q) != %v", in, want)
		}
	}
	if n, ok := jsonNumber([]byte("18446744073709551615")); ok {
		t.Errorf("20 digits: %d", n)
	}
	if s, ok := jsonPlainString([]byte(`"a\"b"`)); ok {
		t.Errorf("escaped string: %q", s)
	}
}

func TestCommands(t *testing.T) {
	for _, c := range []struct {
		protocol string
		pos      position
		want     string
	}{
		{ProtocolRTD, position{}, `{"id":1,"op":"subscribe","channel":"bench3"}`},
		{ProtocolRTD, position{"1f3c", 41}, `{"id":1,"op":"subscribe","channel":"bench3","since":"1f3c:41"}`},
		{ProtocolCentrifuge, position{}, `{"id":2,"subscribe":{"channel":"bench3"}}`},
		{ProtocolCentrifuge, position{"vGgX", 7}, `{"id":2,"subscribe":{"channel":"bench3","recover":true,"epoch":"vGgX","offset":7}}`},
	} {
		if got := string(appendSubscribe(nil, c.protocol, "bench3", c.pos)); got != c.want {
			t.Errorf("%s %v: %s, want %s", c.protocol, c.pos, got, c.want)
		}
	}
	rpc := appendRPCEcho(nil, 9, 12345, 100)
	res, _ := jsonMember(rpc, "rpc")
	data, _ := jsonMember(res, "data")
	if id, _ := jsonMember(rpc, "id"); string(id) != "9" || len(data) != 100 {
		t.Errorf("rpc %s", rpc)
	}
	if ts, ok := jsonUint(data, `"ts"`); !ok || ts != 12345 {
		t.Errorf("rpc data %s", data)
	}
	if p, ok := parseRTDPosition("a:b:12"); !ok || p.epoch != "a:b" || p.offset != 12 {
		t.Errorf("position %v %v", p, ok)
	}
	if _, ok := parseRTDPosition("12"); ok {
		t.Error("a position without an epoch")
	}
}

func TestCentrifugeCountsLossAndDuplicates(t *testing.T) {
	srv := newFakeServerFor(t, ProtocolCentrifuge)
	srv.dropAt, srv.dupAt = 3, 5
	const conns = 8
	r, err := Run(context.Background(), Config{
		Scenario: ScenarioFanout, Protocol: ProtocolCentrifuge, URLs: []string{srv.URL}, Conns: conns, Rate: 200,
		Transport: "both", Duration: 200 * time.Millisecond, Batch: 1, Drain: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Published < 6 || r.Lost != conns || r.Duplicated != conns || r.Delivered != r.Expected-conns {
		t.Fatalf("published %d: lost %d, duplicated %d, delivered %d of %d", r.Published, r.Lost, r.Duplicated, r.Delivered, r.Expected)
	}
}

func TestCentrifugeEchoAgainstFake(t *testing.T) {
	srv := newFakeServerFor(t, ProtocolCentrifuge)
	r, err := Run(context.Background(), Config{
		Scenario: ScenarioEcho, Protocol: ProtocolCentrifuge, URLs: []string{srv.URL}, Conns: 10, Size: 200, Duration: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent == 0 || r.Delivered != r.Sent || r.Lost != 0 || r.Stray != 0 || r.Latency.Count != uint64(r.Sent) {
		t.Fatalf("sent %d, delivered %d, lost %d, stray %d, latency count %d", r.Sent, r.Delivered, r.Lost, r.Stray, r.Latency.Count)
	}
}

func TestRecoverAgainstFake(t *testing.T) {
	for _, protocol := range Protocols {
		t.Run(protocol, func(t *testing.T) {
			srv := newFakeServerFor(t, protocol)
			const conns, channels, pubs = 12, 3, 7
			r, err := Run(context.Background(), Config{
				Scenario: ScenarioRecover, Protocol: protocol, URLs: []string{srv.URL}, Conns: conns, Channels: channels,
				RecoverPubs: pubs, Batch: 5,
			})
			if err != nil {
				t.Fatal(err)
			}
			if r.Published != channels*(1+pubs) || r.Recovered != conns || r.CatchUpMS <= 0 || len(r.Errors) > 0 {
				t.Fatalf("published %d, recovered %d, catch-up %.1f ms, errors %v", r.Published, r.Recovered, r.CatchUpMS, r.Errors)
			}
			if r.Delivered != conns*(1+pubs) || r.Expected != r.Delivered || r.Lost != 0 || r.Duplicated != 0 || r.Stray != 0 {
				t.Fatalf("delivered %d of %d, lost %d, dup %d, stray %d", r.Delivered, r.Expected, r.Lost, r.Duplicated, r.Stray)
			}
			if r.Latency.Count != conns {
				t.Fatalf("%d catch-up times, want %d", r.Latency.Count, conns)
			}
		})
	}
}
