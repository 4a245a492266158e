package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rtd-project/rtd/fanout"
)

// The YAML file has one key style, dashes (history-size), at the top and in
// namespaces alike. Namespace keys used to be written with underscores
// (history_size): they are still read, with a deprecation warning. Unknown
// keys are errors naming the line and the nearest known key.

// configKeys are the top-level keys, from config's yaml tags.
var configKeys = yamlKeys(reflect.TypeFor[config]())

// namespaceKeys are a namespace's keys as written (dashes), each mapped to
// fanout.Namespace's yaml tag.
var namespaceKeys = func() map[string]string {
	m := map[string]string{}
	for _, tag := range yamlKeys(reflect.TypeFor[fanout.Namespace]()) {
		m[strings.ReplaceAll(tag, "_", "-")] = tag
	}
	return m
}()

func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

// fileProblem is a message about one line of a config source.
type fileProblem struct {
	line int
	msg  string
}

// decodeYAML decodes b (YAML, or JSON, which YAML reads too) into v after
// checking its keys: top is the set of keys the top-level mapping may hold
// (nil when b is a namespace list). It answers errors and deprecation
// warnings with their lines.
func decodeYAML(b []byte, v any, top []string) (warnings, errs []fileProblem) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, []fileProblem{yamlSyntax(err)}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	keyAt := map[int]string{} // line → key, for type errors
	checkNamespaces := func(seq *yaml.Node) {
		if seq.Kind != yaml.SequenceNode {
			return
		}
		for _, ns := range seq.Content {
			if ns.Kind != yaml.MappingNode {
				continue
			}
			for i := 0; i+1 < len(ns.Content); i += 2 {
				k := ns.Content[i]
				keyAt[k.Line] = k.Value
				dashed := strings.ReplaceAll(k.Value, "_", "-")
				tag, ok := namespaceKeys[dashed]
				switch {
				case !ok:
					errs = append(errs, unknownKey(k, slices.Collect(mapKeys(namespaceKeys)), "namespace key"))
				case dashed != k.Value:
					warnings = append(warnings, fileProblem{k.Line, fmt.Sprintf("namespace key %s is deprecated: write %s", k.Value, dashed)})
				}
				k.Value = tag
			}
		}
	}
	if top == nil {
		checkNamespaces(root)
	} else if root.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			k := root.Content[i]
			keyAt[k.Line] = k.Value
			if dashed := strings.ReplaceAll(k.Value, "_", "-"); dashed != k.Value && slices.Contains(top, dashed) {
				warnings = append(warnings, fileProblem{k.Line, fmt.Sprintf("key %s is deprecated: write %s", k.Value, dashed)})
				k.Value = dashed
			}
			if !slices.Contains(top, k.Value) {
				errs = append(errs, unknownKey(k, top, "key"))
			}
			if k.Value == "namespaces" {
				checkNamespaces(root.Content[i+1])
			}
		}
	}
	if len(errs) > 0 {
		return warnings, errs
	}
	if err := root.Decode(v); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return warnings, []fileProblem{{0, strings.TrimPrefix(err.Error(), "yaml: ")}}
		}
		for _, e := range te.Errors {
			errs = append(errs, typeProblem(e, keyAt))
		}
	}
	return warnings, errs
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func unknownKey(k *yaml.Node, known []string, what string) fileProblem {
	msg := fmt.Sprintf("unknown %s %q", what, k.Value)
	if s := suggest(k.Value, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return fileProblem{k.Line, msg}
}

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlSyntax(err error) fileProblem {
	if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return fileProblem{n, "not valid YAML: " + m[2]}
	}
	return fileProblem{0, "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

var typeLine = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")

// typeProblem says in the user's words what yaml.v3 says in Go's: "line 3:
// cannot unmarshal !!str `soon` into time.Duration" becomes
// "history-ttl: "soon" is not a duration (like 90s, 5m, 1h)".
func typeProblem(e string, keyAt map[int]string) fileProblem {
	m := typeLine.FindStringSubmatch(e)
	if m == nil {
		return fileProblem{0, e}
	}
	n, _ := strconv.Atoi(m[1])
	want := map[string]string{
		"time.Duration":      "a duration (like 90s, 5m, 1h)",
		"int":                "a whole number",
		"bool":               "true or false",
		"string":             "a string",
		"[]string":           "a list of strings",
		"[]fanout.Namespace": "a list of namespaces",
		"fanout.Namespace":   "a namespace (pattern: …)",
	}[m[4]]
	if want == "" {
		want = "of another type"
	}
	key := keyAt[n]
	if key == "" {
		key = "value"
	}
	got := strconv.Quote(m[3])
	if m[2] == "seq" || m[2] == "map" {
		got = "a " + map[string]string{"seq": "list", "map": "mapping"}[m[2]]
	}
	return fileProblem{n, fmt.Sprintf("%s: %s is not %s", strings.ReplaceAll(key, "_", "-"), got, want)}
}

// suggest is the known word nearest to w, if it is near enough to be a
// typo (an edit distance of at most a third of its length, at least 2 and
// at most 3).
func suggest(w string, known []string) string {
	best, bestD := "", min(3, max(2, len(w)/3))+1
	for _, k := range slices.Sorted(slices.Values(known)) {
		if d := editDistance(w, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is Levenshtein's: insertions, deletions, substitutions.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// listFlag is a []string setting as a flag or an RTD_* variable: a JSON
// array (["https://a.example","https://b.example"]) or comma-separated.
type listFlag struct{ v *[]string }

func (l listFlag) String() string {
	if l.v == nil {
		return ""
	}
	return strings.Join(*l.v, ",")
}

func (l listFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		var v []string
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return fmt.Errorf("not a JSON list of strings: %v", err)
		}
		*l.v = v
		return nil
	}
	*l.v = list(s)
	return nil
}

// namespacesFlag is the namespaces setting as a flag or RTD_NAMESPACES: a
// JSON (or YAML flow) list with the file's keys,
// [{"pattern":"chat:*","history-size":500,"client-publish":true}].
type namespacesFlag struct{ v *[]fanout.Namespace }

func (n namespacesFlag) String() string {
	if n.v == nil || len(*n.v) == 0 {
		return ""
	}
	b, _ := json.Marshal(*n.v)
	return string(b)
}

func (n namespacesFlag) Set(s string) error {
	var v []fanout.Namespace
	warns, errs := decodeYAML([]byte(s), &v, nil)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.msg
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	_ = warns // the old spelling is accepted here without a word: there is no file to fix
	*n.v = v
	return nil
}
