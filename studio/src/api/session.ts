import { Latchkey } from '../../../src/surfaces/client/index.js';

/**
 * The signed-in session: the API key and what it may do. Both live in this tab's
 * sessionStorage only (never localStorage, never a cookie) and are removed on sign-out.
 * The access profile is not secret; keeping it saves re-probing the API on every reload.
 */
const KEY_ITEM = 'latchkey.studio.apiKey';
const ACCESS_ITEM = 'latchkey.studio.access';

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the session lasts as long as the page
  }
}

export function readStoredKey(): string | null {
  return storage()?.getItem(KEY_ITEM) ?? null;
}

export function readStoredAccess(): string | null {
  return storage()?.getItem(ACCESS_ITEM) ?? null;
}

export function storeSession(apiKey: string, access: string): void {
  storage()?.setItem(KEY_ITEM, apiKey);
  storage()?.setItem(ACCESS_ITEM, access);
}

export function clearSession(): void {
  storage()?.removeItem(KEY_ITEM);
  storage()?.removeItem(ACCESS_ITEM);
}

/**
 * A typed client for this page's own origin (`baseUrl: ''`), authenticated with the key.
 * `onUnauthorized` runs when the API answers 401 (the key was revoked or has expired).
 */
export function clientFor(apiKey: string, onUnauthorized?: () => void): Latchkey {
  return new Latchkey({
    baseUrl: '',
    apiKey,
    fetch: async (input, init) => {
      const response = await window.fetch(input, { ...init, credentials: 'omit', cache: 'no-store' });
      if (response.status === 401) onUnauthorized?.();
      return response;
    },
  });
}
