package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtd-project/rtd/fanout"
	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
)

func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	os.WriteFile(file, []byte("addr: \":7001\"\nlog-level: debug\napi-key: from-file\nidle-timeout: 5s\nnamespaces:\n  - pattern: \"chat:*\"\n    client_publish: true\n"), 0o600)
	env := map[string]string{"RTD_API_KEY": "from-env", "RTD_LOG_LEVEL": "warn"}
	c, err := load([]string{"--config", file, "--log-level", "error"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":7001" || c.APIKey != "from-env" || c.LogLevel != "error" || c.IdleTimeout != 5*time.Second || c.HeaderTimeout != 10*time.Second {
		t.Fatalf("file < env < flags not honoured: %+v", c)
	}
	if len(c.Namespaces) != 1 || !c.Namespaces[0].ClientPublish {
		t.Fatalf("namespaces: %+v", c.Namespaces)
	}
	var help bytes.Buffer
	if _, err := load([]string{"-h"}, func(string) string { return "" }, &help); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "(0 = the open-files limit less 100)") {
		t.Fatalf("rtd serve -h: %v\n%s", err, help.String())
	}
	if _, err := load([]string{"--addr"}, func(string) string { return "" }, &bytes.Buffer{}); err == nil {
		t.Fatal("a flag without its value was accepted")
	}
	if _, err := load(nil, func(k string) string { return map[string]string{"RTD_LOOPS": "many"}[k] }, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "RTD_LOOPS") {
		t.Fatalf("bad env value: %v", err)
	}
}

func TestConfigCheck(t *testing.T) {
	if err := checkConfig("../../rtd.example.yaml"); err != nil {
		t.Fatalf("the example config: %v", err)
	}
	file := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(file, []byte("addr: \":80\"\nmax-conns: -1\nnamespaces:\n  - pattern: \"u\"\n    personal: true\n  - pattern: \"u\"\nbogus: 1\n"), 0o600)
	err := checkConfig(file)
	if err == nil || !strings.Contains(err.Error(), file+`:7: unknown key "bogus"`) {
		t.Fatalf("unknown key: %v", err)
	}
	os.WriteFile(file, []byte("addr: \":80\"\nmax-conns: -1\nnamespaces:\n  - pattern: \"u\"\n    personal: true\n  - pattern: \"u\"\n"), 0o600)
	err = checkConfig(file)
	for _, want := range []string{file + ":2: max-conns must not be negative", file + ":4: namespaces[0]: personal", file + ":6: namespaces[1]: pattern \"u\" appears twice"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"config", "check", file}, &out, &errOut); code != 1 || errOut.Len() == 0 {
		t.Fatalf("rtd config check on a bad file: exit %d, stderr %q", code, errOut.String())
	}
	if code := run([]string{"config", "check", "../../rtd.example.yaml"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "ok") {
		t.Fatalf("rtd config check on the example: exit %d, %q", code, out.String())
	}
}

func TestConfigBroker(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "rtd.creds")
	os.WriteFile(creds, []byte("creds"), 0o600)
	file := filepath.Join(dir, "rtd.yaml")
	os.WriteFile(file, []byte("broker: \"nats://a:4222, tls://b:4222,c:4222\"\nbroker-creds: "+creds+"\n"), 0o600)
	if err := checkConfig(file); err != nil {
		t.Fatalf("good broker config: %v", err)
	}
	os.WriteFile(file, []byte("broker: \"http://a:4222,nats://:4222\"\nbroker-tls-cert: "+creds+"\nbroker-tls-ca: /nonexistent\nbroker-replicas: 7\n"), 0o600)
	err := checkConfig(file)
	for _, want := range []string{
		file + `:1: broker "http://a:4222": scheme "http"`,
		`broker "nats://:4222": no host`,
		"broker-tls-ca: stat /nonexistent",
		"broker-tls-cert and broker-tls-key go together",
		file + ":4: broker-replicas 7: want 1 to 5",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	os.WriteFile(file, []byte("broker-creds: "+creds+"\n"), 0o600)
	if err := checkConfig(file); err == nil || !strings.Contains(err.Error(), "broker-creds is set but broker is not") {
		t.Fatalf("creds without a broker: %v", err)
	}
}

// TestStreamLimits: the stream keeps what the most generous namespace keeps.
func TestStreamLimits(t *testing.T) {
	for _, tc := range []struct {
		cfg  config
		size int
		ttl  time.Duration
	}{
		{config{}, 100, 5 * time.Minute},
		{config{HistorySize: 10, HistoryTTL: time.Minute, Namespaces: []fanout.Namespace{{Pattern: "a:*", HistorySize: 500, HistoryTTL: time.Hour}, {Pattern: "b:*", HistorySize: -1}}}, 500, time.Hour},
		{config{HistorySize: -1, HistoryTTL: -1}, 1, -1},
		{config{HistoryTTL: -1, Namespaces: []fanout.Namespace{{Pattern: "a", HistoryTTL: time.Hour}}}, 100, -1},
	} {
		if size, ttl := streamLimits(&tc.cfg); size != tc.size || ttl != tc.ttl {
			t.Errorf("%+v: %d %v, want %d %v", tc.cfg, size, ttl, tc.size, tc.ttl)
		}
	}
}

