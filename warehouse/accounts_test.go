package warehouse

import (
	"context"
	"testing"
	"time"
)

func TestZoneDays(t *testing.T) {
	cases := []struct {
		zone, day  string
		start, end string // RFC 3339, UTC
	}{
		// An ordinary winter day in New York: 05:00Z to 05:00Z.
		{"America/New_York", "2024-01-15", "2024-01-15T05:00:00Z", "2024-01-16T05:00:00Z"},
		// Spring forward on 2024-03-10: a 23-hour day.
		{"America/New_York", "2024-03-10", "2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z"},
		// Fall back on 2024-11-03: a 25-hour day.
		{"America/New_York", "2024-11-03", "2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z"},
		// East of Greenwich a day starts on the UTC day before.
		{"Europe/Berlin", "2024-03-31", "2024-03-30T23:00:00Z", "2024-03-31T22:00:00Z"},
		// Lord Howe moves its clocks by half an hour.
		{"Australia/Lord_Howe", "2024-04-07", "2024-04-06T13:00:00Z", "2024-04-07T13:30:00Z"},
		// Chile springs forward at midnight: 2023-09-03 has no 00:00 and
		// starts at 01:00 -03, the instant of the change (04:00Z).
		{"America/Santiago", "2023-09-03", "2023-09-03T04:00:00Z", "2023-09-04T03:00:00Z"},
		// Samoa skipped 2011-12-30 when it crossed the date line: an empty day.
		{"Pacific/Apia", "2011-12-30", "2011-12-30T10:00:00Z", "2011-12-30T10:00:00Z"},
		{"UTC", "2024-02-29", "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.zone+" "+c.day, func(t *testing.T) {
			loc, err := time.LoadLocation(c.zone)
			if err != nil {
				t.Fatal(err)
			}
			day, _ := time.Parse("2006-01-02", c.day)
			days := zoneDays(loc, day, day)
			if len(days) != 1 {
				t.Fatalf("%d days", len(days))
			}
			got := days[0]
			if s := got.start.UTC().Format(time.RFC3339); s != c.start {
				t.Errorf("start %s, want %s", s, c.start)
			}
			if e := got.end.UTC().Format(time.RFC3339); e != c.end {
				t.Errorf("end %s, want %s", e, c.end)
			}
		})
	}
	t.Run("days are contiguous", func(t *testing.T) {
		loc, _ := time.LoadLocation("America/Los_Angeles")
		days := zoneDays(loc, calendarFirst, calendarLast)
		for i := 1; i < len(days); i++ {
			if !days[i].start.Equal(days[i-1].end) || days[i].date.Sub(days[i-1].date) != 24*time.Hour {
				t.Fatalf("day %s does not follow %s", days[i].date, days[i-1].date)
			}
			if h := days[i].end.Sub(days[i].start).Hours(); h != 23 && h != 24 && h != 25 {
				t.Fatalf("%s lasts %v hours", days[i].date, h)
			}
		}
	})
}

