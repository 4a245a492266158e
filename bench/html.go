package bench

import (
	"bytes"
	_ "embed" // the ECharts script, inlined into the page
	"errors"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/components"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// echartsJS is ECharts' minified build (assets/echarts.min.js, the version
// go-echarts' asset host serves; assets/README.md says how to refresh it).
//
//go:embed assets/echarts.min.js
var echartsJS string

// echartsSlot stands in the rendered page for the ECharts script, which goes
// in after go-echarts has rendered rather than through it: go-echarts strips
// the token __f__ from the whole page with a regular expression, which would
// take some 90 ms over the 1 MB script and could alter it.
const echartsSlot = "<script>/* rtd bench: echarts.min.js */</script>"

// WriteHTML writes a one-file HTML report of r drawn with go-echarts: latency
// percentiles, deliveries per second, memory and open connections over time,
// with the summary as the charts' headings. The page is self-contained: the
// ECharts script (about 1 MB) is inlined, so it opens with no network.
func (r *Result) WriteHTML(w io.Writer) error {
	page := components.NewPage()
	page.SetPageTitle(fmt.Sprintf("rtd bench %s", r.Scenario))
	page.SetLayout(components.PageFlexLayout)
	var x []string
	for _, s := range r.Samples {
		x = append(x, fmt.Sprintf("%.0f", s.T))
	}
	series := func(get func(Sample) float64) []opts.LineData {
		out := make([]opts.LineData, len(r.Samples))
		for i, s := range r.Samples {
			out[i] = opts.LineData{Value: get(s)}
		}
		return out
	}
	line := func(title, subtitle, unit string) *charts.Line {
		l := charts.NewLine()
		l.SetGlobalOptions(
			// The page's width, up to 900 px (see responsive): a phone
			// gets whole charts, not the left of each.
			charts.WithInitializationOpts(opts.Initialization{Width: "100%", Height: "380px"}),
			charts.WithTitleOpts(opts.Title{Title: title, Subtitle: subtitle}),
			charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
			charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "bottom"}),
			charts.WithXAxisOpts(opts.XAxis{Name: "s"}),
			charts.WithYAxisOpts(opts.YAxis{Name: unit}),
		)
		l.SetXAxis(x)
		return l
	}

	lat := line("Latency per interval", r.headline(), "ms")
	lat.AddSeries("p50", series(func(s Sample) float64 { return s.P50 })).
		AddSeries("p99", series(func(s Sample) float64 { return s.P99 })).
		AddSeries("p99.9", series(func(s Sample) float64 { return s.P999 })).
		AddSeries("max", series(func(s Sample) float64 { return s.Max }))

	rate := line("Deliveries per second", fmt.Sprintf("%.0f/s over the run; lost %d, duplicated %d", r.DeliveredPerSec, r.Lost, r.Duplicated), "msg/s")
	rate.AddSeries("delivered/s", series(func(s Sample) float64 { return s.DeliveredPerSec }))

	mem := line("Memory", r.memoryLine(), "MiB")
	mem.AddSeries("server RSS", series(func(s Sample) float64 { return float64(s.ServerRSS) / (1 << 20) })).
		AddSeries("client RSS", series(func(s Sample) float64 { return float64(s.ClientRSS) / (1 << 20) }))

	conns := line("Open connections", fmt.Sprintf("%d ready of %d, %d failed, %d dropped", r.Ready, r.Conns, r.Failed, r.Dropped), "conns")
	conns.AddSeries("ready", series(func(s Sample) float64 { return float64(s.Ready) }))

	page.AddCharts(lat, rate, mem, conns)
	if err := useEmbeddedAssets(page); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := page.Render(&b); err != nil {
		return err
	}
	head, tail, ok := bytes.Cut(b.Bytes(), []byte(echartsSlot))
	if !ok {
		return errors.New("bench: html report: go-echarts left out the script's slot")
	}
	page2, err := r.responsive(string(tail))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s<script>\n%s\n</script>%s", head, echartsJS, page2)
	return err
}

// responsiveHead makes the page fit narrow screens: the charts take the
// width there is (at most 900 px) and redraw when it changes.
const responsiveHead = `<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font-family: system-ui, sans-serif; margin: 0 auto; padding: 0 8px; max-width: 1840px }
.container { width: 100%; max-width: 900px }
table.figures { border-collapse: collapse; margin: 16px auto; max-width: 900px; width: 100% }
table.figures th { text-align: left; white-space: nowrap; padding: 4px 12px 4px 0; vertical-align: top }
table.figures td { padding: 4px 0; font-family: ui-monospace, monospace; overflow-wrap: anywhere }
</style>
</head>`

const resizeScript = `<script>
window.addEventListener("resize", function () {
  document.querySelectorAll(".item").forEach(function (el) {
    var c = echarts.getInstanceByDom(el);
    if (c) { c.resize(); }
  });
});
</script>
</body>`

// responsive adds to the rendered page (from after the ECharts script)
// the viewport and styles, the figures as a text table above the charts
// (readable without JavaScript, and by screen readers), and the resize
// handler.
func (r *Result) responsive(page string) (string, error) {
	var t strings.Builder
	t.WriteString("<body>\n<table class=\"figures\">\n<caption>rtd bench " + html.EscapeString(r.Scenario) + "</caption>\n")
	for _, row := range r.rows() {
		fmt.Fprintf(&t, "<tr><th scope=\"row\">%s</th><td>%s</td></tr>\n", html.EscapeString(row[0]), html.EscapeString(row[1]))
	}
	t.WriteString("</table>")
	for _, tag := range []string{"</head>", "<body>", "</body>"} {
		if strings.Count(page, tag) != 1 {
			return "", fmt.Errorf("bench: html report: %s not found once in the page", tag)
		}
	}
	page = strings.Replace(page, "</head>", responsiveHead, 1)
	page = strings.Replace(page, "<body>", t.String(), 1)
	return strings.Replace(page, "</body>", resizeScript, 1), nil
}

// useEmbeddedAssets swaps the page's one external asset, the ECharts script
// that go-echarts loads from its asset host, for echartsSlot. Any other asset
// (a theme, a map, an extension a new chart type pulls in) is not embedded,
// and is an error rather than a page that needs the network.
func useEmbeddedAssets(page *components.Page) error {
	for _, js := range page.JSAssets.Values {
		if js != opts.EchartsJS {
			return fmt.Errorf("bench: html report: script %q is not embedded", js)
		}
	}
	if n := len(page.CSSAssets.Values) + len(page.CustomizedJSAssets.Values) + len(page.CustomizedCSSAssets.Values); n > 0 {
		return fmt.Errorf("bench: html report: %d external assets are not embedded", n)
	}
	page.ClearPresetJSAssets()
	page.AddCustomizedHeaders(echartsSlot)
	return nil
}

// headline is the one-line summary of the run.
func (r *Result) headline() string {
	return fmt.Sprintf("%s %s: %d conns, %d channels, %d B, %s against %s — p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms",
		r.Scenario, r.Config.Transport, r.Conns, r.Config.Channels, r.Config.Size, time.Duration(r.Config.Duration),
		strings.Join(r.Config.URLs, ","), r.Latency.P50, r.Latency.P99, r.Latency.P999, r.Latency.Max)
}

func (r *Result) memoryLine() string {
	s := fmt.Sprintf("client: %.2f cores (%.0f%% of the machine)", r.Client.Cores, 100*r.Client.CPUShare)
	if r.Server.PID > 0 {
		s = fmt.Sprintf("server: %.0f B per connection, peak %s; ", r.Server.PerConn, mib(r.Server.PeakRSS)) + s
	}
	return s
}
