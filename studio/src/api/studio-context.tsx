import { createContext, useContext } from 'react';
import type { Latchkey } from '../../../src/surfaces/client/index.js';
import type { PolicyKey } from '../../../src/contracts/policies.js';
import { type Access, can } from './access.js';

export type ToastTone = 'success' | 'error' | 'info';

/** What every page of a signed-in Studio gets: the client, the key's access, notifications. */
export interface Studio {
  lk: Latchkey;
  access: Access;
  can(policy: PolicyKey): boolean;
  notify(message: string, tone?: ToastTone): void;
  signOut(): void;
}

export const StudioContext = createContext<Studio | null>(null);

export function useStudio(): Studio {
  const studio = useContext(StudioContext);
  if (!studio) throw new Error('useStudio outside a signed-in Studio');
  return studio;
}

export const studioOf = (lk: Latchkey, access: Access, notify: Studio['notify'], signOut: () => void): Studio => ({
  lk,
  access,
  can: (policy) => can(access, policy),
  notify,
  signOut,
});
