import { Option } from 'commander';

/**
 * Operations whose output is a secret value the caller asked to see (not a once-shown
 * new key, which is the point of creating one). The CLI runs them only with
 * `--show-secrets`, so the values never land in a terminal, a scrollback or a CI log by
 * accident — and a refused command is refused before the server is called, so no reveal
 * is audited for output nobody saw.
 */
export const PRINTS_SECRET_VALUES: ReadonlyMap<string, string> = new Map([
  ['integrations.connection.reveal', 'prints the connection\'s credential values'],
  ['integrations.connection.token', 'prints a live access token'],
]);

export const SHOW_SECRETS_FLAG = 'show-secrets';

/** The `--show-secrets` option for an operation that prints secret values. */
export const showSecretsOption = (what: string): Option => new Option(`--${SHOW_SECRETS_FLAG}`, `required: this command ${what}; print them`);

/** The refusal without `--show-secrets`, naming the operation and never a value. */
export const showSecretsRequired = (key: string, what: string): string =>
  `${key} ${what}; pass --${SHOW_SECRETS_FLAG} to print it (the call is audited)`;
