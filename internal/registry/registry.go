// Package registry is the versioned contract of the services.do service
// registry stored in Workers KV. Terraform writes entries; Terraform data
// sources and Workers (at run time) read them.
//
// Each entry lives under the key "service:<name>:<version>". Its value is the
// JSON document described by entry.v1.schema.json (see [EntrySchema]) and its
// KV metadata is a [Summary], small enough to list and filter entries without
// reading their values.
//
// Two writers share an entry. Terraform owns the document and rewrites it
// whole; a monitor Worker owns one field, health_status (a [HealthStatus],
// mirrored as a [HealthSummary] in the KV metadata), and updates it by
// read-modify-write, leaving every other field as it found it. health_status
// is an additive revision of schema version 1: readers that predate it ignore
// it, as every v1 reader must ignore fields it does not know, so
// $schema_version stays 1.
package registry

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
)

// SchemaVersion is the "$schema_version" of documents this code writes.
const SchemaVersion = 1

// KeyPrefix starts every registry entry key.
const KeyPrefix = "service:"

// MaxMetadataBytes is the Workers KV limit on the serialized JSON metadata of a key.
const MaxMetadataBytes = 1024

// EntryType is the "$type" of every registry entry.
const EntryType = "Service"

// NamePattern is what a registry (service) name must match.
var NamePattern = lazyregexp.New(`^[A-Za-z][A-Za-z0-9_.-]{0,62}$`)

// EntrySchema is the JSON Schema (draft 2020-12) of the value document.
//
//go:embed entry.v1.schema.json
var EntrySchema []byte

// Key returns the KV key of an entry: "service:<name>:<version>".
func Key(name, version string) string {
	return KeyPrefix + name + ":" + version
}

// ParseKey splits a key made by Key. ok is false when key is not a registry
// entry key (wrong prefix, invalid name or empty version).
func ParseKey(key string) (name, version string, ok bool) {
	rest, found := strings.CutPrefix(key, KeyPrefix)
	if !found {
		return "", "", false
	}
	name, version, found = strings.Cut(rest, ":")
	if !found || !NamePattern.MatchString(name) || version == "" || strings.Contains(version, ":") {
		return "", "", false
	}
	return name, version, true
}

// DefaultTypeID is the "$id" of a service when none is given.
func DefaultTypeID(name string) string {
	return "https://services.do/" + name
}

// CheckName reports whether name is a valid registry name.
func CheckName(name string) error {
	if NamePattern.MatchString(name) {
		return nil
	}
	return fmt.Errorf(`%q is not a valid registry name: use a letter followed by up to 62 letters, digits, '_', '.' or '-' (e.g. "UserService")`, name)
}

// CheckEndpoint reports whether u is an absolute http(s) URL with a host.
func CheckEndpoint(u string) error {
	bad := fmt.Errorf(`endpoint %q must be an absolute http(s) URL such as "https://users.example.com"`, u)
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return bad
	}
	if strings.ContainsAny(u, " \t\r\n") {
		return bad
	}
	p, err := url.Parse(u)
	if err != nil || !p.IsAbs() || p.Opaque != "" || p.Hostname() == "" {
		return bad
	}
	return nil
}

// Health describes how to probe a service (Terraform's configuration; the
// result of probing is HealthStatus).
type Health struct {
	Path         string `json:"path"`
	ExpectStatus int64  `json:"expect_status,omitempty"`
	Timeout      string `json:"timeout,omitempty"`
}

// Entry is the value document of a registry entry.
type Entry struct {
	ID            string            `json:"$id"`
	Type          string            `json:"$type"` // always "Service"
	SchemaVersion int               `json:"$schema_version"`
	Name          string            `json:"name"`
	Version       string            `json:"version"`
	Service       string            `json:"service,omitempty"`
	Endpoint      string            `json:"endpoint,omitempty"`
	Schema        string            `json:"schema,omitempty"`
	Dependencies  []string          `json:"dependencies,omitempty"`
	Health        *Health           `json:"health,omitempty"`
	HealthStatus  *HealthStatus     `json:"health_status,omitempty"`
	Tags          []string          `json:"tags,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	Details       map[string]string `json:"details,omitempty"`
	Description   string            `json:"description,omitempty"`
	UpdatedAt     string            `json:"updated_at"`
}

// Summary is the KV metadata of an entry: enough to list and filter without reading values.
type Summary struct {
	ID       string            `json:"$id"`
	Type     string            `json:"$type"`
	Name     string            `json:"name"`
	Version  string            `json:"version"`
	Service  string            `json:"service,omitempty"`
	Endpoint string            `json:"endpoint,omitempty"`
	Schema   string            `json:"schema,omitempty"`
	Tags     []string          `json:"tags,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// HealthStatus is the monitor's verdict, so discovery can skip unhealthy
	// services from a listing alone.
	HealthStatus *HealthSummary `json:"health_status,omitempty"`
}

