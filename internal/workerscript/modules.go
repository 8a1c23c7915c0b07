// Package workerscript is the pure core of the servicesdo_service resource: loading and
// hashing modules, checking them (JavaScript syntax, the main module's exports, compatibility
// flags), the create marker, and planning Durable Object migrations. No Terraform, no I/O
// beyond reading the module files the configuration names.
package workerscript

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Module is one file of a Worker.
type Module struct {
	Name        string
	ContentType string
	Content     []byte
}

// Hash is the module's content hash, what state keeps instead of the code.
func (m Module) Hash() string {
	sum := sha256.Sum256(m.Content)
	return hex.EncodeToString(sum[:])
}

// contentTypes maps module file extensions to the upload content type the platform expects.
var contentTypes = map[string]string{
	".js":   "application/javascript+module",
	".mjs":  "application/javascript+module",
	".cjs":  "application/javascript",
	".py":   "text/x-python",
	".wasm": "application/wasm",
	".txt":  "text/plain",
	".html": "text/plain",
	".sql":  "text/plain",
	".bin":  "application/octet-stream",
	".map":  "application/source-map",
}

// SupportedExtensions lists the module extensions, for messages and docs.
func SupportedExtensions() []string {
	exts := make([]string, 0, len(contentTypes))
	for e := range contentTypes {
		exts = append(exts, e)
	}
	sort.Strings(exts)
	return exts
}

// ContentType returns the upload content type of a module name.
func ContentType(name string) (string, error) {
	ct, ok := contentTypes[strings.ToLower(path.Ext(name))]
	if !ok {
		return "", fmt.Errorf("module %q has an unknown extension: use one of %s", name, strings.Join(SupportedExtensions(), ", "))
	}
	return ct, nil
}

// IsJavaScript reports whether a module can be a main module.
func IsJavaScript(m Module) bool {
	return strings.HasPrefix(m.ContentType, "application/javascript") || m.ContentType == "text/x-python"
}

// Sources are the configured code: a directory, files by module name, inline contents by
// module name. Later sources win on a name clash.
type Sources struct {
	Dir    string
	Files  map[string]string
	Inline map[string]string
}

// Load reads every module, sorted by name.
func (s Sources) Load() ([]Module, error) {
	byName := map[string]Module{}
	if s.Dir != "" {
		if err := loadDir(s.Dir, byName); err != nil {
			return nil, err
		}
	}
	for name, file := range s.Files {
		ct, err := ContentType(name)
		if err != nil {
			return nil, err
		}
		content, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("cannot read module %q from %s: %w", name, file, unwrapPathError(err))
		}
		byName[name] = Module{Name: name, ContentType: ct, Content: content}
	}
	for name, content := range s.Inline {
		ct, err := ContentType(name)
		if err != nil {
			return nil, err
		}
		byName[name] = Module{Name: name, ContentType: ct, Content: []byte(content)}
	}
	modules := make([]Module, 0, len(byName))
	for _, m := range byName {
		modules = append(modules, m)
	}
	sort.Slice(modules, func(i, j int) bool { return modules[i].Name < modules[j].Name })
	return modules, nil
}

// unwrapPathError drops the path from an *fs.PathError: messages name the file themselves.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// loadDir adds every module file under dir (by extension), named by its slash-separated path
// relative to dir. Hidden entries and node_modules are skipped; other files (README.md,
// package.json) are not modules and are ignored.
func loadDir(dir string, into map[string]Module) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("cannot read source_dir %s: %w", dir, unwrapPathError(err))
	}
	if !info.IsDir() {
		return fmt.Errorf("source_dir %s is not a directory", dir)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := d.Name()
		if p != dir && (strings.HasPrefix(base, ".") || base == "node_modules") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		ct, isModule := contentTypes[strings.ToLower(path.Ext(base))]
		if !isModule {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		content, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		into[name] = Module{Name: name, ContentType: ct, Content: content}
		return nil
	})
}

// Hashes maps module names to content hashes.
func Hashes(modules []Module) map[string]string {
	out := make(map[string]string, len(modules))
	for _, m := range modules {
		out[m.Name] = m.Hash()
	}
	return out
}

// CheckMain verifies that main is one of the modules and is JavaScript (or Python).
func CheckMain(main string, modules []Module) error {
	names := make([]string, 0, len(modules))
	for _, m := range modules {
		if m.Name == main {
			if !IsJavaScript(m) {
				return fmt.Errorf("main_module %q is a %s module: the main module must be JavaScript (.js, .mjs, .cjs) or Python", main, m.ContentType)
			}
			return nil
		}
		names = append(names, m.Name)
	}
	if len(names) == 0 {
		return fmt.Errorf("main_module %q: the configuration has no modules (set modules, inline_modules or source_dir)", main)
	}
	return fmt.Errorf("main_module %q is not among the modules (%s): name one of them", main, strings.Join(names, ", "))
}
