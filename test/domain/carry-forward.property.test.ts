/**
 * Carry-forward of write-only secrets (SPEC 2.2), checked by properties: the pure rule
 * against a reference model, then the live API against the same model, step by step,
 * down to the decrypted values in the secrets table.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carryForwardSecrets, hasSecretsMap } from '../../src/domain/carry-forward.js';
import { isMaskLike } from '../../src/domain/mask-detection.js';
import { type TestServer, startTestServer } from '../support/harness.js';

// ---------------------------------------------------------------------------------------
// Generators shared by both parts
// ---------------------------------------------------------------------------------------

/** Values a UI shows in place of a secret: a fixed list plus arbitrary runs of mask characters. */
const MASKS = [
  '********',
  '***',
  '••••••••',
  '●●●●',
  '····',
  '****abcd',
  '********1234',
  '__REDACTED__',
  '[REDACTED]',
  '<redacted>',
  'REDACTED',
  'redacted',
  '<hidden>',
  '[masked]',
  '__secret__',
  '<sensitive>',
  '[removed]',
  'xxxxxx',
  'XXXXXXXXXXXX',
  '######',
  '__n8n_blank_value_e5362baf-c777-4d57-a609-6eaf1f9e87f6',
  '***secret***',
  '  ********  ',
];
const maskArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...MASKS),
  fc
    .tuple(fc.constantFrom('*', '•', '●', '·'), fc.integer({ min: 3, max: 64 }), fc.string({ unit: fc.constantFrom(...'abcXYZ0189'), maxLength: 4 }))
    .map(([c, n, tail]) => c.repeat(n) + tail),
  fc.tuple(fc.integer({ min: 3, max: 12 }), fc.string({ maxLength: 16 }), fc.integer({ min: 3, max: 12 })).map(([a, mid, b]) => `${'*'.repeat(a)}${mid}${'*'.repeat(b)}`),
);

/** Real secret values: printable Unicode, raw bytes 0–255 (NUL and controls included), or long. */
const valueArb: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }),
    fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 24 }),
    fc.string({ minLength: 200, maxLength: 600 }),
  )
  .filter((v) => !isMaskLike(v));

type Choice = { k: 'omit' } | { k: 'null' } | { k: 'set'; v: string } | { k: 'mask'; v: string };
const choiceArb: fc.Arbitrary<Choice> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ k: 'omit' } as const) },
  { weight: 2, arbitrary: fc.constant({ k: 'null' } as const) },
  { weight: 4, arbitrary: valueArb.map((v) => ({ k: 'set', v }) as const) },
  { weight: 1, arbitrary: maskArb.map((v) => ({ k: 'mask', v }) as const) },
);

/** The wire form of a set of choices: omitted fields are absent. */
function wire(choices: Record<string, Choice>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [name, c] of Object.entries(choices)) {
    if (c.k === 'null') out[name] = null;
    else if (c.k === 'set' || c.k === 'mask') out[name] = c.v;
  }
  return out;
}

