package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sampleResult() *Result {
	r := &Result{Scenario: ScenarioFanout, Config: Config{Scenario: ScenarioFanout, URLs: []string{"http://x"}, Transport: "ws", Channels: 1},
		Conns: 10, Ready: 10, Published: 5, Delivered: 49, Expected: 50, Lost: 1, Latency: Summary{Count: 49, P50: 1.5}}
	r.Samples = []Sample{{T: 1, Ready: 10, DeliveredPerSec: 25, P50: 1.25, P99: 2.5, ServerRSS: 3 << 20}, {T: 2, Ready: 10, DeliveredPerSec: 24, P50: 1.5}}
	return r
}

func renderHTML(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	if err := sampleResult().WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteHTMLHasTheSeries(t *testing.T) {
	html := renderHTML(t)
	for _, want := range []string{"<html",
		"Latency per interval", `"p99.9"`, `{"value":1.25}`,
		"Deliveries per second", `"delivered/s"`, `{"value":25}`,
		"Memory", `"server RSS"`, `{"value":3}`, // 3 MiB
		"Open connections", `"ready"`, `{"value":10}`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// One container and one echarts.init per chart.
	if n, m := strings.Count(html, `<div class="item" id=`), strings.Count(html, "= echarts.init("); n != 4 || m != 4 {
		t.Errorf("%d chart containers and %d echarts.init calls, want 4 and 4", n, m)
	}
}

func TestWriteHTMLIsSelfContained(t *testing.T) {
	if !strings.Contains(echartsJS, `version="5.4.3"`) {
		t.Errorf("embedded script is not ECharts 5.4.3 (update assets/README.md and this test together)")
	}
	// A "</script" in the script would end the inline element early.
	if strings.Contains(strings.ToLower(echartsJS), "</script") {
		t.Fatal("embedded script cannot be inlined verbatim")
	}
	html := renderHTML(t)
	if !strings.Contains(html, "<script>\n"+echartsJS+"\n</script>") || strings.Contains(html, echartsSlot) {
		t.Error("report lacks the inlined ECharts script")
	}
	// Outside the inlined script nothing may point anywhere: no src or href
	// at all, so no http(s), protocol-relative or file reference.
	rest := strings.ToLower(strings.Replace(html, echartsJS, "", 1))
	for _, bad := range []string{"src=", "href=", "@import", "url("} {
		if i := strings.Index(rest, bad); i >= 0 {
			t.Errorf("report references an external resource: %q", rest[max(0, i-40):min(len(rest), i+80)])
		}
	}
	for _, bad := range []string{`src="http`, `href="http`} {
		if strings.Contains(strings.ToLower(html), bad) {
			t.Errorf("report contains %s", bad)
		}
	}
}

func TestWriteTableAndJSON(t *testing.T) {
	r := sampleResult()
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "49 of 50") || !strings.Contains(b.String(), "1 / 0") {
		t.Errorf("table:\n%s", b.String())
	}
	b.Reset()
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Lost != 1 || len(back.Samples) != 2 || back.Config.URLs[0] != "http://x" {
		t.Fatalf("json round trip: %v %+v", err, back)
	}
}

func TestCompareRatios(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, perSec, p50 float64) string {
		r := sampleResult()
		r.DeliveredPerSec, r.Latency.P50 = perSec, p50
		path := dir + "/" + name + ".json"
		if err := writeFile(path, r.WriteJSON); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a, b := write("rtd", 400000, 2), write("gorilla", 100000, 8)
	var out bytes.Buffer
	if err := Compare(&out, []string{a, b}); err != nil {
		t.Fatal(err)
	}
	// rtd delivers 4x as much and its p50 is 4x lower: both ratios say 4.00x.
	if got := strings.Count(out.String(), "4.00x"); got != 2 {
		t.Fatalf("want two 4.00x ratios:\n%s", out.String())
	}
}

// TestCompareSanity: a negative bytes-per-connection (the RSS shrank) is
// shown as n/a and gives no ratio, and runs of different scenarios or
// durations are compared with a warning.
func TestCompareSanity(t *testing.T) {
	dir := t.TempDir()
	write := func(name, scenario string, perConn float64, d time.Duration) string {
		r := sampleResult()
		r.Scenario, r.Server.PerConn, r.Config.Duration = scenario, perConn, d
		path := dir + "/" + name + ".json"
		if err := writeFile(path, r.WriteJSON); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a, b := write("a", ScenarioFanout, 1200, 10*time.Second), write("b", ScenarioConnect, -300, 5*time.Second)
	var out bytes.Buffer
	if err := Compare(&out, []string{a, b}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"warning: a.json and b.json differ in scenario (fanout, connect)",
		"warning: a.json and b.json differ in duration (10s, 5s)",
		"n/a",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "-300") || strings.Contains(s, "-4.00x") || strings.Contains(s, "-0.25x") {
		t.Errorf("a negative size or ratio:\n%s", s)
	}
}

// TestWriteHTMLResponsive: the report fits the screen (no fixed 900 px
// chart), redraws on resize, and carries its figures as a text table.
func TestWriteHTMLResponsive(t *testing.T) {
	page := renderHTML(t)
	for _, want := range []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"width:100%",
		"getInstanceByDom",
		`<table class="figures">`,
		`<tr><th scope="row">delivered</th><td>49 of 50  (0/s)</td></tr>`,
		`<tr><th scope="row">lost / duplicated</th>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(page, "width:900px") {
		t.Error("a chart fixed at 900 px")
	}
}
