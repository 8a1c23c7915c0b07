package workerscript

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// moduleNamespace is the esbuild namespace of the in-memory modules.
const moduleNamespace = "worker"

// SyntaxError is a JavaScript module that does not parse: the platform would reject the upload.
type SyntaxError struct {
	Module  string
	Line    int // 1-based
	Column  int // 1-based
	Message string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("module %s does not parse as JavaScript: line %d, column %d: %s", e.Module, e.Line, e.Column, e.Message)
}

// MissingModuleError is a relative import that names no module of the Worker.
type MissingModuleError struct {
	Importer, Specifier string
	Modules             []string
}

func (e *MissingModuleError) Error() string {
	return fmt.Sprintf("module %s imports %q, which is not among the modules (%s)", e.Importer, e.Specifier, strings.Join(e.Modules, ", "))
}

// isESModule reports whether a module is parsed as an ES module (.js, .mjs).
func isESModule(m Module) bool { return m.ContentType == "application/javascript+module" }

// CheckSyntax parses every JavaScript module (ES and CommonJS) and returns the first that
// does not parse, as a *SyntaxError.
func CheckSyntax(modules []Module) error {
	for _, m := range modules {
		if !strings.HasPrefix(m.ContentType, "application/javascript") {
			continue
		}
		format := api.FormatESModule
		if !isESModule(m) {
			format = api.FormatCommonJS
		}
		res := api.Transform(string(m.Content), api.TransformOptions{
			Loader: api.LoaderJS, Format: format, Sourcefile: m.Name, LogLevel: api.LogLevelSilent, Target: api.ESNext,
		})
		if len(res.Errors) > 0 {
			return syntaxError(m.Name, res.Errors[0])
		}
	}
	return nil
}

func syntaxError(module string, msg api.Message) error {
	e := &SyntaxError{Module: module, Message: msg.Text}
	if loc := msg.Location; loc != nil {
		e.Line, e.Column = loc.Line, loc.Column+1
		if loc.File != "" {
			e.Module = strings.TrimPrefix(loc.File, moduleNamespace+":")
		}
	}
	return e
}

// MainExports lists the names the main module exports, following re-exports through the
// Worker's other modules. known is false when that cannot be told: the main module is not
// an ES module, or it re-exports everything of a module the platform provides
// (cloudflare:*, node:*), whose names are not known here.
func MainExports(main string, modules []Module) (exports []string, known bool, err error) {
	byName := make(map[string]Module, len(modules))
	names := make([]string, 0, len(modules))
	for _, m := range modules {
		byName[m.Name] = m
		names = append(names, m.Name)
	}
	entry, ok := byName[main]
	if !ok || !isESModule(entry) {
		return nil, false, nil
	}
	var missing *MissingModuleError
	plugin := api.Plugin{Name: "worker-modules", Setup: func(b api.PluginBuild) {
		b.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
			if args.Kind == api.ResolveEntryPoint {
				return api.OnResolveResult{Path: args.Path, Namespace: moduleNamespace}, nil
			}
			name, relative := resolveSpecifier(args.Importer, args.Path)
			m, found := byName[name]
			switch {
			case found && strings.HasPrefix(m.ContentType, "application/javascript"):
				return api.OnResolveResult{Path: name, Namespace: moduleNamespace}, nil
			case found, !relative:
				// Text, data and Wasm modules, and what the platform provides, stay imports.
				return api.OnResolveResult{Path: args.Path, External: true}, nil
			default:
				if missing == nil {
					missing = &MissingModuleError{Importer: args.Importer, Specifier: args.Path, Modules: names}
				}
				return api.OnResolveResult{Path: args.Path, External: true}, nil
			}
		})
		b.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: moduleNamespace}, func(args api.OnLoadArgs) (api.OnLoadResult, error) {
			content := string(byName[args.Path].Content)
			return api.OnLoadResult{Contents: &content, Loader: api.LoaderJS}, nil
		})
	}}
	res := api.Build(api.BuildOptions{
		EntryPoints: []string{main}, Bundle: true, Write: false, Metafile: true, Outfile: "out.js",
		Format: api.FormatESModule, Platform: api.PlatformNeutral, Target: api.ESNext,
		LogLevel: api.LogLevelSilent, Plugins: []api.Plugin{plugin},
	})
	if len(res.Errors) > 0 {
		return nil, false, syntaxError(main, res.Errors[0])
	}
	if missing != nil {
		missing.Importer = strings.TrimPrefix(missing.Importer, moduleNamespace+":")
		return nil, false, missing
	}
	for _, f := range res.OutputFiles {
		if strings.Contains(string(f.Contents), "export * from") {
			return nil, false, nil
		}
	}
	var meta struct {
		Outputs map[string]struct {
			Exports []string `json:"exports"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(res.Metafile), &meta); err != nil {
		return nil, false, fmt.Errorf("reading esbuild's metafile: %w", err)
	}
	for _, out := range meta.Outputs {
		exports = append(exports, out.Exports...)
	}
	sort.Strings(exports)
	return exports, true, nil
}

// resolveSpecifier maps an import specifier to a module name the way the Workers runtime
// does: "./x" and "../x" are relative to the importing module; any other specifier names a
// module directly. relative reports which kind it was.
func resolveSpecifier(importer, spec string) (name string, relative bool) {
	if strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../") {
		importer = strings.TrimPrefix(importer, moduleNamespace+":")
		return path.Clean(path.Join(path.Dir(importer), spec)), true
	}
	return strings.TrimPrefix(spec, "/"), strings.HasPrefix(spec, "/")
}
