/**
 * Reference docs generated from the contracts: one Markdown page per operation and an
 * index by owner and tag (`npm run docs` writes them into docs/reference/).
 */
export { exampleOf } from './examples.js';
export { type FieldRow, type JsonSchema, fieldsOf, jsonSchemaOf, typeOf } from './json-schema.js';
export { GENERATED_NOTICE, locationOf, renderOperationPage } from './operation-page.js';
export { renderReferenceIndex } from './reference-index.js';
export { renderStreamingPage, streamingBindingOf } from './streaming-page.js';
export { INDEX_FILE, type ReferenceDrift, hasDrift, referenceDrift, renderReference } from './reference.js';
