/** IPC messages between bench/list-page.ts and its server process (bench/lib/list-page-server.mjs). */
export type ListChildMessage =
  | { type: 'ready'; url: string; adminKey: string; pid: number }
  | { type: 'error'; message: string }
  | { type: 'stopped' }
  | { type: 'cpu'; user: number; system: number }
  | { type: 'rss'; rss: number; heapUsed: number; maxRss: number };

export type ListParentMessage = { type: 'stop' } | { type: 'cpu' } | { type: 'rss'; gc?: boolean };
