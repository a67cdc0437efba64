package applicantstack

import (
	"fmt"
	"strings"
	"time"
)

// Layouts of the dates the API sends. Display dates are in the account's
// local time zone; "… Timestamp" fields are Unix seconds; webhook "Event
// Date" is ISO-8601 with the account's offset.
const (
	DisplayTimeLayout = "01/02/2006 03:04 PM"
	DisplayDateLayout = "01/02/2006"
)

// ParseDisplayTime parses a display date such as "04/24/2020 10:30 AM" or
// "04/24/2020" in loc and returns it in UTC. An empty string returns the
// zero time and no error. Single-digit months, days and hours, lowercase
// am/pm and seconds are accepted, as hand-edited tenants send them.
func ParseDisplayTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return time.Time{}, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	for _, layout := range displayLayouts {
		if t, err := time.ParseInLocation(layout, strings.ToUpper(s), loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q is not MM/DD/YYYY [hh:mm AM]", truncate(s, 40))
}

var displayLayouts = []string{
	"01/02/2006 03:04 PM",
	"1/2/2006 3:04 PM",
	"01/02/2006 03:04:05 PM",
	"1/2/2006 3:04:05 PM",
	"01/02/2006 15:04",
	"1/2/2006 15:04",
	"01/02/2006",
	"1/2/2006",
	"2006-01-02",
}

// ParseDate parses a date-only field ("06/09/2020") as a calendar date
// (midnight UTC of that day, no zone shift). Empty returns the zero time.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"01/02/2006", "1/2/2006", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q is not MM/DD/YYYY", truncate(s, 40))
}

// Time returns the epoch as a UTC time, or the zero time when e is zero.
func (e Epoch) Time() time.Time {
	if e == 0 {
		return time.Time{}
	}
	return time.Unix(int64(e), 0).UTC()
}

// ParseEventDate parses a webhook "Event Date" such as
// "2018-04-05T13:03:46-04:00" and returns it in UTC. A date without an
// offset is read in loc.
func ParseEventDate(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("event date is empty")
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	if t, err := ParseDisplayTime(s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("event date %q is not ISO-8601", truncate(s, 40))
}
