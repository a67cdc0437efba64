package schema

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
)

func parseHook(t *testing.T, body string) *applicantstack.WebhookEvent {
	t.Helper()
	ev, err := applicantstack.ParseWebhook("application/json", []byte(body), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestMapper_MapWebhook(t *testing.T) {
	m := Mapper{Account: "acme"}
	received := time.Date(2026, 3, 16, 15, 0, 0, 0, time.FixedZone("x", 3600))
	const move = `{"Object Type":"candidate","Event Type":"stagechange","Secret":"s3cret","Event Date":"2026-03-16T10:00:00-04:00",
		"Stage":"Interview","Candidate Serial":"a4acme00one1","Job Serial":"a2acme00job1","User Serial":"a1user","User Type":"USER"}`

	ev := parseHook(t, move)
	row, stage := m.MapWebhook(ev, received)
	if len(row.EventID) != 64 || row.AccountID != "acme" || row.ObjectType != "candidate" || row.ObjectID != "a4acme00one1" ||
		row.Stage != "Interview" || !row.ReceivedAt.Equal(received) || row.ReceivedAt.Location() != time.UTC {
		t.Errorf("row = %+v", row)
	}
	if strings.Contains(string(row.Payload), "s3cret") {
		t.Errorf("payload keeps the secret: %s", row.Payload)
	}
	want := StageEvent{AccountID: "acme", CandidateID: "a4acme00one1", JobID: "a2acme00job1", Stage: "Interview", FunnelStage: "interviewed",
		ChangedAt: time.Date(2026, 3, 16, 14, 0, 0, 0, time.UTC), ChangedBy: "a1user", Origin: OriginWebhook}
	if stage == nil || *stage != want {
		t.Errorf("stage event = %+v, want %+v", stage, want)
	}
	if again, _ := m.MapWebhook(parseHook(t, move), received.Add(time.Hour)); again.EventID != row.EventID {
		t.Error("a redelivery maps to another event id")
	}

	t.Run("stored event gives the same stage event", func(t *testing.T) {
		got, err := m.WebhookStageEvent(row)
		if err != nil || got == nil || *got != want {
			t.Errorf("WebhookStageEvent = %+v, %v; want %+v", got, err, want)
		}
		noPayload := row
		noPayload.Payload = nil
		if got, err := m.WebhookStageEvent(noPayload); err != nil || got == nil || got.JobID != "" {
			t.Errorf("without a payload = %+v, %v; want the event without its job", got, err)
		}
		bad := row
		bad.Payload = json.RawMessage(`["not an object"]`)
		if _, err := m.WebhookStageEvent(bad); err == nil {
			t.Error("a payload that does not decode is not an error")
		}
	})

	t.Run("no stage event", func(t *testing.T) {
		for name, body := range map[string]string{
			"hire":        `{"Object Type":"hire","Event Type":"stagechange","Event Date":"2026-03-16T10:00:00Z","Stage":"New","Hire Serial":"e2acme0000x1"}`,
			"other event": `{"Object Type":"candidate","Event Type":"created","Event Date":"2026-03-16T10:00:00Z","Stage":"New","Candidate Serial":"a4acme0000x1"}`,
		} {
			row, stage := m.MapWebhook(parseHook(t, body), received)
			if stage != nil {
				t.Errorf("%s: stage event %+v", name, stage)
			}
			if got, err := m.WebhookStageEvent(row); got != nil || err != nil {
				t.Errorf("%s: stored event gives %+v, %v", name, got, err)
			}
		}
	})

	t.Run("a system change is by System", func(t *testing.T) {
		body := strings.Replace(strings.Replace(move, `"a1user"`, `""`, 1), `"USER"`, `"SYSTEM"`, 1)
		if _, stage := m.MapWebhook(parseHook(t, body), received); stage == nil || stage.ChangedBy != "System" {
			t.Errorf("stage event = %+v", stage)
		}
	})
}
