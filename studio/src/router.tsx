import { type AnchorHTMLAttributes, type MouseEvent, createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';

/** Where the Studio is mounted; every route is under it (the server falls back to index.html). */
export const BASE = '/studio';

export interface Location {
  /** Path below BASE, always starting with `/` (`/integrations/github-prod`). */
  path: string;
  query: URLSearchParams;
}

const current = (): Location => {
  const raw = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : window.location.pathname;
  return { path: raw === '' ? '/' : raw, query: new URLSearchParams(window.location.search) };
};

const RouterContext = createContext<{ location: Location; navigate: (to: string, opts?: { replace?: boolean }) => void } | null>(null);

/** A tiny history router: the Studio has a dozen routes and needs no more than this. */
export function Router({ children }: { children: React.ReactNode }) {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const onPop = () => setLocation(current());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((to: string, opts: { replace?: boolean } = {}) => {
    const url = `${BASE}${to === '/' ? '/' : to}`;
    if (opts.replace) window.history.replaceState(null, '', url);
    else window.history.pushState(null, '', url);
    setLocation(current());
    window.scrollTo(0, 0);
  }, []);
  const value = useMemo(() => ({ location, navigate }), [location, navigate]);
  return <RouterContext.Provider value={value}>{children}</RouterContext.Provider>;
}

export function useRouter() {
  const value = useContext(RouterContext);
  if (!value) throw new Error('useRouter outside <Router>');
  return value;
}

/**
 * Matches a path against a pattern with `:name` segments; returns the decoded parameters
 * or null.
 */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const h = have[i]!;
    if (w.startsWith(':')) {
      try {
        params[w.slice(1)] = decodeURIComponent(h);
      } catch {
        return null;
      }
    } else if (w !== h) return null;
  }
  return params;
}

/** Builds a path from segments, encoding each (`pathOf('integrations', key)`). */
export const pathOf = (...segments: string[]): string => `/${segments.map(encodeURIComponent).join('/')}`;

/** An in-app link: a real `<a href>` (open in new tab works), navigated without a reload. */
export function Link({ to, children, ...rest }: { to: string } & Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'>) {
  const { navigate } = useRouter();
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    rest.onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a {...rest} href={`${BASE}${to}`} onClick={onClick}>
      {children}
    </a>
  );
}
