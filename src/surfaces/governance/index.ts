/**
 * Contract governance: a committed snapshot of every contract's promise (version,
 * stability, HTTP binding with header fields and Idempotency-Key, policies, input and
 * output JSON Schemas; for streaming operations their methods, path, policies and input)
 * and the pure comparison `npm run contracts:check` runs against the registry.
 */
export { type ComparisonReport, type ContractChange, type Violation, compareSnapshots, diffContract, diffStreamingContract, formatReport, parseSemver } from './compare.js';
export { type SchemaChange, type Severity, type Side, diffSchemas } from './schema-diff.js';
export { type ContractSnapshot, type RegistrySnapshot, type StreamingSnapshot, contractSnapshotOf, parseSnapshot, serializeSnapshot, snapshotOf, streamingSnapshotOf } from './snapshot.js';
