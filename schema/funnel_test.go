package schema

import (
	"strings"
	"testing"
)

func TestFunnelRules_Map(t *testing.T) {
	rules := DefaultFunnelRules()
	tests := []struct {
		stage, stageType string
		want             string
	}{
		{"New", "", FunnelApplied},
		{"new", "", FunnelApplied},
		{"  Applied ", "", FunnelApplied},
		{"Received", "", FunnelApplied},
		{"Interested in Pursuing", "", FunnelScreened},
		{"INTERESTED IN PURSUING", "", FunnelScreened},
		{"Phone Screen", "", FunnelScreened},
		{"Screening", "", FunnelScreened},
		{"Manager Review", "", FunnelScreened},
		{"Review", "", FunnelScreened},
		{"Interview", "", FunnelInterviewed},
		{"Interview 2", "", FunnelInterviewed},
		{"Phone Interview", "", FunnelInterviewed},
		{"Assessment", "", FunnelInterviewed},
		{"Offer", "", FunnelOffered},
		{"Offer Extended", "", FunnelOffered},
		{"Background Check", "", FunnelOffered},
		{"Reference Check", "", FunnelOffered},
		{"Hired", "", FunnelHired},
		{"Hired", "Hired", FunnelHired},
		{"Onboarding", "Hired", FunnelHired},
		{"Do Not Pursue", "Do Not Pursue", FunnelRejected},
		{"Not a Fit", "Do Not Pursue", FunnelRejected},
		{"Rejected", "", FunnelRejected},
		{"Not Selected", "", FunnelRejected},
		{"Disqualified", "", FunnelRejected},
		{"Withdrawn", "", FunnelWithdrawn},
		{"Withdrew", "Do Not Pursue", FunnelWithdrawn},
		{"Declined Offer", "", FunnelWithdrawn},
		{"Offer Declined", "", FunnelWithdrawn},
		{"Custom Stage", "", ""},
		{"Reviewed by Panel", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.stage+"/"+tt.stageType, func(t *testing.T) {
			got, ok := rules.Map(tt.stage, tt.stageType)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("Map(%q, %q) = %q, %v; want %q", tt.stage, tt.stageType, got, ok, tt.want)
			}
		})
	}
}

func TestFunnelRules_Override(t *testing.T) {
	base := DefaultFunnelRules()
	rules := base.Override([]FunnelRule{
		{Match: "Interview", Funnel: FunnelScreened},
		{Match: "Talent Pool*", Funnel: FunnelApplied},
		{StageType: "Archived", Funnel: FunnelRejected},
	})
	tests := []struct{ stage, stageType, want string }{
		{"Interview", "", FunnelScreened},         // override wins
		{"Interview 2", "", FunnelInterviewed},    // default still applies
		{"talent pool (2024)", "", FunnelApplied}, // glob, any case
		{"Old", "archived", FunnelRejected},
	}
	for _, tt := range tests {
		if got, _ := rules.Map(tt.stage, tt.stageType); got != tt.want {
			t.Errorf("Map(%q, %q) = %q, want %q", tt.stage, tt.stageType, got, tt.want)
		}
	}
	if len(base) != len(DefaultFunnelRules()) {
		t.Error("Override changed its receiver")
	}
}

func TestFunnelRules_Validate(t *testing.T) {
	if err := DefaultFunnelRules().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tests := []struct {
		name  string
		rules FunnelRules
		want  string // substring of the error
	}{
		{"unknown funnel", FunnelRules{{Match: "New", Funnel: "applied"}, {Match: "Interview*", Funnel: "intervewed"}},
			`funnel rule 1 (match "Interview*" → intervewed): funnel: "intervewed" is not one of`},
		{"no match", FunnelRules{{Funnel: FunnelHired}}, "funnel rule 0 ( → hired): match or stage_type: required"},
		{"blank match", FunnelRules{{Match: "  ", Funnel: FunnelHired}}, "match or stage_type: required"},
		{"case", FunnelRules{{StageType: "Hired", Funnel: "Hired"}}, `funnel rule 0 (stage_type "Hired" → Hired)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rules.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"Interview", "interview", true},
		{"Interview", "Interview 2", false},
		{"Interview*", "Interview 2", true},
		{"Interview*", "Interview", true},
		{"*Interview", "Phone INTERVIEW", true},
		{"*Interview*", "Second interview (onsite)", true},
		{"*Interview*", "Intervie", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXcYb", false},
		{"a*a", "a", false},
		{"*", "", true},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestJobStatus(t *testing.T) {
	tests := []struct{ stage, stageType, want string }{
		{"Open", "Open", JobOpen},
		{"Accepting", "Open", JobOpen},
		{"Open", "", JobOpen},
		{"On Hold", "On Hold", JobOnHold},
		{"Paused", "", JobOnHold},
		{"Filled", "Filled", JobFilled},
		{"Closed", "Closed", JobClosed},
		{"Cancelled", "", JobClosed},
		{"Archived", "Archived", JobClosed},
		{"Waiting", "Pending Approval", "pending_approval"},
		{"Draft - Internal", "", "draft_internal"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := JobStatus(tt.stage, tt.stageType); got != tt.want {
			t.Errorf("JobStatus(%q, %q) = %q, want %q", tt.stage, tt.stageType, got, tt.want)
		}
	}
}

func BenchmarkFunnelRules_Map(b *testing.B) {
	rules := DefaultFunnelRules()
	b.ReportAllocs()
	for b.Loop() {
		rules.Map("Reference Check", "")
	}
}
