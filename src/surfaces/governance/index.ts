/**
 * Contract governance: a committed snapshot of every contract's promise (version,
 * stability, HTTP binding, policies, input and output JSON Schemas) and the pure
 * comparison `npm run contracts:check` runs against the registry.
 */
export { type ComparisonReport, type ContractChange, type Violation, compareSnapshots, diffContract, formatReport, parseSemver } from './compare.js';
export { type SchemaChange, type Severity, type Side, diffSchemas } from './schema-diff.js';
export { type ContractSnapshot, type RegistrySnapshot, contractSnapshotOf, parseSnapshot, serializeSnapshot, snapshotOf } from './snapshot.js';
