package sync

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file turns the YAML decoder's type errors into errors that name the
// field, as every other configuration error does.

// typeError is one line of a yaml.TypeError: the decoder could not put a
// value into a field ("line 6: cannot unmarshal !!str `ten` into
// time.Duration").
var typeError = regexp.MustCompile("^line (\\d+): cannot unmarshal !!\\w+ (?:`(.*)` )?into (.+)$")

// fieldErrors rewrites the decoder's type errors to name the field, its
// line in the file, and what the field accepts:
// `server.shutdown_timeout (line 6): "ten" is not a duration (like 30s, 5m
// or 1h30m)`. The decoder read expanded (the file after ${VAR} expansion,
// re-encoded), so its line numbers are found in expanded and mapped back
// to file's through the field's path. The value of a secret is never
// quoted. Other errors (an unknown key) are returned as they are.
func fieldErrors(err error, expanded []byte, file *yaml.Node) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var doc yaml.Node
	if yaml.Unmarshal(expanded, &doc) != nil {
		return err
	}
	// line in expanded → path of the scalar there, and of the outermost
	// list or mapping that starts there (on the line of its first entry).
	scalarAt, nestedAt := map[int]string{}, map[int]string{}
	walkValues(&doc, "", func(path string, n *yaml.Node) {
		at := nestedAt
		if n.Kind == yaml.ScalarNode {
			at = scalarAt
		}
		if _, ok := at[n.Line]; !ok {
			at[n.Line] = path
		}
	})
	lineOf := map[string]int{} // path → line in the file
	walkValues(file, "", func(path string, n *yaml.Node) { lineOf[path] = n.Line })
	msgs, named := make([]string, 0, len(te.Errors)), false
	for _, e := range te.Errors {
		m := typeError.FindStringSubmatch(e)
		if m == nil {
			msgs = append(msgs, e)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		at := scalarAt
		if m[2] == "" { // the decoder quotes scalars only
			at = nestedAt
		}
		path, ok := at[line]
		if !ok {
			msgs = append(msgs, e)
			continue
		}
		value := fmt.Sprintf("%q ", m[2])
		if m[2] == "" || isSecretPath(path) {
			value = "the value "
		}
		msgs = append(msgs, fmt.Sprintf("%s (line %d): %s%s", path, lineOf[path], value, accepts(m[3])))
		named = true
	}
	if !named {
		return err
	}
	return errors.New(strings.Join(msgs, "; "))
}

// accepts says what a field of Go type typ takes.
func accepts(typ string) string {
	switch strings.TrimPrefix(typ, "*") {
	case "time.Duration":
		return "is not a duration (like 30s, 5m or 1h30m)"
	case "int", "int64":
		return "is not a whole number"
	case "float64":
		return "is not a number"
	case "bool":
		return "is not true or false"
	case "string", "applicantstack.Secret":
		return "is not a single value"
	}
	if strings.HasPrefix(typ, "[]") {
		return "is not a list"
	}
	return "is not a mapping of keys"
}

func isSecretPath(path string) bool {
	i := strings.LastIndexByte(path, '.')
	return slices.Contains(secretKeys, path[i+1:])
}

// blockStyle turns every flow list and mapping under n ("{a: 1, b: 2}")
// into block style.
func blockStyle(n *yaml.Node) {
	n.Style &^= yaml.FlowStyle
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// walkValues calls fn with the path ("accounts[1].concurrency") of every
// value node under n.
func walkValues(n *yaml.Node, path string, fn func(string, *yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkValues(c, path, fn)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			fn(p, n.Content[i+1])
			walkValues(n.Content[i+1], p, fn)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			fn(p, c)
			walkValues(c, p, fn)
		}
	}
}