func TestDB_UpsertAccounts(t *testing.T) {
	ctx := context.Background()
	db := openAt(t, "")
	accounts := []Account{{ID: "acme", Name: "Acme", TimeZone: "America/New_York"}, {ID: "globex", TimeZone: "Europe/Berlin"}}
	if err := db.UpsertAccounts(ctx, accounts); err != nil {
		t.Fatal(err)
	}
	wantDays := one[int](t, db, `SELECT date_diff('day', DATE '1990-01-01', DATE '2099-12-31') + 1`)
	if n := one[int](t, db, `SELECT count(*) FROM time_zone_days WHERE timezone = 'America/New_York'`); n != wantDays {
		t.Errorf("New York has %d days, want %d", n, wantDays)
	}
	// The local date of an instant, as the metrics' local_date macro reads it.
	localDate := func(account, instant string) string {
		t.Helper()
		return one[string](t, db, `SELECT strftime(CASE WHEN ts < d.starts_at THEN d.local_date - 1
			WHEN ts >= d.ends_at THEN d.local_date + 1 ELSE d.local_date END, '%Y-%m-%d')
			FROM (SELECT CAST(? AS TIMESTAMPTZ) AS ts) x
			JOIN accounts a ON a.account_id = ?
			JOIN time_zone_days d ON d.timezone = a.timezone AND d.local_date = CAST(make_timestamp(epoch_us(ts)) AS DATE)`,
			instant, account)
	}
	for _, c := range []struct{ account, instant, want string }{
		{"acme", "2024-03-03T04:30:00Z", "2024-03-02"},   // 23:30 EST
		{"acme", "2024-07-05T00:03:00Z", "2024-07-04"},   // 20:03 EDT
		{"acme", "2024-03-10T04:59:59Z", "2024-03-09"},   // a second before the 23-hour day
		{"globex", "2024-03-30T23:00:00Z", "2024-03-31"}, // midnight in Berlin
		{"globex", "2024-03-30T22:59:59Z", "2024-03-30"},
	} {
		if got := localDate(c.account, c.instant); got != c.want {
			t.Errorf("%s %s: local date %s, want %s", c.account, c.instant, got, c.want)
		}
	}

	t.Run("unchanged is a no-op", func(t *testing.T) {
		before := one[time.Time](t, db, `SELECT max(updated_at) FROM accounts`)
		rows := one[int](t, db, `SELECT count(*) FROM time_zone_days`)
		if err := db.UpsertAccounts(ctx, accounts); err != nil {
			t.Fatal(err)
		}
		if after := one[time.Time](t, db, `SELECT max(updated_at) FROM accounts`); !after.Equal(before) {
			t.Errorf("updated_at moved from %v to %v", before, after)
		}
		if n := one[int](t, db, `SELECT count(*) FROM time_zone_days`); n != rows {
			t.Errorf("%d days, want %d", n, rows)
		}
	})
	t.Run("a new zone replaces the old one", func(t *testing.T) {
		if err := db.UpsertAccounts(ctx, []Account{{ID: "globex", Name: "Globex", TimeZone: "America/Los_Angeles"}}); err != nil {
			t.Fatal(err)
		}
		if z := one[string](t, db, `SELECT timezone || ' ' || name FROM accounts WHERE account_id = 'globex'`); z != "America/Los_Angeles Globex" {
			t.Errorf("globex is %q", z)
		}
		if n := one[int](t, db, `SELECT count(*) FROM time_zone_days WHERE timezone = 'Europe/Berlin'`); n != 0 {
			t.Errorf("Berlin's days kept: %d", n)
		}
		if n := one[int](t, db, `SELECT count(DISTINCT timezone) FROM time_zone_days`); n != 2 {
			t.Errorf("%d zones, want 2", n)
		}
		if n := one[int](t, db, `SELECT count(*) FROM accounts`); n != 2 {
			t.Errorf("acme was dropped: %d accounts", n)
		}
	})
	t.Run("damaged days are rewritten", func(t *testing.T) {
		if _, err := db.SQL().Exec(`DELETE FROM time_zone_days WHERE timezone = 'America/New_York' AND local_date > DATE '2050-01-01'`); err != nil {
			t.Fatal(err)
		}
		if err := db.UpsertAccounts(ctx, accounts[:1]); err != nil {
			t.Fatal(err)
		}
		if n := one[int](t, db, `SELECT count(*) FROM time_zone_days WHERE timezone = 'America/New_York'`); n != wantDays {
			t.Errorf("New York has %d days, want %d", n, wantDays)
		}
	})
	t.Run("unknown zone", func(t *testing.T) {
		err := db.UpsertAccounts(ctx, []Account{{ID: "acme", TimeZone: "America/Nowhere"}})
		if err == nil || err.Error() != `account acme: time zone "America/Nowhere": not an IANA zone` {
			t.Errorf("error %v", err)
		}
		if z := one[string](t, db, `SELECT timezone FROM accounts WHERE account_id = 'acme'`); z != "America/New_York" {
			t.Errorf("acme's zone became %q", z)
		}
	})
}
