/** A pino destination collecting a daemon's JSON log lines, for tests that read the log. */
import { Writable } from 'node:stream';

export interface LogRecord {
  msg?: string;
  time?: number;
  level?: number;
  [key: string]: unknown;
}

export interface LogSink {
  sink: Writable;
  lines: string[];
  records(): LogRecord[];
  /** Records whose message matches. */
  find(msg: string | RegExp): LogRecord[];
}

export function logSink(): LogSink {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const records = () => lines.map((line) => JSON.parse(line) as LogRecord);
  return {
    sink,
    lines,
    records,
    find: (msg) =>
      records().filter((r) => (typeof msg === 'string' ? r.msg === msg : msg.test(r.msg ?? ''))),
  };
}
