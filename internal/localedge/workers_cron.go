package localedge

import (
	"fmt"
	"strconv"
	"strings"
)

// maxCronTriggers bounds one Worker's cron triggers (Cloudflare's paid-plan account limit).
const maxCronTriggers = 250

type cronField struct {
	name     string
	min, max int
	names    map[string]int
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}},
	{name: "day of week", min: 0, max: 7, names: map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}},
}

// validateCron checks a five-field cron expression as Cloudflare's cron triggers accept it:
// lists, ranges, steps, month and weekday names, and the L, W and # forms of the day fields.
func validateCron(expr string) error {
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return fmt.Errorf("expected 5 fields (minute hour day-of-month month day-of-week), got %d", len(fields))
	}
	for i, f := range fields {
		for _, item := range strings.Split(f, ",") {
			if err := cronFields[i].check(strings.ToUpper(item)); err != nil {
				return fmt.Errorf("%s field %q: %v", cronFields[i].name, f, err)
			}
		}
	}
	return nil
}

func (c cronField) check(item string) error {
	if item == "" {
		return fmt.Errorf("empty list item")
	}
	dom, dow := c.name == "day of month", c.name == "day of week"
	switch {
	case item == "?" && (dom || dow):
		return nil
	case dom && (item == "L" || item == "LW"):
		return nil
	case dom && strings.HasSuffix(item, "W"):
		_, err := c.value(strings.TrimSuffix(item, "W"))
		return err
	case dow && strings.HasSuffix(item, "L") && len(item) > 1:
		_, err := c.value(strings.TrimSuffix(item, "L"))
		return err
	case dow && strings.Contains(item, "#"):
		day, nth, _ := strings.Cut(item, "#")
		if _, err := c.value(day); err != nil {
			return err
		}
		if n, err := strconv.Atoi(nth); err != nil || n < 1 || n > 5 {
			return fmt.Errorf("%q: the occurrence after # must be 1-5", item)
		}
		return nil
	}
	base, step, hasStep := strings.Cut(item, "/")
	if hasStep {
		n, err := strconv.Atoi(step)
		if err != nil || n < 1 || n > c.max {
			return fmt.Errorf("%q: step must be between 1 and %d", item, c.max)
		}
	}
	if base == "*" {
		return nil
	}
	lo, hi, isRange := strings.Cut(base, "-")
	from, err := c.value(lo)
	if err != nil {
		return err
	}
	if isRange {
		to, err := c.value(hi)
		if err != nil {
			return err
		}
		if to < from {
			return fmt.Errorf("%q: range end is before its start", item)
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
		return 0, fmt.Errorf("%d is out of range %d-%d", n, c.min, c.max)
	}
	return n, nil
}
