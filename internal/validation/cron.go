package validation

import (
	"fmt"
	"strconv"
	"strings"
)

type cronField struct {
	name     string
	min, max int
	names    map[string]int
	special  string // extra characters allowed: L, W, #
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31, special: "LW"},
	{name: "month", min: 1, max: 12, names: map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}},
	{name: "day of week", min: 0, max: 7, special: "L#", names: map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}},
}

// CheckCron validates a Workers cron trigger: five fields (minute hour day-of-month month
// day-of-week) with *, lists, ranges, steps, month and weekday names, and L, W, #.
func CheckCron(expr string) error {
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return fmt.Errorf("cron %q has %d fields: use five (minute hour day-of-month month day-of-week), e.g. \"*/15 * * * *\"", expr, len(fields))
	}
	for i, f := range fields {
		for _, part := range strings.Split(f, ",") {
			if err := cronFields[i].check(strings.ToUpper(part)); err != nil {
				return fmt.Errorf("cron %q: %s field %q: %v", expr, cronFields[i].name, f, err)
			}
		}
	}
	return nil
}

func (c cronField) value(s string) (int, error) {
	if n, ok := c.names[s]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < c.min || n > c.max {
		return 0, fmt.Errorf("%d is outside %d–%d", n, c.min, c.max)
	}
	return n, nil
}

func (c cronField) check(part string) error {
	if part == "" {
		return fmt.Errorf("empty list item")
	}
	base, step, hasStep := strings.Cut(part, "/")
	if hasStep {
		n, err := strconv.Atoi(step)
		if err != nil || n < 1 || n > c.max {
			return fmt.Errorf("step %q must be a number from 1 to %d", step, c.max)
		}
	}
	switch {
	case base == "*":
		return nil
	case c.special != "" && (base == "L" || base == "LW"):
		if strings.ContainsRune(c.special, 'L') {
			return nil
		}
	case strings.ContainsRune(c.special, 'W') && strings.HasSuffix(base, "W"):
		_, err := c.value(strings.TrimSuffix(base, "W"))
		return err
	case strings.ContainsRune(c.special, 'L') && strings.HasSuffix(base, "L") && len(base) > 1:
		_, err := c.value(strings.TrimSuffix(base, "L"))
		return err
	case strings.ContainsRune(c.special, '#') && strings.Contains(base, "#"):
		day, nth, _ := strings.Cut(base, "#")
		if _, err := c.value(day); err != nil {
			return err
		}
		if n, err := strconv.Atoi(nth); err != nil || n < 1 || n > 5 {
			return fmt.Errorf("%q: the week number after # must be 1 to 5", base)
		}
		return nil
	}
	from, to, isRange := strings.Cut(base, "-")
	lo, err := c.value(from)
	if err != nil {
		return err
	}
	if isRange {
		hi, err := c.value(to)
		if err != nil {
			return err
		}
		if hi < lo {
			return fmt.Errorf("range %q runs backwards", base)
		}
	}
	return nil
}
