package applicantstack

import (
	"bytes"
	"encoding/json"
	"strings"
)

// decodeEnvelope decodes body into env as json.Unmarshal(body, env) does,
// with the same result and the same error, in one pass over a list page
// instead of three: the validity check keeps the members of the top-level
// object and the elements of the arrays they hold, so the rows of the
// Jobs, Candidates and Hires arrays are subslices of body rather than
// copies, and only the small rest of the object goes to json.Unmarshal.
// What the check's split leaves alone (a key with an escape, a key that
// names an array field only once case is folded, an array field holding
// something else than an array) sends the whole body to json.Unmarshal.
func decodeEnvelope(body []byte, env *envelope) error {
	v := validator{b: body, split: true}
	if !v.valid() {
		return json.Unmarshal(body, env) // for its error
	}
	if bytes.TrimLeft(body, " \t\r\n")[0] != '{' {
		return json.Unmarshal(body, env) // not an object
	}
	rest := append(make([]byte, 0, 256), '{')
	var jobs, cands, hires []json.RawMessage
	var hasJobs, hasCands, hasHires bool
	for _, m := range v.members {
		name := string(m.key[1 : len(m.key)-1])
		var rows *[]json.RawMessage
		switch name {
		case "Jobs":
			rows, hasJobs = &jobs, true
		case "Candidates":
			rows, hasCands = &cands, true
		case "Hires":
			rows, hasHires = &hires, true
		default:
			if strings.IndexByte(name, '\\') >= 0 || strings.EqualFold(name, "Jobs") ||
				strings.EqualFold(name, "Candidates") || strings.EqualFold(name, "Hires") {
				return json.Unmarshal(body, env)
			}
			if len(rest) > 1 {
				rest = append(rest, ',')
			}
			rest = append(append(append(rest, m.key...), ':'), m.val...)
			continue
		}
		if m.val[0] != '[' {
			return json.Unmarshal(body, env) // an array field holding something else
		}
		*rows = m.elems
	}
	if err := json.Unmarshal(append(rest, '}'), env); err != nil {
		return json.Unmarshal(body, env) // for the error body gives
	}
	if hasJobs {
		env.Jobs = jobs
	}
	if hasCands {
		env.Candidates = cands
	}
	if hasHires {
		env.Hires = hires
	}
	return nil
}
