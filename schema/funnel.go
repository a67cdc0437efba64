package schema

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Funnel stages: the unified pipeline every account's own stage names map to.
const (
	FunnelApplied     = "applied"
	FunnelScreened    = "screened"
	FunnelInterviewed = "interviewed"
	FunnelOffered     = "offered"
	FunnelHired       = "hired"
	FunnelRejected    = "rejected"
	FunnelWithdrawn   = "withdrawn"
)

// FunnelStages returns the funnel stages in pipeline order, terminal ones last.
func FunnelStages() []string {
	return []string{
		FunnelApplied, FunnelScreened, FunnelInterviewed, FunnelOffered,
		FunnelHired, FunnelRejected, FunnelWithdrawn,
	}
}

func isFunnelStage(s string) bool {
	for _, f := range FunnelStages() {
		if s == f {
			return true
		}
	}
	return false
}

// FunnelRule maps a stage to a funnel stage. Match is compared with the
// account's stage name and StageType with its Stage Type, both without
// regard to case, as an exact name or as a glob in which '*' stands for any
// run of characters ("Interview*", "*Review"). An empty field matches
// anything; a rule needs at least one of them. It is the config file's form
// of a rule (config key funnel, and funnel under an account for overrides).
type FunnelRule struct {
	Match     string `yaml:"match,omitempty" json:"match,omitempty"`
	StageType string `yaml:"stage_type,omitempty" json:"stage_type,omitempty"`
	Funnel    string `yaml:"funnel" json:"funnel"`
}

// Validate reports whether the rule can be used.
func (r FunnelRule) Validate() error {
	if strings.TrimSpace(r.Match) == "" && strings.TrimSpace(r.StageType) == "" {
		return errors.New("match or stage_type: required")
	}
	if !isFunnelStage(r.Funnel) {
		return fmt.Errorf("funnel: %q is not one of %s", r.Funnel, strings.Join(FunnelStages(), ", "))
	}
	return nil
}

// String describes the rule for error messages.
func (r FunnelRule) String() string {
	var parts []string
	if r.Match != "" {
		parts = append(parts, fmt.Sprintf("match %q", r.Match))
	}
	if r.StageType != "" {
		parts = append(parts, fmt.Sprintf("stage_type %q", r.StageType))
	}
	return strings.Join(parts, ", ") + " → " + r.Funnel
}

func (r FunnelRule) matches(stage, stageType string) bool {
	m, t := strings.TrimSpace(r.Match), strings.TrimSpace(r.StageType)
	if m == "" && t == "" {
		return false
	}
	return (m == "" || globMatch(m, stage)) && (t == "" || globMatch(t, stageType))
}

// FunnelRules is an ordered list of rules; the first that matches wins.
type FunnelRules []FunnelRule

// DefaultFunnelRules returns rules for ApplicantStack's usual stage names and
// Stage Types. Exit stages come first so that "Offer Declined" is withdrawn,
// not offered, and a Stage Type of "Hired" or "Do Not Pursue" wins over a
// pipeline-sounding name.
func DefaultFunnelRules() FunnelRules {
	rule := func(match, stageType, funnel string) FunnelRule {
		return FunnelRule{Match: match, StageType: stageType, Funnel: funnel}
	}
	return FunnelRules{
		rule("Withdr*", "", FunnelWithdrawn), // Withdrawn, Withdrew, Withdrawal
		rule("Candidate Withdr*", "", FunnelWithdrawn),
		rule("Declined Offer*", "", FunnelWithdrawn),
		rule("Offer Declined*", "", FunnelWithdrawn),
		rule("Candidate Declined*", "", FunnelWithdrawn),
		rule("", "Withdrawn", FunnelWithdrawn),

		rule("Do Not Pursue", "", FunnelRejected),
		rule("Reject*", "", FunnelRejected),
		rule("Not Selected*", "", FunnelRejected),
		rule("Not Qualified*", "", FunnelRejected),
		rule("Disqualified*", "", FunnelRejected),
		rule("", "Do Not Pursue", FunnelRejected),
		rule("", "Rejected", FunnelRejected),

		rule("Hired*", "", FunnelHired),
		rule("", "Hired", FunnelHired),

		rule("New", "", FunnelApplied),
		rule("New Applicant*", "", FunnelApplied),
		rule("Applied", "", FunnelApplied),
		rule("Received", "", FunnelApplied),
		rule("Application Received", "", FunnelApplied),

		rule("Interested in Pursuing", "", FunnelScreened),
		rule("Phone Screen*", "", FunnelScreened),
		rule("Screen*", "", FunnelScreened),
		rule("Manager Review", "", FunnelScreened),
		rule("Hiring Manager Review", "", FunnelScreened),
		rule("Review", "", FunnelScreened),
		rule("Under Review", "", FunnelScreened),
		rule("In Review", "", FunnelScreened),

		rule("*Interview*", "", FunnelInterviewed), // Interview, Phone Interview, Interview 2
		rule("*Assessment*", "", FunnelInterviewed),

		rule("Offer*", "", FunnelOffered),
		rule("Background Check*", "", FunnelOffered),
		rule("Reference Check*", "", FunnelOffered),
		rule("Drug Screen*", "", FunnelOffered),
	}
}