describe('mask generator', () => {
  it('only produces values the server must refuse', () => {
    fc.assert(fc.property(maskArb, (m) => isMaskLike(m)), { numRuns: 500 });
    for (const m of MASKS) expect(isMaskLike(m), m).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------
// (a) The pure rule against a reference model
// ---------------------------------------------------------------------------------------

describe('carryForwardSecrets (pure) against a reference model', () => {
  const NAMES = ['clientSecret', 'password', 'privateKey', 'passphrase', 'token', 'a', 'b'];
  const incomingArb = fc.option(
    fc.dictionary(
      fc.constantFrom(...NAMES),
      fc.oneof(fc.constant(null), fc.string({ minLength: 1, maxLength: 8 })),
      { maxKeys: NAMES.length },
    ),
    { nil: undefined },
  );

  it('omitted keeps, null deletes, a string replaces — over arbitrary sequences', () => {
    fc.assert(
      fc.property(fc.array(incomingArb, { maxLength: 20 }), (sequence) => {
        // Reference model: a plain map of values. The store: names plus applied plans.
        const model = new Map<string, string>();
        const stored = new Map<string, string>();
        for (const incoming of sequence) {
          const before = new Set(stored.keys());
          const plan = carryForwardSecrets(before, incoming);

          for (const [name, value] of Object.entries(incoming ?? {})) {
            if (value === null) model.delete(name);
            else model.set(name, value);
          }
          // The plan, applied the way SecretStore applies it.
          for (const [name, value] of Object.entries(plan.set)) stored.set(name, value);
          for (const name of plan.remove) stored.delete(name);

          expect(Object.fromEntries(stored)).toEqual(Object.fromEntries(model));
          expect([...plan.resulting].sort()).toEqual([...model.keys()].sort());
          // Removals only name what was stored; nothing is both set and removed.
          for (const name of plan.remove) expect(before.has(name)).toBe(true);
          expect(new Set(plan.remove).size).toBe(plan.remove.length);
          for (const name of plan.remove) expect(Object.hasOwn(plan.set, name)).toBe(false);
          // Omitted names are untouched.
          for (const name of before) {
            if (!incoming || !Object.hasOwn(incoming, name)) {
              expect(Object.hasOwn(plan.set, name)).toBe(false);
              expect(plan.remove).not.toContain(name);
            }
          }
          // The input set is never mutated.
          expect(before).toEqual(new Set(before));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('does not mutate the stored set it is given', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(...NAMES)), incomingArb, (names, incoming) => {
        const stored = new Set(names);
        const copy = new Set(names);
        carryForwardSecrets(stored, incoming);
        expect(stored).toEqual(copy);
      }),
    );
  });

  it('hasSecretsMap shows every declared field, true exactly when present', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(...NAMES)), fc.uniqueArray(fc.constantFrom(...NAMES)), (declared, present) => {
        const map = hasSecretsMap(declared, new Set(present));
        for (const name of declared) expect(map[name]).toBe(present.includes(name));
        for (const name of present) expect(map[name]).toBe(true);
        expect(Object.keys(map).sort()).toEqual([...new Set([...declared, ...present])].sort());
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------
// (b) Through the live API
// ---------------------------------------------------------------------------------------

describe('carry-forward through the live API', () => {
  let s: TestServer;
  let run = 0;
  beforeAll(async () => {
    s = await startTestServer({ config: { logLevel: 'warn' } });
    // Integrations the connection scenarios live under.
    const sftp = await s.request('POST', '/v1/integrations', { body: { key: 'sftp-keys', provider: 'sftp', displayName: 'SFTP', authMethod: 'key_file' } });
    expect(sftp.status, sftp.text).toBe(201);
    const ses = await s.request('POST', '/v1/integrations', { body: { key: 'ses', provider: 'aws_ses', displayName: 'SES', authMethod: 'custom' } });
    expect(ses.status, ses.text).toBe(201);
    const pg = await s.request('POST', '/v1/integrations', { body: { key: 'pg', provider: 'postgresql', displayName: 'PG', authMethod: 'basic' } });
    expect(pg.status, pg.text).toBe(201);
  });
  afterAll(async () => s?.close());

  const stored = (kind: 'integration' | 'connection', uid: string) => s.lk.services.secrets.read(s.lk.services.store.db, 'default', kind, uid);
  const rowsOf = async (uid: string) => s.lk.services.store.db.selectFrom('secrets').select('field').where('owner_uid', '=', uid).execute();

  // ---- integration: github, one secret (clientSecret, required with oauth2; none with pat) ----

  type AuthMethod = 'oauth2' | 'pat';
  type IntegrationOp =
    | { t: 'create'; authMethod: AuthMethod; secret: Choice; emptySecrets: boolean }
    | { t: 'patch'; secret: Choice; rename: boolean }
    | { t: 'put'; authMethod: AuthMethod; secret: Choice }
    | { t: 'delete' };
  const authArb = fc.constantFrom<AuthMethod>('oauth2', 'pat');
  const integrationOpArb: fc.Arbitrary<IntegrationOp> = fc.oneof(
    { weight: 2, arbitrary: fc.record({ t: fc.constant('create' as const), authMethod: authArb, secret: choiceArb, emptySecrets: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('patch' as const), secret: choiceArb, rename: fc.boolean() }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('put' as const), authMethod: authArb, secret: choiceArb }) },
    { weight: 1, arbitrary: fc.constant({ t: 'delete' as const }) },
  );

  interface IntegrationModel {
    exists: boolean;
    authMethod: AuthMethod;
    secret: string | undefined;
  }

  /** What the server must answer, and the state after. */
  function expectIntegration(m: IntegrationModel, op: IntegrationOp): { status: number; next: IntegrationModel } {
    const same = { ...m };
    const secretsFor = (authMethod: AuthMethod, c: Choice, carried: string | undefined): { ok: boolean; secret?: string | undefined } => {
      if (authMethod === 'pat') return c.k === 'omit' ? { ok: true, secret: undefined } : { ok: false };
      if (c.k === 'mask' || c.k === 'null') return { ok: false };
      if (c.k === 'set') return { ok: true, secret: c.v };
      return carried === undefined ? { ok: false } : { ok: true, secret: carried };
    };
    switch (op.t) {
      case 'create': {
        if (m.exists) return { status: 409, next: same };
        const r = secretsFor(op.authMethod, op.secret, undefined);
        return r.ok ? { status: 201, next: { exists: true, authMethod: op.authMethod, secret: r.secret } } : { status: 422, next: same };
      }
      case 'patch': {
        if (!m.exists) return { status: 404, next: same };
        const r = secretsFor(m.authMethod, op.secret, m.secret);
        return r.ok ? { status: 200, next: { ...m, secret: r.secret } } : { status: 422, next: same };
      }
      case 'put': {
        if (!m.exists) return { status: 404, next: same };
        // Stored secrets of the other auth method were dropped when it changed.
        const r = secretsFor(op.authMethod, op.secret, m.authMethod === 'oauth2' ? m.secret : undefined);
        return r.ok ? { status: 200, next: { exists: true, authMethod: op.authMethod, secret: r.secret } } : { status: 422, next: same };
      }
      case 'delete':
        return m.exists ? { status: 200, next: { exists: false, authMethod: 'oauth2', secret: undefined } } : { status: 404, next: same };
    }
  }

  const configFor = (authMethod: AuthMethod) => (authMethod === 'oauth2' ? { clientId: 'Iv1.property' } : {});

  it('integration secrets follow the model through create / PATCH / PUT / DELETE', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(integrationOpArb, { minLength: 1, maxLength: 10 }), async (ops) => {
        const key = `prop-int-${++run}`;
        let m: IntegrationModel = { exists: false, authMethod: 'oauth2', secret: undefined };
        let uid: string | undefined;
        const masks: string[] = [];
        for (const op of ops) {
          if ('secret' in op && op.secret.k === 'mask') masks.push(op.secret.v);
          const secrets = 'secret' in op ? wire({ clientSecret: op.secret }) : {};
          const hasSecretsField = Object.keys(secrets).length > 0 || (op.t === 'create' && op.emptySecrets);
          let res;
          switch (op.t) {
            case 'create':
              res = await s.request('POST', '/v1/integrations', {
                body: { key, provider: 'github', displayName: 'Prop', authMethod: op.authMethod, config: configFor(op.authMethod), ...(hasSecretsField ? { secrets } : {}) },
              });
              break;
            case 'patch':
              res = await s.request('PATCH', `/v1/integrations/${key}`, { body: { ...(op.rename ? { displayName: `Prop ${run}` } : {}), ...(hasSecretsField ? { secrets } : {}) } });
              break;
            case 'put':
              res = await s.request('PUT', `/v1/integrations/${key}`, {
                body: { provider: 'github', displayName: 'Prop put', authMethod: op.authMethod, config: configFor(op.authMethod), ...(hasSecretsField ? { secrets } : {}) },
              });
              break;
            case 'delete':
              res = await s.request('DELETE', `/v1/integrations/${key}`);
              break;
          }
          const expected = expectIntegration(m, op);
          expect(res.status, `${JSON.stringify(op)} on ${JSON.stringify(m)}: ${res.text}`).toBe(expected.status);
          m = expected.next;
          for (const mask of masks) expect(res.text).not.toContain(JSON.stringify(mask).slice(1, -1));

          const got = await s.request('GET', `/v1/integrations/${key}`);
          if (!m.exists) {
            expect(got.status).toBe(404);
            if (uid) expect(await rowsOf(uid)).toEqual([]);
            uid = undefined;
            continue;
          }
          expect(got.status, got.text).toBe(200);
          if (uid) expect(got.body.uid, 'uid is stable across updates').toBe(uid);
          uid = got.body.uid;
          const hasSecrets = m.authMethod === 'oauth2' ? { clientSecret: m.secret !== undefined } : {};
          expect(got.body.hasSecrets).toEqual(hasSecrets);
          expect(got.body.authMethod).toBe(m.authMethod);
          if (expected.status < 300 && op.t !== 'delete') expect(res.body.hasSecrets).toEqual(hasSecrets);
          expect(await stored('integration', uid!)).toEqual(m.secret === undefined ? {} : { clientSecret: m.secret });
        }
      }),
      { numRuns: 35 },
    );
  });

  // ---- connections: several credential fields (key_file, aws_sigv4, basic) ----

  interface ConnectionSpec {
    integration: string;
    type: 'key_file' | 'aws_sigv4' | 'basic';
    fields: { name: string; required: boolean }[];
    config: Record<string, unknown>;
  }
  const SPECS: ConnectionSpec[] = [
    {
      integration: 'sftp-keys',
      type: 'key_file',
      fields: [
        { name: 'username', required: true },
        { name: 'privateKey', required: true },
        { name: 'passphrase', required: false },
      ],
      config: { host: 'sftp.example.com' },
    },
    {
      integration: 'ses',
      type: 'aws_sigv4',
      fields: [
        { name: 'accessKeyId', required: true },
        { name: 'secretAccessKey', required: true },
        { name: 'sessionToken', required: false },
      ],
      config: { region: 'eu-west-1' },
    },
    {
      integration: 'pg',
      type: 'basic',
      fields: [
        { name: 'username', required: true },
        { name: 'password', required: false },
      ],
      config: { host: 'db.example.com', database: 'app' },
    },
  ];

  type ConnectionOp =
    | { t: 'create'; creds: Record<string, Choice>; withType: true }
    | { t: 'patch'; creds: Record<string, Choice> | null; withType: boolean; metadata: boolean }
    | { t: 'delete' };

  const credsArb = (spec: ConnectionSpec) => fc.record(Object.fromEntries(spec.fields.map((f) => [f.name, choiceArb])) as Record<string, fc.Arbitrary<Choice>>);
  const connectionOpArb = (spec: ConnectionSpec): fc.Arbitrary<ConnectionOp> =>
    fc.oneof(
      { weight: 2, arbitrary: fc.record({ t: fc.constant('create' as const), creds: credsArb(spec), withType: fc.constant(true as const) }) },
      {
        weight: 6,
        arbitrary: fc.record({ t: fc.constant('patch' as const), creds: fc.option(credsArb(spec), { nil: null, freq: 5 }), withType: fc.boolean(), metadata: fc.boolean() }),
      },
      { weight: 1, arbitrary: fc.constant({ t: 'delete' as const }) },
    );

  interface ConnectionModel {
    exists: boolean;
    values: Record<string, string>;
  }

  function expectConnection(spec: ConnectionSpec, m: ConnectionModel, op: ConnectionOp): { status: number; next: ConnectionModel } {
    const same = { exists: m.exists, values: { ...m.values } };
    if (op.t === 'delete') return m.exists ? { status: 200, next: { exists: false, values: {} } } : { status: 404, next: same };
    if (op.t === 'patch' && !m.exists) return { status: 404, next: same };
    const creds = op.creds ?? {};
    if (Object.values(creds).some((c) => c.k === 'mask')) return { status: 422, next: same };
    const values: Record<string, string> = op.t === 'create' ? {} : { ...m.values };
    for (const [name, c] of Object.entries(creds)) {
      if (c.k === 'null') delete values[name];
      if (c.k === 'set') values[name] = c.v;
    }
    if (spec.fields.some((f) => f.required && values[f.name] === undefined)) return { status: 422, next: same };
    if (op.t === 'create') return m.exists ? { status: 409, next: same } : { status: 201, next: { exists: true, values } };
    return { status: 200, next: { exists: true, values } };
  }

  it('connection credentials follow the model through create / PATCH / DELETE', async () => {
    const scenario = fc.constantFrom(...SPECS).chain((spec) => fc.tuple(fc.constant(spec), fc.array(connectionOpArb(spec), { minLength: 1, maxLength: 10 })));
    await fc.assert(
      fc.asyncProperty(scenario, async ([spec, ops]) => {
        const id = `prop-con-${++run}`;
        const base = `/v1/integrations/${spec.integration}/connections`;
        let m: ConnectionModel = { exists: false, values: {} };
        let uid: string | undefined;
        const masks: string[] = [];
        for (const op of ops) {
          let res;
          if (op.t !== 'delete') for (const c of Object.values(op.creds ?? {})) if (c.k === 'mask') masks.push(c.v);
          switch (op.t) {
            case 'create':
              res = await s.request('POST', base, { body: { id, config: spec.config, credentials: { type: spec.type, ...wire(op.creds) } } });
              break;
            case 'patch': {
              const body: Record<string, unknown> = {};
              if (op.metadata) body.metadata = { step: run };
              if (op.creds) body.credentials = { ...(op.withType ? { type: spec.type } : {}), ...wire(op.creds) };
              res = await s.request('PATCH', `${base}/${id}`, { body });
              break;
            }
            case 'delete':
              res = await s.request('DELETE', `${base}/${id}`);
              break;
          }
          const expected = expectConnection(spec, m, op);
          expect(res.status, `${JSON.stringify(op)} on ${JSON.stringify(m)}: ${res.text}`).toBe(expected.status);
          m = expected.next;
          for (const mask of masks) expect(res.text).not.toContain(JSON.stringify(mask).slice(1, -1));

          const got = await s.request('GET', `${base}/${id}`);
          if (!m.exists) {
            expect(got.status).toBe(404);
            if (uid) expect(await rowsOf(uid)).toEqual([]);
            uid = undefined;
            continue;
          }
          expect(got.status, got.text).toBe(200);
          if (uid) expect(got.body.uid, 'uid is stable across updates').toBe(uid);
          uid = got.body.uid;
          const hasSecrets = Object.fromEntries(spec.fields.map((f) => [f.name, m.values[f.name] !== undefined]));
          expect(got.body.credentials.type).toBe(spec.type);
          expect(got.body.credentials.hasSecrets).toEqual(hasSecrets);
          if (expected.status < 300 && op.t !== 'delete') expect(res.body.credentials.hasSecrets).toEqual(hasSecrets);
          expect(await stored('connection', uid!)).toEqual(m.values);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('mask-like values are refused with 422 on every write path and never stored', async () => {
    await fc.assert(
      fc.asyncProperty(maskArb, valueArb, async (mask, real) => {
        const key = `prop-mask-${++run}`;
        const escaped = JSON.stringify(mask).slice(1, -1);
        const create = await s.request('POST', '/v1/integrations', { body: { key, provider: 'github', displayName: 'M', config: { clientId: 'c' }, secrets: { clientSecret: mask } } });
        expect(create.status, create.text).toBe(422);
        expect(create.body.errors).toEqual([expect.objectContaining({ path: 'secrets.clientSecret' })]);
        expect(create.text).not.toContain(escaped);
        const ok = await s.request('POST', '/v1/integrations', { body: { key, provider: 'github', displayName: 'M', config: { clientId: 'c' }, secrets: { clientSecret: real } } });
        expect(ok.status, ok.text).toBe(201);
        for (const [method, body] of [
          ['PATCH', { secrets: { clientSecret: mask } }],
          ['PUT', { provider: 'github', displayName: 'M', config: { clientId: 'c' }, secrets: { clientSecret: mask } }],
        ] as const) {
          const res = await s.request(method, `/v1/integrations/${key}`, { body });
          expect(res.status, res.text).toBe(422);
          expect(res.text).not.toContain(escaped);
        }
        expect(await stored('integration', ok.body.uid)).toEqual({ clientSecret: real });

        const id = `mask-${run}`;
        const conCreate = await s.request('POST', '/v1/integrations/sftp-keys/connections', {
          body: { id, config: { host: 'h.example.com' }, credentials: { type: 'key_file', username: 'u', privateKey: mask } },
        });
        expect(conCreate.status, conCreate.text).toBe(422);
        expect(conCreate.text).not.toContain(escaped);
        const con = await s.request('POST', '/v1/integrations/sftp-keys/connections', {
          body: { id, config: { host: 'h.example.com' }, credentials: { type: 'key_file', username: 'u', privateKey: real } },
        });
        expect(con.status, con.text).toBe(201);
        const conPatch = await s.request('PATCH', `/v1/integrations/sftp-keys/connections/${id}`, { body: { credentials: { passphrase: mask } } });
        expect(conPatch.status, conPatch.text).toBe(422);
        expect(conPatch.text).not.toContain(escaped);
        expect(await stored('connection', con.body.uid)).toEqual({ username: 'u', privateKey: real });
      }),
      { numRuns: 15 },
    );
  });
});
