// Templates in step paths and bodies: {{input.<path>}}, {{steps.<step>.output[.<path>]}} and
// {{execution.id}}. A path is dot-separated names of letters, digits, "_" and "-"; a name of
// digits indexes an array. "\{{" is a literal "{{". The Go package implements the same grammar,
// rendering and messages; test/vectors/templates.json holds the cases both pass.
//
// Rendering:
//   - in a path, each template is replaced by its value (a string, number or boolean),
//     percent-encoded except for the unreserved characters A-Z a-z 0-9 - . _ ~;
//   - a body string that is exactly one template is replaced by the referenced JSON value,
//     whatever its type (objects and arrays are embedded, null stays null);
//   - any other body string is text: each template is replaced by its value (a string, number
//     or boolean), unencoded. Object keys are never templated.

const NAME = /^[A-Za-z0-9_-]+$/;
const INDEX = /^[0-9]+$/;

export class TemplateError extends Error {}

// quote shows a piece of a template in a message: at most 40 code points, JSON-quoted.
function quote(text) {
  const points = Array.from(text);
  return JSON.stringify(points.length > 40 ? points.slice(0, 40).join("") + "…" : text);
}

function trimBlank(s) {
  return s.replace(/^[ \t]+|[ \t]+$/g, "");
}

// parseTemplate splits text into literal strings and references. It throws a TemplateError for
// a syntax error.
export function parseTemplate(text) {
  const parts = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("\\{{", i)) {
      literal += "{{";
      i += 3;
      continue;
    }
    if (!text.startsWith("{{", i)) {
      literal += text[i];
      i++;
      continue;
    }
    const end = text.indexOf("}}", i + 2);
    if (end < 0) {
      throw new TemplateError(`unclosed template at ${quote(text.slice(i))}: close it with "}}" (write \\{{ for a literal "{{")`);
    }
    const inner = trimBlank(text.slice(i + 2, end));
    if (literal) parts.push(literal);
    literal = "";
    parts.push({ ref: parseReference(inner) });
    i = end + 2;
  }
  if (literal) parts.push(literal);
  return parts;
}

// parseReference parses what is between the braces.
function parseReference(inner) {
  const shown = `{{${inner}}}`;
  if (inner === "") throw new TemplateError(`empty template "{{}}": write a reference such as {{input.order_id}} or {{steps.<step>.output.id}}`);
  const names = inner.split(".");
  for (const name of names) {
    if (name === "") throw new TemplateError(`${shown} has an empty name: separate names with single dots`);
    if (!NAME.test(name)) throw new TemplateError(`${shown}: ${quote(name)} is not a valid name: use letters, digits, "_" and "-"`);
  }
  switch (names[0]) {
    case "input":
      return { root: "input", path: names.slice(1), text: inner };
    case "execution":
      if (names.length !== 2 || names[1] !== "id") throw new TemplateError(`${shown}: the only execution value is {{execution.id}}`);
      return { root: "execution", path: ["id"], text: inner };
    case "steps":
      if (names.length < 3 || names[2] !== "output") {
        const step = names[1] ?? "<step>";
        throw new TemplateError(`${shown}: write {{steps.${step}.output}} or {{steps.${step}.output.<field>}}`);
      }
      return { root: "steps", step: names[1], path: names.slice(3), text: inner };
    default:
      throw new TemplateError(`${shown}: a template starts with input, steps.<step>.output or execution.id`);
  }
}

// references lists the references of parsed parts.
export function references(parts) {
  return parts.filter((p) => typeof p !== "string").map((p) => p.ref);
}

function typeName(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  switch (typeof v) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    default:
      return "an object";
  }
}

// resolve looks a reference up in the render context {input, steps: {name: {output}}, execution:
// {id}}. It throws a TemplateError when the value is missing.
export function resolve(ref, context) {
  const shown = `{{${ref.text}}}`;
  let current;
  let where;
  if (ref.root === "input") {
    current = context.input;
    where = "input";
  } else if (ref.root === "execution") {
    return context.execution.id;
  } else {
    const done = context.steps[ref.step];
    if (!done) throw new TemplateError(`${shown}: step "${ref.step}" has no output (it has not completed)`);
    current = done.output;
    where = `steps.${ref.step}.output`;
  }
  for (const name of ref.path) {
    if (Array.isArray(current)) {
      if (!INDEX.test(name) || Number(name) >= current.length) {
        throw new TemplateError(`${shown}: ${where} has no element ${name} (it has ${current.length})`);
      }
      current = current[Number(name)];
    } else if (current !== null && typeof current === "object") {
      if (!Object.prototype.hasOwnProperty.call(current, name)) throw new TemplateError(`${shown}: ${where} has no field "${name}"`);
      current = current[name];
    } else {
      throw new TemplateError(`${shown}: ${where} is ${typeName(current)}, not an object or array`);
    }
    where += "." + name;
  }
  return current;
}

function scalarText(ref, value) {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      return String(value);
    case "boolean":
      return value ? "true" : "false";
  }
  throw new TemplateError(`{{${ref.text}}} is ${typeName(value)}: only strings, numbers and booleans can be placed in a path or in text (a body value that is exactly one template embeds any JSON value)`);
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

// encodePathValue percent-encodes the UTF-8 bytes of s except the unreserved characters.
export function encodePathValue(s) {
  let out = "";
  for (const ch of s) {
    if (UNRESERVED.test(ch)) {
      out += ch;
      continue;
    }
    for (const b of new TextEncoder().encode(ch)) out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

// renderPath renders a path template.
export function renderPath(text, context) {
  return parseTemplate(text)
    .map((p) => (typeof p === "string" ? p : encodePathValue(scalarText(p.ref, resolve(p.ref, context)))))
    .join("");
}

// renderText renders a body string that is not exactly one template.
function renderText(parts, context) {
  return parts.map((p) => (typeof p === "string" ? p : scalarText(p.ref, resolve(p.ref, context)))).join("");
}

// renderBody renders every string in a JSON body value.
export function renderBody(value, context) {
  if (typeof value === "string") {
    const parts = parseTemplate(value);
    if (parts.length === 1 && typeof parts[0] !== "string") return structuredClone(resolve(parts[0].ref, context));
    return renderText(parts, context);
  }
  if (Array.isArray(value)) return value.map((v) => renderBody(v, context));
  if (value !== null && typeof value === "object") {
    // Keys in sorted order, as the Go renderer does, so that the first error is the same.
    const out = {};
    for (const k of Object.keys(value).sort()) out[k] = renderBody(value[k], context);
    return out;
  }
  return value;
}

// bodyStrings calls fn(fieldSuffix, string) for every string in a body value, keys in sorted
// order so that validation messages come out in the same order in Go and JS.
export function bodyStrings(value, suffix, fn) {
  if (typeof value === "string") fn(suffix, value);
  else if (Array.isArray(value)) value.forEach((v, i) => bodyStrings(v, `${suffix}[${i}]`, fn));
  else if (value !== null && typeof value === "object") {
    for (const k of Object.keys(value).sort()) bodyStrings(value[k], suffix + fieldKey(k), fn);
  }
}

function fieldKey(k) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? "." + k : `[${JSON.stringify(k)}]`;
}