// TestConfigSlowClient: slow-client-policy defaults to close, takes file <
// env < flag like every key, and refuses names it does not know in rtd serve
// and in rtd config check, with the line.
func TestConfigSlowClient(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := load(nil, noEnv, &bytes.Buffer{})
	if err != nil || c.slowClient != server.SlowClientClose || c.SlowClientGrace != time.Second {
		t.Fatalf("defaults: %v %v %v", c.slowClient, c.SlowClientGrace, err)
	}
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	os.WriteFile(file, []byte("slow-client-policy: error\nslow-client-grace: 3s\n"), 0o600)
	for _, tc := range []struct {
		env, flag string
		want      server.SlowClientPolicy
	}{
		{"", "", server.SlowClientError},
		{"drop", "", server.SlowClientDrop},
		{"drop", "close", server.SlowClientClose},
	} {
		args := []string{"--config", file}
		if tc.flag != "" {
			args = append(args, "--slow-client-policy", tc.flag)
		}
		c, err := load(args, func(k string) string { return map[string]string{"RTD_SLOW_CLIENT_POLICY": tc.env}[k] }, &bytes.Buffer{})
		if err != nil || c.slowClient != tc.want || c.SlowClientGrace != 3*time.Second {
			t.Errorf("env %q flag %q: %v %v %v, want %v", tc.env, tc.flag, c.slowClient, c.SlowClientGrace, err, tc.want)
		}
	}
	if _, err := load([]string{"--slow-client-policy", "block"}, noEnv, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `slow-client-policy "block": want one of close, drop, error`) {
		t.Fatalf("unknown policy: %v", err)
	}
	os.WriteFile(file, []byte("addr: \":80\"\nslow-client-policy: sometimes\nslow-client-grace: -1s\n"), 0o600)
	err = checkConfig(file)
	for _, want := range []string{file + `:2: slow-client-policy "sometimes"`, file + ":3: slow-client-grace must not be negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

// TestConfigRouteOptions: the defaults reach the tier's routes and the hub
// (pings every 25 s, dead peers closed after 60 s of silence, slow clients
// closed, retry 3 s, users at their limit refused), and so do the keys.
func TestConfigRouteOptions(t *testing.T) {
	c, err := load(nil, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	o := tierOptions(c, nil)
	if o.WS.HeartbeatInterval != 25*time.Second || o.WS.IdleTimeout != 60*time.Second ||
		o.WS.SlowClientPolicy != server.SlowClientClose || o.WS.SlowClientGrace != time.Second ||
		o.SSE.SlowClientPolicy != server.SlowClientClose || o.SSE.Retry != 3*time.Second || o.SSE.AllowCredentials {
		t.Fatalf("tier options from the defaults: %+v", o)
	}
	if h := hubOptions(c, &o); h.UserLimit != hub.UserLimitReject {
		t.Fatalf("hub user limit from the defaults: %v", h.UserLimit)
	}
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	os.WriteFile(file, []byte("allowed-origins: [\"https://app.example\"]\nsse-allow-credentials: true\nsse-retry: 5s\nmax-conns-per-user: 2\nuser-limit-policy: evict-oldest\n"), 0o600)
	if c, err = load([]string{"--config", file}, func(string) string { return "" }, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	o = tierOptions(c, nil)
	if !o.SSE.AllowCredentials || o.SSE.Retry != 5*time.Second || !slices.Equal(o.SSE.Origins, []string{"https://app.example"}) {
		t.Fatalf("SSE options from the file: %+v", o.SSE)
	}
	if h := hubOptions(c, &o); h.UserLimit != hub.UserLimitEvictOldest || h.MaxConnsPerUser != 2 {
		t.Fatalf("hub options from the file: %v %d", h.UserLimit, h.MaxConnsPerUser)
	}
	os.WriteFile(file, []byte("addr: \":80\"\nsse-allow-credentials: true\nallowed-origins: [\"*\"]\nsse-retry: 0s\nuser-limit-policy: evict-newest\n"), 0o600)
	err = checkConfig(file)
	for _, want := range []string{
		file + `:2: sse-allow-credentials with allowed-origins "*"`,
		file + ":4: sse-retry must be positive",
		file + `:5: user-limit-policy "evict-newest": want one of evict-oldest, reject`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	if _, err := load([]string{"--sse-allow-credentials"}, func(string) string { return "" }, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "sse-allow-credentials needs allowed-origins") {
		t.Fatalf("credentials without origins: %v", err)
	}
}

// TestConfigWSLiveness: a WebSocket idle timeout must leave room for the
// pongs that show a listening client is alive.
func TestConfigWSLiveness(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--ws-heartbeat", "10s", "--ws-idle-timeout", "30s"}, ""},
		{[]string{"--ws-heartbeat", "0", "--ws-idle-timeout", "0"}, ""},
		{[]string{"--ws-idle-timeout", "20s"}, "ws-idle-timeout 20s must exceed ws-heartbeat 25s"},
		{[]string{"--ws-heartbeat", "0"}, "ws-idle-timeout 1m0s needs ws-heartbeat"},
		{[]string{"--ws-heartbeat", "-1s", "--ws-idle-timeout", "0"}, "ws-heartbeat must not be negative"},
	} {
		_, err := load(tc.args, noEnv, &bytes.Buffer{})
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.err)
		}
	}
	c, err := load(nil, func(k string) string { return map[string]string{"RTD_WS_IDLE_TIMEOUT": "90s"}[k] }, &bytes.Buffer{})
	if err != nil || c.WSIdleTimeout != 90*time.Second {
		t.Fatalf("RTD_WS_IDLE_TIMEOUT: %v %v", c.WSIdleTimeout, err)
	}
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	os.WriteFile(file, []byte("addr: \":80\"\nws-heartbeat: 30s\nws-idle-timeout: 30s\n"), 0o600)
	if err := checkConfig(file); err == nil || !strings.Contains(err.Error(), file+":3: ws-idle-timeout 30s must exceed ws-heartbeat 30s") {
		t.Fatalf("config check: %v", err)
	}
}

// TestConfigSecurity: the JWT audience and issuer come from flags, RTD_*
// or the file like every setting; allowed-origins that no browser could send
// are refused before the server starts.
func TestConfigSecurity(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	os.WriteFile(file, []byte("jwt-issuer: https://id.example\nmax-history-channels: 7\n"), 0o600)
	env := func(k string) string { return map[string]string{"RTD_JWT_AUDIENCE": "rtd"}[k] }
	c, err := load([]string{"--config", file}, env, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	o := tierOptions(c, nil)
	if c.JWTAudience != "rtd" || c.JWTIssuer != "https://id.example" || hubOptions(c, &o).MaxHistoryChannels != 7 {
		t.Fatalf("audience %q, issuer %q, history channels %d", c.JWTAudience, c.JWTIssuer, hubOptions(c, &o).MaxHistoryChannels)
	}
	if c, err = load([]string{"--config", file, "--jwt-issuer", "https://other.example"}, env, &bytes.Buffer{}); err != nil || c.JWTIssuer != "https://other.example" {
		t.Fatalf("--jwt-issuer over the file: %q %v", c.JWTIssuer, err)
	}
	os.WriteFile(file, []byte("allowed-origins: [\"app.example.com\"]\n"), 0o600)
	if err := checkConfig(file); err == nil || !strings.Contains(err.Error(), file+`:1: allowed-origins: allowed origin "app.example.com": want scheme://host`) {
		t.Fatalf("origin without a scheme: %v", err)
	}
}

// TestConfigHistoryMetaTTL: history-meta-ttl as flag, env and file key, and
// on to the hub (negative: off).
func TestConfigHistoryMetaTTL(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := load(nil, noEnv, &bytes.Buffer{})
	if err != nil || c.HistoryMetaTTL != hub.DefaultHistoryMetaTTL {
		t.Fatalf("default: %v %v", c.HistoryMetaTTL, err)
	}
	c, err = load(nil, func(k string) string { return map[string]string{"RTD_HISTORY_META_TTL": "2h"}[k] }, &bytes.Buffer{})
	if err != nil || c.HistoryMetaTTL != 2*time.Hour {
		t.Fatalf("RTD_HISTORY_META_TTL: %v %v", c.HistoryMetaTTL, err)
	}
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	os.WriteFile(file, []byte("history-meta-ttl: 1h\n"), 0o600)
	c, err = load([]string{"--config", file}, noEnv, &bytes.Buffer{})
	if err != nil || c.HistoryMetaTTL != time.Hour {
		t.Fatalf("file: %v %v", c.HistoryMetaTTL, err)
	}
	c, err = load([]string{"--config", file, "--history-meta-ttl", "-1s"}, noEnv, &bytes.Buffer{})
	if err != nil || hubOptions(c, &fanout.Options{}).HistoryMetaTTL != -time.Second {
		t.Fatalf("flag: %v %v", c.HistoryMetaTTL, err)
	}
}
