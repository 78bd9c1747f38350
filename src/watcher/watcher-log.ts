/** The log the watcher and its parts write to (pino's shape), in its own module so they share it. */
export interface WatcherLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