// Override returns a new list with overrides ahead of rs, so they win. Use
// it to put the config's rules before the defaults and an account's own
// rules before both.
func (rs FunnelRules) Override(overrides []FunnelRule) FunnelRules {
	out := make(FunnelRules, 0, len(overrides)+len(rs))
	out = append(out, overrides...)
	return append(out, rs...)
}

// Validate returns an error naming the first bad rule by its index.
func (rs FunnelRules) Validate() error {
	for i, r := range rs {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("funnel rule %d (%s): %w", i, r, err)
		}
	}
	return nil
}

// Map returns the funnel stage of an account's stage, or "", false when no
// rule matches: the caller stores NULL and the stage shows up in the
// unmapped_stages query.
func (rs FunnelRules) Map(stage, stageType string) (string, bool) {
	stage, stageType = strings.TrimSpace(stage), strings.TrimSpace(stageType)
	if stage == "" && stageType == "" {
		return "", false
	}
	for _, r := range rs {
		if r.matches(stage, stageType) {
			return r.Funnel, true
		}
	}
	return "", false
}

// globMatch reports whether s matches pattern, without regard to case, where
// '*' in pattern matches any run of characters. It does not allocate: it runs
// once per candidate row for every rule.
func globMatch(pattern, s string) bool {
	head, rest, glob := strings.Cut(pattern, "*")
	if !glob {
		return strings.EqualFold(pattern, s)
	}
	if len(s) < len(head) || !strings.EqualFold(s[:len(head)], head) {
		return false
	}
	s = s[len(head):]
	for {
		var part string
		part, rest, glob = strings.Cut(rest, "*")
		if !glob { // the tail must end s
			return len(s) >= len(part) && strings.EqualFold(s[len(s)-len(part):], part)
		}
		i := indexFold(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
}

func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// Job statuses.
const (
	JobOpen   = "open"
	JobOnHold = "on_hold"
	JobFilled = "filled"
	JobClosed = "closed"
)

func knownJobStatus(s string) (string, bool) {
	switch s {
	case "open", "active", "posted", "published":
		return JobOpen, true
	case "on_hold", "hold", "onhold", "paused":
		return JobOnHold, true
	case "filled", "hired":
		return JobFilled, true
	case "closed", "cancelled", "canceled", "archived", "inactive", "expired":
		return JobClosed, true
	}
	return "", false
}

// JobStatus returns open, on_hold, filled or closed for a job's Stage and
// Stage Type, preferring the Stage Type. A value it does not know becomes
// its lowercase snake_case form ("Pending Approval" → "pending_approval"),
// so no status is lost; both empty gives "".
func JobStatus(stage, stageType string) string {
	t, s := snake(stageType), snake(stage)
	if st, ok := knownJobStatus(t); ok {
		return st
	}
	if st, ok := knownJobStatus(s); ok {
		return st
	}
	if t != "" {
		return t
	}
	return s
}

// snake lowercases s and joins its runs of letters and digits with '_'.
func snake(s string) string {
	var b strings.Builder
	pending := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if pending && b.Len() > 0 {
				b.WriteByte('_')
			}
			pending = false
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		pending = true
	}
	return b.String()
}
