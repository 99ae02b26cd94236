import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * The one logger. Credentials never reach it by design; redaction is the second line of
 * defence for anything that carries a key in a header or a secret-named field.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.secrets',
  '*.credentials',
  '*.password',
  '*.clientSecret',
  '*.accessToken',
  '*.refreshToken',
  '*.apiKey',
  '*.token',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'latchkey' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
