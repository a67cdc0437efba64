package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sort"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Account is one configured account as the accounts table keeps it.
type Account struct {
	ID       string // the subdomain: account_id in every table
	Name     string // display name; "" is stored as NULL
	TimeZone string // IANA zone, e.g. America/New_York
}

// The local days time_zone_days holds for each zone: every day from
// calendarFirst to calendarLast. An instant outside them has no row, and
// the metrics read its date in UTC.
var (
	calendarFirst = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	calendarLast  = time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)
)

// UpsertAccounts records the configured accounts: each is inserted, or its
// name and time zone are updated; accounts not named are left as they are
// (their data stays in the warehouse). It then makes sure time_zone_days
// holds every local day of each zone an account uses, computed from Go's
// time zone database, and drops the days of zones no account uses any more.
// A zone's days are rewritten only when they differ from what Go computes
// (a new zone, or changed daylight-saving rules), so calling UpsertAccounts
// on every open writes nothing when nothing changed. An unknown zone is an
// error naming the account, and nothing is written.
func (db *DB) UpsertAccounts(ctx context.Context, accounts []Account) error {
	zones := map[string]*time.Location{}
	for _, a := range accounts {
		if a.ID == "" {
			return fmt.Errorf("accounts: an account has no id")
		}
		loc, err := time.LoadLocation(a.TimeZone)
		if err != nil || a.TimeZone == "" {
			return fmt.Errorf("account %s: time zone %q: not an IANA zone", a.ID, a.TimeZone)
		}
		zones[a.TimeZone] = loc
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	defer tx.Rollback()
	now := time.Now().UTC()
	for _, a := range accounts {
		// Only a change is written, so an unchanged configuration leaves
		// updated_at (and the WAL) alone.
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (account_id, name, timezone, updated_at)
			SELECT $1, $2, $3, $4
			WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE account_id = $1
				AND name IS NOT DISTINCT FROM $2 AND timezone = $3)
			ON CONFLICT (account_id) DO UPDATE SET name = excluded.name, timezone = excluded.timezone,
				updated_at = excluded.updated_at`, a.ID, str(a.Name), a.TimeZone, now); err != nil {
			return fmt.Errorf("account %s: %w", a.ID, err)
		}
	}
	used, err := zonesInUse(ctx, tx)
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM time_zone_days WHERE timezone NOT IN (SELECT timezone FROM accounts)`); err != nil {
		return fmt.Errorf("time_zone_days: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	for _, zone := range used {
		loc, ok := zones[zone]
		if !ok {
			if loc, err = time.LoadLocation(zone); err != nil {
				continue // written by another tool; its days stay as they are
			}
		}
		if err := db.syncZoneDays(ctx, zone, loc); err != nil {
			return fmt.Errorf("time_zone_days %s: %w", zone, err)
		}
	}
	return nil
}

func zonesInUse(ctx context.Context, tx *sql.Tx) ([]string, error) {
	return values[string](ctx, tx, `SELECT DISTINCT timezone FROM accounts ORDER BY timezone`)
}

// syncZoneDays rewrites the zone's rows of time_zone_days unless they
// already hold what zoneDays computes (same count, same sum of start
// seconds, same last end). The caller holds writeMu.
func (db *DB) syncZoneDays(ctx context.Context, zone string, loc *time.Location) error {
	days := zoneDays(loc, calendarFirst, calendarLast)
	var sum int64
	for _, d := range days {
		sum += d.start.Unix()
	}
	var n, stored int64
	var lastEnd sql.NullTime
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*), coalesce(CAST(sum(epoch_us(starts_at) // 1000000) AS BIGINT), 0),
		max(ends_at) FROM time_zone_days WHERE timezone = ?`, zone).Scan(&n, &stored, &lastEnd); err != nil {
		return err
	}
	if n == int64(len(days)) && stored == sum && lastEnd.Valid && lastEnd.Time.Equal(days[len(days)-1].end) {
		return nil
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM time_zone_days WHERE timezone = ?`, zone); err != nil {
		return err
	}
	err = conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "time_zone_days")
		if err != nil {
			return err
		}
		for _, d := range days {
			if err := a.AppendRow(zone, d.date, d.start.UTC(), d.end.UTC()); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	})
	if err != nil {
		return err
	}
	return tx.Commit()
}

// zoneDay is one local calendar day of a zone: date (midnight UTC standing
// for the calendar date) and the instants [start, end) it covers.
type zoneDay struct {
	date, start, end time.Time
}

// zoneDays returns every local day of loc from first to last (calendar
// dates). A day starts at the first instant whose local date is that day
// or later, so a day whose midnight a daylight-saving change skips starts
// at the change, and a day a zone skipped altogether (Pacific/Apia,
// 2011-12-30) is empty: start equals end.
func zoneDays(loc *time.Location, first, last time.Time) []zoneDay {
	n := int(last.Sub(first).Hours()/24) + 1
	starts := make([]time.Time, n+1)
	for i := range starts {
		starts[i] = dayStart(loc, first.AddDate(0, 0, i))
	}
	days := make([]zoneDay, n)
	for i := range days {
		days[i] = zoneDay{date: first.AddDate(0, 0, i), start: starts[i], end: starts[i+1]}
	}
	return days
}

// dayStart returns the first instant whose date in loc is day (a UTC
// midnight standing for a calendar date) or later.
func dayStart(loc *time.Location, day time.Time) time.Time {
	atOrAfter := func(t time.Time) bool { return !civil(t, loc).Before(day) }
	// time.Date in loc is right except around a change at midnight, where
	// it may pick either side: check it is the boundary, else search for it.
	t := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
	if atOrAfter(t) && !atOrAfter(t.Add(-time.Second)) {
		return t
	}
	// Every zone is within UTC-12 and UTC+14, so the day starts between
	// 14 hours before and 12 hours after its UTC midnight.
	lo, hi := day.Add(-15*time.Hour).Unix(), day.Add(13*time.Hour).Unix()
	i := sort.Search(int(hi-lo), func(i int) bool { return atOrAfter(time.Unix(lo+int64(i), 0)) })
	return time.Unix(lo+int64(i), 0).UTC()
}

// civil returns t's calendar date in loc as a UTC midnight.
func civil(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
