package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rtd-project/rtd/fanout"
)

// TestExampleConfigIsTheDefaults: rtd.example.yaml names every key, and
// each value in it (the namespaces aside: examples) is what rtd serve uses
// without a file (it said ws-compression: true and sse-heartbeat: 15s).
func TestExampleConfigIsTheDefaults(t *testing.T) {
	b, err := os.ReadFile("../../rtd.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := yaml.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range configKeys {
		if _, ok := keys[k]; !ok {
			t.Errorf("rtd.example.yaml lacks %s", k)
		}
	}
	want := defaultConfig()
	got := defaultConfig()
	if err := got.decode("rtd.example.yaml", b); err != nil {
		t.Fatal(err)
	}
	if len(got.warnings) > 0 {
		t.Errorf("the example has warnings: %q", got.warnings)
	}
	got.Namespaces = nil
	if len(got.AllowedOrigins) == 0 {
		got.AllowedOrigins = nil
	}
	gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range gv.NumField() {
		f := gv.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			t.Errorf("rtd.example.yaml %s: %v, the default is %v", f.Tag.Get("yaml"), gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
}

// TestEverySettingFromFlagEnvAndFile: every key of the file is also a flag
// and an RTD_* variable; lists and namespaces come as JSON (or, for lists,
// comma-separated). RTD_ALLOWED_ORIGINS used to be ignored without a word.
func TestEverySettingFromFlagEnvAndFile(t *testing.T) {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	(&config{}).flags(fs)
	for _, k := range configKeys {
		if fs.Lookup(k) == nil {
			t.Errorf("key %s has no flag (nor RTD_%s)", k, strings.ToUpper(strings.ReplaceAll(k, "-", "_")))
		}
	}
	env := map[string]string{
		"RTD_ALLOWED_ORIGINS":      `["https://a.example","https://*.b.example"]`,
		"RTD_NAMESPACES":           `[{"pattern":"chat:*","history-size":500,"history-ttl":"1h","client-publish":true},{"pattern":"user:*","personal":true}]`,
		"RTD_WS_COMPRESSION":       "true",
		"RTD_SSE_HEARTBEAT":        "10s",
		"RTD_HISTORY_SIZE":         "7",
		"RTD_MAX_SEND_QUEUE_BYTES": "4096",
	}
	c, err := load([]string{"--history-ttl", "2m"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	wantNS := []fanout.Namespace{{Pattern: "chat:*", HistorySize: 500, HistoryTTL: time.Hour, ClientPublish: true}, {Pattern: "user:*", Personal: true}}
	if !slices.Equal(c.AllowedOrigins, []string{"https://a.example", "https://*.b.example"}) || !reflect.DeepEqual(c.Namespaces, wantNS) ||
		!c.WSCompression || c.SSEHeartbeat != 10*time.Second || c.HistorySize != 7 || c.HistoryTTL != 2*time.Minute || c.MaxSendQueueBytes != 4096 {
		t.Errorf("from env and flags: %+v", c)
	}
	c, err = load([]string{"--allowed-origins", "https://a.example, https://c.example"}, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil || !slices.Equal(c.AllowedOrigins, []string{"https://a.example", "https://c.example"}) {
		t.Errorf("comma-separated --allowed-origins: %v %v", c.AllowedOrigins, err)
	}
	if _, err := load(nil, func(k string) string { return map[string]string{"RTD_NAMESPACES": `[{"patern":"a"}]`}[k] }, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `RTD_NAMESPACES: unknown namespace key "patern" (did you mean "pattern"?)`) {
		t.Errorf("bad RTD_NAMESPACES: %v", err)
	}
}

// TestUnknownEnvWarned: an RTD_* variable that names no setting is reported,
// with the nearest one.
func TestUnknownEnvWarned(t *testing.T) {
	defer func(e func() []string) { environ = e }(environ)
	environ = func() []string {
		return []string{"RTD_ALLOWED_ORIGIN=https://a.example", "RTD_API_KEY=k", "RTD_CONFIG=", "PATH=/bin", "RTD_ZZZ=1"}
	}
	c, err := load(nil, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"unknown environment variable RTD_ALLOWED_ORIGIN, ignored (did you mean RTD_ALLOWED_ORIGINS?)",
		"unknown environment variable RTD_ZZZ, ignored",
	}
	if !slices.Equal(c.warnings, want) {
		t.Errorf("warnings %q, want %q", c.warnings, want)
	}
}

// TestConfigCheckWords: rtd config check speaks of keys and values, not Go
// types ("field histroy-ttl not found in type main.config"), suggests the
// key or value meant, warns of the old underscore spelling, and prints no
// log line.
func TestConfigCheckWords(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	os.WriteFile(file, []byte(strings.Join([]string{
		"histroy-ttl: 5m",
		"log-level: verbose",
		"slow-client-policy: clsoe",
		"history-size: lots",
		"ws-heartbeat: soon",
		"namespaces:",
		"  - pattern: \"a:*\"",
		"    history_sise: 3",
	}, "\n")), 0o600)
	var out, errOut bytes.Buffer
	if code := run([]string{"config", "check", file}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d", code)
	}
	got := errOut.String()
	for _, want := range []string{
		file + `:1: unknown key "histroy-ttl" (did you mean "history-ttl"?)`,
		file + `:8: unknown namespace key "history_sise" (did you mean "history-size"?)`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	for _, bad := range []string{"main.config", "fanout.Namespace", "not found in type", "Unknown Level String"} {
		if strings.Contains(got, bad) {
			t.Errorf("%q in:\n%s", bad, got)
		}
	}
	// With the keys right, the values.
	os.WriteFile(file, []byte("log-level: verbose\nslow-client-policy: clsoe\nhistory-size: lots\nws-heartbeat: soon\n"), 0o600)
	errOut.Reset()
	run([]string{"config", "check", file}, &out, &errOut)
	for _, want := range []string{
		file + `:3: history-size: "lots" is not a whole number`,
		file + `:4: ws-heartbeat: "soon" is not a duration (like 90s, 5m, 1h)`,
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("missing %q in:\n%s", want, errOut.String())
		}
	}
	os.WriteFile(file, []byte("log-level: verbose\nslow-client-policy: clsoe\n"), 0o600)
	errOut.Reset()
	run([]string{"config", "check", file}, &out, &errOut)
	for _, want := range []string{
		file + `:1: log-level "verbose": want one of debug, error, info, warn`,
		file + `:2: slow-client-policy "clsoe": want one of close, drop, error (did you mean "close"?)`,
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("missing %q in:\n%s", want, errOut.String())
		}
	}
	if strings.Contains(errOut.String(), "{") {
		t.Errorf("a log line leaked: %s", errOut.String())
	}
	// The old spelling: accepted, with a warning naming the new one.
	os.WriteFile(file, []byte("namespaces:\n  - pattern: \"chat:*\"\n    client_publish: true\n"), 0o600)
	out.Reset()
	errOut.Reset()
	if code := run([]string{"config", "check", file}, &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "warning: "+file+":3: namespace key client_publish is deprecated: write client-publish") {
		t.Errorf("old spelling: exit %d, %q", code, errOut.String())
	}
}
