package applicantstack

import (
	"html"
	"strings"
)

// StageChange is a stage transition recovered from a candidate note.
type StageChange struct {
	User  string // who made the change, as the note names them ("System" for automation)
	Stage string
}

const setStage = " set Stage to "

// ParseStageChange reads a note text of the form "<user> set Stage to
// <stage>" (HTML entities decoded, surrounding space and a trailing period
// trimmed). It reports false for any other note, including "set Rating to".
func ParseStageChange(text string) (StageChange, bool) {
	if strings.IndexByte(text, '&') >= 0 {
		text = html.UnescapeString(text)
	}
	text = strings.TrimSpace(text)
	if i := strings.Index(text, setStage); i >= 0 {
		return stageChange(text[:i], text[i+len(setStage):])
	}
	// "set Stage to X" with no user named.
	if rest, ok := strings.CutPrefix(text, setStage[1:]); ok {
		return stageChange("", rest)
	}
	return StageChange{}, false
}

func stageChange(user, stage string) (StageChange, bool) {
	stage = strings.TrimSpace(stage)
	stage = strings.TrimSpace(strings.TrimSuffix(stage, "."))
	if q := strings.Trim(stage, `"'`); q != stage {
		stage = strings.TrimSpace(q)
	}
	if stage == "" {
		return StageChange{}, false
	}
	return StageChange{User: strings.TrimSpace(user), Stage: stage}, true
}

// IsApplicationNote reports whether a note records the application itself
// ("Application received from Indeed"): the moment the candidate entered
// the account's first stage.
func IsApplicationNote(text string) bool {
	return strings.HasPrefix(strings.TrimSpace(text), "Application received")
}
