import type { z } from 'zod';
import type { AnyContract, Contract } from '../../contracts/define.js';
import { ALL_CONTRACTS } from '../../contracts/index.js';
import * as modules from './contract-modules.js';

type Modules = typeof modules;

/** The exports of the contract modules that are contracts, by export name. */
type ContractExports = { [K in keyof Modules as Modules[K] extends Contract<infer _I, infer _O> ? K : never]: Modules[K] };

/** Method name of each operation: its contract's export name, camelCased (`createIntegration`). */
export type OperationName = Uncapitalize<Extract<keyof ContractExports, string>>;

/** The contract behind a method name. */
export type ContractOf<N extends OperationName> = ContractExports[Capitalize<N> & keyof ContractExports];

/** What an operation accepts: `z.input` of its input schema (defaults may be left out). */
export type OperationInput<C extends AnyContract> = z.input<C['io']['input']>;
/** What an operation returns: `z.output` of its output schema. */
export type OperationOutput<C extends AnyContract> = z.output<C['io']['output']>;

export const isContract = (value: unknown): value is AnyContract =>
  typeof value === 'object' &&
  value !== null &&
  ((value as AnyContract).kind === 'command' || (value as AnyContract).kind === 'query') &&
  typeof (value as AnyContract).meta?.key === 'string' &&
  typeof (value as AnyContract).http?.path === 'string';

const registered = new Set<AnyContract>(ALL_CONTRACTS);

/**
 * Method name → contract, for every exported contract that the server registers, sorted by
 * name. The table the client's methods are built from.
 */
export const OPERATIONS: ReadonlyMap<string, AnyContract> = new Map(
  Object.entries(modules as Record<string, unknown>)
    .filter((entry): entry is [string, AnyContract] => isContract(entry[1]) && registered.has(entry[1]))
    .map(([name, contract]): [string, AnyContract] => [name.charAt(0).toLowerCase() + name.slice(1), contract])
    .sort(([a], [b]) => a.localeCompare(b)),
);

const BY_KEY = new Map<string, AnyContract>(ALL_CONTRACTS.map((c) => [c.meta.key, c]));

/** The contract with this key (`integrations.integration.create`), if the server has it. */
export const contractByKey = (key: string): AnyContract | undefined => BY_KEY.get(key);

/** The client method name of a contract (`createIntegration`), if it has one. */
export function methodNameOf(contract: AnyContract): string | undefined {
  for (const [name, c] of OPERATIONS) if (c === contract) return name;
  return undefined;
}
