package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	if err == nil || !strings.Contains(err.Error(), "line 7: field bogus not found") {
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