// Summary returns the KV metadata of e. Empty $id and $type get the same
// defaults as Encode.
func (e Entry) Summary() Summary {
	e = e.withDefaults()
	return Summary{
		ID:           e.ID,
		Type:         e.Type,
		Name:         e.Name,
		Version:      e.Version,
		Service:      e.Service,
		Endpoint:     e.Endpoint,
		Schema:       e.Schema,
		Tags:         cloneStrings(e.Tags),
		Metadata:     cloneMap(e.Metadata),
		HealthStatus: e.HealthStatus.Summary(),
	}
}

// EncodeSummary serializes s as KV metadata, failing when it is over
// MaxMetadataBytes. A summary without a health status must leave room for the
// largest one a monitor writes (MaxHealthSummary), so that recording health
// never pushes a key over the limit: such a summary is measured as if it had it.
func EncodeSummary(s Summary) ([]byte, error) {
	b, err := marshal(s)
	if err != nil {
		return nil, err
	}
	size := func(s Summary) int {
		if s.HealthStatus == nil {
			s.HealthStatus = &MaxHealthSummary
		}
		m, _ := marshal(s)
		return len(m)
	}
	n := size(s)
	if n <= MaxMetadataBytes {
		return b, nil
	}
	prefix := fmt.Sprintf("registry entry metadata is %d bytes, over Workers KV's %d-byte metadata limit", n, MaxMetadataBytes)
	if s.HealthStatus == nil {
		prefix = fmt.Sprintf("registry entry metadata is %d bytes with room for the monitor's health status, over Workers KV's %d-byte metadata limit", n, MaxMetadataBytes)
	}

	type field struct {
		key  string
		size int
	}
	fields := make([]field, 0, len(s.Metadata))
	for k, v := range s.Metadata {
		kb, _ := marshal(k)
		vb, _ := marshal(v)
		fields = append(fields, field{k, len(kb) + 1 + len(vb)})
	}
	sort.Slice(fields, func(i, j int) bool {
		if fields[i].size != fields[j].size {
			return fields[i].size > fields[j].size
		}
		return fields[i].key < fields[j].key
	})
	trial := s
	trial.Metadata = cloneMap(s.Metadata)
	var moved []string
	fits := false
	for _, f := range fields {
		delete(trial.Metadata, f.key)
		moved = append(moved, fmt.Sprintf("%s: %d bytes", f.key, f.size))
		if size(trial) <= MaxMetadataBytes {
			fits = true
			break
		}
	}
	switch {
	case fits:
		return nil, fmt.Errorf("%s: move the largest metadata fields (%s) into details, which is kept in the value only", prefix, strings.Join(moved, ", "))
	case len(moved) > 0:
		return nil, fmt.Errorf("%s: move the metadata fields (%s) into details, which is kept in the value only, and shorten the tags, endpoint or schema", prefix, strings.Join(moved, ", "))
	default:
		return nil, fmt.Errorf("%s: shorten the tags, endpoint or schema", prefix)
	}
}

