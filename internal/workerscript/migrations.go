package workerscript

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Class is a Durable Object class implemented by the script.
type Class struct {
	Name string
	// SQLite selects the SQLite storage backend (the default for new classes).
	SQLite bool
	// RenamedFrom names the class this one was called before; it applies only while that
	// class still exists on the platform.
	RenamedFrom string
}

// Rename is one renamed class.
type Rename struct{ From, To string }

// Migration is the change to the platform's set of classes.
type Migration struct {
	OldTag           string
	NewTag           string
	NewSQLiteClasses []string
	NewClasses       []string
	Renamed          []Rename
	Deleted          []string
}

// Summary describes the migration in one line, for plans and errors.
func (m *Migration) Summary() string {
	var parts []string
	if len(m.NewSQLiteClasses)+len(m.NewClasses) > 0 {
		parts = append(parts, "new "+strings.Join(append(append([]string{}, m.NewSQLiteClasses...), m.NewClasses...), ", "))
	}
	for _, r := range m.Renamed {
		parts = append(parts, "rename "+r.From+" → "+r.To)
	}
	if len(m.Deleted) > 0 {
		parts = append(parts, "delete "+strings.Join(m.Deleted, ", "))
	}
	return strings.Join(parts, "; ")
}

// Description names the migration with the tag it moves to, as the plan shows it, e.g.
// "v2: rename Ledger → Book (objects and data kept)".
func (m *Migration) Description() string {
	summary := m.Summary()
	if len(m.Renamed) > 0 {
		summary += " (objects and data kept)"
	}
	return m.NewTag + ": " + summary
}

// describeClasses lists the classes a service has, for messages.
func describeClasses(current map[string]bool) string {
	if len(current) == 0 {
		return "it has no Durable Object classes"
	}
	names := make([]string, 0, len(current))
	for n := range current {
		names = append(names, n)
	}
	sort.Strings(names)
	return "its classes: " + strings.Join(names, ", ")
}

// NextTag returns the tag after tag: v1, v2, … (a foreign tag gets a -1 suffix).
func NextTag(tag string) string {
	if tag == "" {
		return "v1"
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(tag, "v")); err == nil && strings.HasPrefix(tag, "v") {
		return "v" + strconv.Itoa(n+1)
	}
	return tag + "-1"
}

// PlanMigration computes the migration from the classes the platform has (current, with the
// script's migration tag) to the declared ones. It returns nil when nothing changes. Removing
// a class deletes its objects' data, so it is refused unless allowDelete.
func PlanMigration(current map[string]bool, currentTag string, desired []Class, allowDelete bool) (*Migration, error) {
	m := &Migration{OldTag: currentTag}
	declared := map[string]bool{}
	renamedAway := map[string]bool{}
	for _, c := range desired {
		declared[c.Name] = true
	}
	for _, c := range desired {
		sqlite, exists := current[c.Name]
		switch {
		case exists:
			if sqlite != c.SQLite {
				return nil, fmt.Errorf("durable object class %q already exists with %s storage: the storage backend of a class cannot change (declare a new class and migrate the data)", c.Name, backend(sqlite))
			}
		case c.RenamedFrom != "" && hasClass(current, c.RenamedFrom) && !declared[c.RenamedFrom]:
			if current[c.RenamedFrom] != c.SQLite {
				return nil, fmt.Errorf("durable object class %q is renamed from %q, which has %s storage: set sqlite = %t", c.Name, c.RenamedFrom, backend(current[c.RenamedFrom]), current[c.RenamedFrom])
			}
			m.Renamed = append(m.Renamed, Rename{From: c.RenamedFrom, To: c.Name})
			renamedAway[c.RenamedFrom] = true
		case c.RenamedFrom != "" && !hasClass(current, c.RenamedFrom):
			return nil, fmt.Errorf("durable object class %q has renamed_from = %q, but the service has no class %q (%s), so there is nothing to rename. "+
				"Remove renamed_from to create %q as a new class, or set it to the class being replaced", c.Name, c.RenamedFrom, c.RenamedFrom, describeClasses(current), c.Name)
		case c.SQLite:
			m.NewSQLiteClasses = append(m.NewSQLiteClasses, c.Name)
		default:
			m.NewClasses = append(m.NewClasses, c.Name)
		}
	}
	for name := range current {
		if !declared[name] && !renamedAway[name] {
			m.Deleted = append(m.Deleted, name)
		}
	}
	sort.Strings(m.NewSQLiteClasses)
	sort.Strings(m.NewClasses)
	sort.Strings(m.Deleted)
	sort.Slice(m.Renamed, func(i, j int) bool { return m.Renamed[i].To < m.Renamed[j].To })
	if len(m.Deleted) > 0 && !allowDelete {
		return nil, fmt.Errorf("durable object class(es) %s are no longer declared: removing a class deletes the data of all its objects. "+
			"Keep declaring the class, rename it with renamed_from, or set allow_delete = true to delete it and its data", strings.Join(m.Deleted, ", "))
	}
	if len(m.NewSQLiteClasses)+len(m.NewClasses)+len(m.Renamed)+len(m.Deleted) == 0 {
		return nil, nil
	}
	m.NewTag = NextTag(currentTag)
	return m, nil
}

func hasClass(classes map[string]bool, name string) bool {
	_, ok := classes[name]
	return ok
}

func backend(sqlite bool) string {
	if sqlite {
		return "SQLite"
	}
	return "key-value"
}
