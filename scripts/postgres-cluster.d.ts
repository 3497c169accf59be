/** A running cluster (see startCluster). */
export interface Cluster {
  port: number;
  /** The URL of the database asked for, when one was. */
  url: string | undefined;
  /** The server's pid when it started. */
  pid: number;
  /** Shuts the server down, keeping its data. */
  stop: () => Promise<void>;
  /** Starts it again on the same data and port. */
  start: () => Promise<void>;
}
/** Starts a throwaway PostgreSQL cluster in `dir`; undefined when PostgreSQL is not installed. */
export function startCluster(dir: string, options?: { database?: string; fast?: boolean; maxConnections?: number }): Promise<Cluster | undefined>;