var (
	durationPattern  = lazyregexp.New(`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`)
	timestampPattern = lazyregexp.New(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`)
	absURIPattern    = lazyregexp.New(`^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$`)
)

func (e Entry) withDefaults() Entry {
	if e.Type == "" {
		e.Type = EntryType
	}
	if e.SchemaVersion == 0 {
		e.SchemaVersion = SchemaVersion
	}
	if e.ID == "" && e.Name != "" {
		e.ID = DefaultTypeID(e.Name)
	}
	return e
}

// Encode validates e and serializes it as the KV value (fields in the
// declared order, map keys sorted). An empty $id, $type or $schema_version
// gets its default (DefaultTypeID(Name), "Service", SchemaVersion).
// UpdatedAt must be set (RFC 3339); Version must be a semantic version
// written without a leading "v".
func (e Entry) Encode() ([]byte, error) {
	e = e.withDefaults()
	if err := e.validate(); err != nil {
		return nil, err
	}
	return marshal(e)
}

func (e Entry) validate() error {
	if e.Type != EntryType {
		return fmt.Errorf(`registry entry $type is %q, want %q`, e.Type, EntryType)
	}
	if e.SchemaVersion != SchemaVersion {
		return fmt.Errorf("registry entry $schema_version is %d, but this code writes version %d", e.SchemaVersion, SchemaVersion)
	}
	if err := CheckName(e.Name); err != nil {
		return err
	}
	if !absURIPattern.MatchString(e.ID) {
		return fmt.Errorf(`registry entry $id %q must be an absolute URI such as %q`, e.ID, DefaultTypeID(e.Name))
	}
	v, err := ParseVersion(e.Version)
	if err != nil {
		return err
	}
	if v.String() != e.Version {
		return fmt.Errorf("registry entry version %q must be written as %q", e.Version, v.String())
	}
	if e.Endpoint != "" {
		if err := CheckEndpoint(e.Endpoint); err != nil {
			return err
		}
	}
	for _, d := range e.Dependencies {
		if d == "" {
			return errors.New("registry entry dependencies must not contain empty strings")
		}
	}
	for _, t := range e.Tags {
		if t == "" {
			return errors.New("registry entry tags must not contain empty strings")
		}
	}
	if h := e.Health; h != nil {
		if !strings.HasPrefix(h.Path, "/") {
			return fmt.Errorf(`health path %q must start with "/" (e.g. "/health")`, h.Path)
		}
		if h.ExpectStatus != 0 && (h.ExpectStatus < 100 || h.ExpectStatus > 599) {
			return fmt.Errorf("health expect_status %d must be an HTTP status code between 100 and 599", h.ExpectStatus)
		}
		if h.Timeout != "" && !durationPattern.MatchString(h.Timeout) {
			return fmt.Errorf(`health timeout %q must be a duration such as "5s" or "500ms"`, h.Timeout)
		}
	}
	if h := e.HealthStatus; h != nil {
		if err := h.validate(); err != nil {
			return err
		}
	}
	if !timestampPattern.MatchString(e.UpdatedAt) {
		return fmt.Errorf(`registry entry updated_at %q must be an RFC 3339 timestamp such as "2024-05-01T12:00:00Z"`, e.UpdatedAt)
	}
	if _, err := time.Parse(time.RFC3339Nano, e.UpdatedAt); err != nil {
		return fmt.Errorf(`registry entry updated_at %q must be an RFC 3339 timestamp such as "2024-05-01T12:00:00Z"`, e.UpdatedAt)
	}
	return nil
}

// Decode parses a KV value. It rejects documents of a newer
// $schema_version than this code understands, and documents that are not
// registry entries.
func Decode(raw []byte) (Entry, error) {
	var head struct {
		SchemaVersion *json.Number `json:"$schema_version"`
		Type          *string      `json:"$type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Entry{}, fmt.Errorf("registry entry is not valid JSON: %w", err)
	}
	if head.SchemaVersion == nil {
		return Entry{}, errors.New("registry entry has no $schema_version: it was not written by the registry")
	}
	sv, err := head.SchemaVersion.Int64()
	if err != nil || sv < 1 {
		return Entry{}, fmt.Errorf("registry entry has an invalid $schema_version %s", head.SchemaVersion.String())
	}
	if sv > SchemaVersion {
		return Entry{}, fmt.Errorf("registry entry has $schema_version %d, but this code only understands up to version %d: upgrade the provider (or Worker) reading it", sv, SchemaVersion)
	}
	if head.Type == nil || *head.Type != EntryType {
		got := "<missing>"
		if head.Type != nil {
			got = fmt.Sprintf("%q", *head.Type)
		}
		return Entry{}, fmt.Errorf(`registry entry $type is %s, want %q`, got, EntryType)
	}
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return Entry{}, fmt.Errorf("registry entry does not match schema version %d: %w", sv, err)
	}
	if e.Name == "" || e.Version == "" {
		return Entry{}, errors.New("registry entry is missing its name or version")
	}
	return e, nil
}

// marshal is json.Marshal without HTML escaping (so "&" in URLs stays one byte).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
