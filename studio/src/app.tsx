import { useCallback, useMemo, useState } from 'react';
import { type Access, parseAccess } from './api/access.js';
import { clearSession, clientFor, readStoredAccess, readStoredKey } from './api/session.js';
import { StudioContext, studioOf } from './api/studio-context.js';
import { useToasts } from './components/toasts.js';
import { SignInPage } from './pages/sign-in.js';
import { Routes } from './routes.js';
import { Shell } from './shell.js';

interface Session {
  apiKey: string;
  access: Access;
}

function restored(): Session | null {
  const apiKey = readStoredKey();
  const access = parseAccess(readStoredAccess());
  return apiKey && access ? { apiKey, access } : null;
}

/**
 * The Studio: the sign-in page until a key is accepted, then the console. A key the API
 * stops accepting (revoked, expired) signs the tab out with a note.
 */
export function App() {
  const [session, setSession] = useState<Session | null>(restored);
  const [signedOutNote, setSignedOutNote] = useState<string | null>(null);
  const { notify, view: toasts } = useToasts();

  const signOut = useCallback((note?: string) => {
    clearSession();
    setSession(null);
    setSignedOutNote(note ?? null);
  }, []);

  const studio = useMemo(() => {
    if (!session) return null;
    const lk = clientFor(session.apiKey, () => signOut('Your API key is no longer accepted. Sign in again.'));
    return studioOf(lk, session.access, notify, () => signOut());
  }, [session, notify, signOut]);

  if (!studio) {
    return (
      <>
        <SignInPage
          note={signedOutNote}
          onSignedIn={(apiKey, access) => {
            setSignedOutNote(null);
            setSession({ apiKey, access });
          }}
        />
        {toasts}
      </>
    );
  }
  return (
    <StudioContext.Provider value={studio}>
      <Shell>
        <Routes />
      </Shell>
      {toasts}
    </StudioContext.Provider>
  );
}
